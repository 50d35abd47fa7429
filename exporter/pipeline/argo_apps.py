"""Reading Argo CD's Applications and AppProjects through the cache of the cluster they live on.

The agent watches both kinds (list and watch, its read-only identity), so an Application added,
changed or deleted in Argo CD arrives as a watch event and the apps are worked out again; nothing
polls and nothing is ever written to them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from exporter.argocd import application_app, project_windows, selector_matches
from exporter.config_types import AppConfig, ArgoCDAppSource, SyncWindowConfig
from exporter.pipeline.clusters import Cluster

GROUP = "argoproj.io"
API_VERSION = "argoproj.io/v1alpha1"


class AppSourceError(Exception):
    """The Applications of one ``appSources[]`` entry cannot be read now."""


async def read_applications(source: ArgoCDAppSource, clusters: Mapping[str, Cluster],
                            known: Collection[str]) -> tuple[list[AppConfig], list[SyncWindowConfig]]:
    """The apps the source's Applications describe, by name, and the sync windows of their
    AppProjects. Raises ``AppSourceError``."""
    cluster = clusters.get(source.cluster)
    where = f"{source.origin}: Argo CD Applications on cluster {source.cluster}"
    if cluster is None or cluster.error is not None or cluster.cache is None:
        reason = cluster.error if cluster is not None and cluster.error else "not connected"
        raise AppSourceError(f"{where}: {reason}")
    res = await cluster.resource(API_VERSION, "Application")
    if res is None:
        raise AppSourceError(f"{where}: the cluster does not serve {API_VERSION} Application (is Argo CD installed?)")
    problem = await cluster.watch(res, source.namespace)
    if problem is not None:
        raise AppSourceError(f"{where}: {problem}")
    try:
        chosen = [o for o in cluster.cache.objects(GROUP, "Application")
                  if (o.get("metadata") or {}).get("namespace") == source.namespace
                  and selector_matches(source.label_selector, (o.get("metadata") or {}).get("labels") or {})]
    except ValueError as exc:
        raise AppSourceError(f"{where}: {exc}") from None
    apps = [application_app(o, source, known) for o in sorted(chosen, key=lambda o: o["metadata"]["name"])]
    windows: list[SyncWindowConfig] = []
    projects = await cluster.resource(API_VERSION, "AppProject")
    if projects is not None and await cluster.watch(projects, source.namespace) is None:
        used = {a.project for a in apps}
        for project in cluster.cache.objects(GROUP, "AppProject"):
            meta = project.get("metadata") or {}
            if meta.get("namespace") == source.namespace and meta.get("name") in used:
                windows += project_windows(project, source)
    return apps, windows
