"""When the agent may say it is ready (``/readyz``), and if not, why.

Ready means every number the agent exports can be trusted: each app source has listed its apps,
every supervised task is running, every cluster has been listed and is reachable, and no watch has
been failing past the staleness bound. The first reason found is the one reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from exporter.pipeline.clusters import Cluster


def not_ready_reason(*, never_listed: str | None, down: Mapping[str, str], started: bool,
                     clusters: Iterable[Cluster]) -> str | None:
    """``never_listed``: why an app source has never listed its apps; ``down``: supervised tasks
    not running, with why; ``started``: the first evaluation of every app is done."""
    if never_listed is not None:
        return never_listed
    if down:
        return "; ".join(down.values())
    clusters = list(clusters)
    if not started:
        return next((c.error for c in clusters if c.error), "caches have not synced yet")
    for cluster in clusters:
        if cluster.error is not None:
            return cluster.error
        for informer in cluster.cache.informers if cluster.cache is not None else ():
            if informer.reported_stale:
                return cluster.stale_reason(informer)
    return None
