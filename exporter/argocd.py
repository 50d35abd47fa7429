"""Apps from Argo CD: each ``Application`` (argoproj.io/v1alpha1) becomes an app, and each
``AppProject``'s sync windows become windows for that project's apps.

Teams that run Argo CD keep it as the source of truth for what is deployed; reading its objects
lets this agent audit the same apps without a second list to keep in step. The objects are only
read: the agent lists and watches them with its read-only identity.

An Application names clusters by Argo CD's destination (``server`` URL or ``name``); ``appSources[]
.destinations`` maps those to configured clusters, a destination that already is a configured
cluster's name needs no mapping, and ``https://kubernetes.default.svc`` is the cluster the
Applications live on. An Application the agent cannot turn into an app (a config management
plugin, a kustomize option it does not apply, an unmapped destination) is still an app: Unknown,
with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from exporter.config import ConfigError, parse_app
from exporter.config_types import (
    AppConfig,
    ArgoCDAppSource,
    ArgoCDOrigin,
    Destination,
    SourceConfig,
    SyncWindowConfig,
)
from exporter.humanize import parse_duration
from exporter.values import merge_values

__all__ = ["IN_CLUSTER", "application_app", "project_windows", "selector_matches"]

IN_CLUSTER = "https://kubernetes.default.svc"

#: Helm keys of an Argo CD source with no bearing on what renders.
_NO_EFFECT_HELM = ("passCredentials", "version")


def _where(obj: dict[str, Any], source: ArgoCDAppSource) -> str:
    meta = obj.get("metadata") or {}
    return f"Application {meta.get('namespace', source.namespace)}/{meta.get('name')} on cluster {source.cluster}"


def _cluster(destination: dict[str, Any], source: ArgoCDAppSource, clusters: Collection[str]) -> str:
    """The configured cluster an Argo CD destination means; ValueError naming it when none."""
    for key in ("name", "server"):
        value = destination.get(key)
        if not value:
            continue
        if value in source.destinations:
            return source.destinations[value]
        if key == "name" and value in clusters:
            return str(value)
        if value == IN_CLUSTER or (key == "name" and value == "in-cluster"):
            return source.cluster
    shown = destination.get("name") or destination.get("server") or "(none)"
    raise ValueError(f"destination {shown} is not a configured cluster; map it in appSources[].destinations")


def _helm_parameters(helm: dict[str, Any]) -> dict[str, Any]:
    """Argo CD's ``helm.parameters`` (``--set``) as values, read by Helm's own parser."""
    import helm_python

    values: dict[str, Any] = {}
    for item in helm.pop("parameters", None) or []:
        expression = f"{item.get('name')}={item.get('value', '')}"
        parsed = helm_python.parse_set_string_values(expression) if item.get("forceString") \
            else helm_python.parse_set_string(expression)
        values = merge_values(values, parsed)
    return values


def _source(spec: dict[str, Any]) -> dict[str, Any]:
    """One Argo CD source as this agent's source mapping; unsupported parts are left in, so the
    config check names them."""
    out = copy.deepcopy(spec)
    if "plugin" in out:
        raise ValueError("its source uses a config management plugin, which this agent does not run")
    if out.get("chart") and "://" not in str(out.get("repoURL", "")):
        out["repoURL"] = f"oci://{out['repoURL']}"  # Argo CD writes OCI Helm repositories without a scheme
    helm = out.get("helm")
    if isinstance(helm, dict):
        for key in _NO_EFFECT_HELM:
            helm.pop(key, None)
        if helm.get("parameters"):
            try:
                extra = _helm_parameters(helm)
            except ImportError:
                raise ValueError("helm.parameters need helm-python-sdk") from None
            values = helm.get("valuesObject") or {}
            helm["valuesObject"] = merge_values(values if isinstance(values, dict) else {}, extra)
        helm.pop("parameters", None)
    out.pop("name", None)  # a source's display name in newer Argo CD versions
    return out


def application_app(obj: dict[str, Any], source: ArgoCDAppSource, clusters: Collection[str]) -> AppConfig:
    """The app an Application describes; an app with ``invalid`` set when it cannot be evaluated."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    name = str(meta.get("name") or "")
    where = _where(obj, source)
    destination = spec.get("destination") or {}
    origin = ArgoCDOrigin(namespace=str(meta.get("namespace") or source.namespace),
                          server=str(destination.get("server") or ""),
                          autosync=isinstance(spec.get("syncPolicy"), dict)
                          and spec["syncPolicy"].get("automated") is not None)
    data: dict[str, Any] = {"name": name, "project": spec.get("project") or "default",
                            "labels": {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}}
    try:
        data["destination"] = {"cluster": _cluster(destination, source, clusters),
                               "namespace": destination.get("namespace") or ""}
        if spec.get("sources"):
            data["sources"] = [_source(s) for s in spec["sources"]]
        else:
            data["source"] = _source(spec.get("source") or {})
        if spec.get("ignoreDifferences"):
            data["ignoreDifferences"] = spec["ignoreDifferences"]
        app = parse_app(data, origin=where, path="spec", clusters=clusters)
    except (ValueError, ConfigError) as exc:
        reason = "; ".join(e.removeprefix(f"{where}: ") for e in exc.errors) if isinstance(exc, ConfigError) \
            else str(exc)
        first = (spec.get("sources") or [spec.get("source") or {}])[0] or {}
        return AppConfig(name=name, project=data["project"], labels=data["labels"], origin=where,
                         source=SourceConfig(repo_url=str(first.get("repoURL") or ""),
                                             target_revision=str(first.get("targetRevision") or "HEAD"),
                                             path=str(first.get("path") or ".")),
                         destination=Destination(cluster=data.get("destination", {}).get("cluster", ""),
                                                 namespace=str(destination.get("namespace") or "")),
                         invalid=f"{where}: {reason}", argocd=origin)
    app.origin = where
    app.argocd = origin
    return app


def project_windows(project: dict[str, Any], source: ArgoCDAppSource) -> list[SyncWindowConfig]:
    """An AppProject's ``syncWindows`` as windows covering only that project's apps. A window
    whose schedule or duration does not parse is left out (Argo CD would refuse it too)."""
    name = str((project.get("metadata") or {}).get("name") or "")
    windows = []
    for i, w in enumerate((project.get("spec") or {}).get("syncWindows") or []):
        if not isinstance(w, dict) or w.get("kind") not in ("allow", "deny"):
            continue
        try:
            duration = parse_duration(str(w.get("duration") or ""))
        except ValueError:
            continue
        if duration <= 0 or len(str(w.get("schedule") or "").split()) != 5:
            continue
        clusters = [source.destinations.get(c, source.cluster if c in (IN_CLUSTER, "in-cluster") else c)
                    for c in w.get("clusters") or []]
        windows.append(SyncWindowConfig(
            kind=w["kind"], schedule=str(w["schedule"]), duration=duration, name=f"{name}[{i}]",
            time_zone=str(w.get("timeZone") or "UTC"), applications=list(w.get("applications") or []),
            namespaces=list(w.get("namespaces") or []), clusters=clusters, projects=[name]))
    return windows


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Whether ``labels`` satisfy an equality-based label selector (``a=b,c!=d,e,!f``).
    Raises ``ValueError`` for set-based terms (``in``, ``notin``), which this reader does not take."""
    if "(" in selector:
        raise ValueError(f"label selector '{selector}': set-based terms (in, notin) are not supported; "
                         "use =, ==, != or a label's existence")
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, value = (p.strip() for p in term.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = (p.strip() for p in term.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True
