"""``argocd_app_info`` with Argo CD's own labels, for the alert rules and dashboards written for Argo CD.

Argo CD's application controller exports one ``argocd_app_info`` sample of value 1 per
Application, its state in labels: ``namespace``, ``name``, ``project``, ``autosync_enabled``,
``repo``, ``dest_server``, ``dest_namespace``, ``sync_status``, ``health_status`` and ``operation``.
Expressions such as ``argocd_app_info{sync_status="OutOfSync"} == 1`` or Argo CD's dashboard's
``sum(argocd_app_info{...}) by (health_status)`` then run unchanged against this agent.

The family is opt-in (``metrics.argocdAppInfo``, ``demo --argocd-metrics``): on a Prometheus that
also scrapes Argo CD itself the names would collide, and its label values churn with every state
change, which this agent's own families avoid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from exporter.config_types import AppConfig
from exporter.model import AppStatus
from exporter.urls import safe_url

__all__ = ["ARGOCD_INFO_LABELS", "ArgoCDNames", "argocd_repo", "info_sample"]

#: The labels of ``argocd_app_info``, in Argo CD's order.
ARGOCD_INFO_LABELS = ("namespace", "name", "project", "autosync_enabled", "repo", "dest_server",
                      "dest_namespace", "sync_status", "health_status", "operation")

#: Where Argo CD's Applications usually live, and the namespace label of apps not read from one.
DEFAULT_NAMESPACE = "argocd"

#: Argo CD's name for the cluster it runs in.
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"

_SCP_LIKE = re.compile(r"^[^/:@]+@[^/:]+:")


@dataclass(frozen=True)
class ArgoCDNames:
    """What the labels need beyond an app and its status: the ``namespace`` label of apps that
    were not read from an Application, and each configured cluster's API server URL (Argo CD's
    ``dest_server``)."""

    namespace: str = DEFAULT_NAMESPACE
    servers: Mapping[str, str] = field(default_factory=dict)


def argocd_repo(url: str) -> str:
    """A repository URL as Argo CD's ``repo`` label carries it (its ``NormalizeGitURL``: lower
    case, ``git@host:path`` as ``git@host/path``, no ``.git`` suffix), without credentials."""
    url = url.strip().lower()
    if _SCP_LIKE.match(url):
        return url.replace(":", "/", 1).removesuffix(".git")
    url = safe_url(url)
    parts = urlsplit(url)
    if parts.scheme == "ssh":
        return urlunsplit(("", parts.netloc, parts.path.removesuffix(".git"), parts.query, "")).lstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.removesuffix(".git"), parts.query, parts.fragment))


def info_sample(app: AppConfig, st: AppStatus, names: ArgoCDNames) -> tuple[str, ...]:
    """The label values of one app's ``argocd_app_info`` sample, in ``ARGOCD_INFO_LABELS`` order.

    ``operation`` is always empty: this agent never syncs, so no operation is ever running."""
    origin = app.argocd
    namespace = origin.namespace if origin is not None else names.namespace
    server = (origin.server if origin is not None and origin.server else "") \
        or names.servers.get(app.destination.cluster, "")
    autosync = origin is not None and origin.autosync
    return (namespace, st.name, app.project, "true" if autosync else "false", argocd_repo(app.source.repo_url),
            server, app.destination.namespace, st.sync.value, st.health.value, "")
