"""Reading Flux's Kustomizations, HelmReleases and their sources through the cache of the cluster
they live on.

Every kind is watched (list and watch, the agent's read-only identity), so a Kustomization or
HelmRelease added, changed, suspended or deleted arrives as a watch event: the apps are worked out
again, and the app it describes is evaluated again with Flux's new word on it. Nothing is ever
written to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from exporter.argocd import selector_matches
from exporter.config_types import AppConfig, DeployerRef, FluxAppSource, RepoCredentials
from exporter.flux import (
    HELM_GROUP,
    KUSTOMIZE_GROUP,
    SOURCE_GROUP,
    Lookup,
    kustomization_app,
    kustomization_state,
    substitution_inputs,
)
from exporter.flux.credentials import secret_ref, source_credentials
from exporter.flux.helmreleases import helmrelease_app, helmrelease_state, values_inputs
from exporter.flux.objects import inventory, spec_of
from exporter.model import DeployerState, KubeObject, ObjectKey
from exporter.pipeline.argo_apps import AppSourceError
from exporter.pipeline.clusters import Cluster

#: The kinds read and the versions tried, newest first (the older ones are what Flux 2.0 and
#: before serve): the objects apps are made from, and the sources those build from.
DEPLOYERS = ((KUSTOMIZE_GROUP, "Kustomization", ("v1", "v1beta2")),
             (HELM_GROUP, "HelmRelease", ("v2", "v2beta2", "v2beta1")))
SOURCES = tuple((SOURCE_GROUP, kind, ("v1", "v1beta2"))
                for kind in ("GitRepository", "HelmRepository", "HelmChart", "OCIRepository"))


async def _watch_kind(cluster: Cluster, group: str, kind: str, versions: tuple[str, ...],
                      namespace: str | None) -> str | None:
    """Watch one of Flux's kinds in whichever version the cluster serves; "" when it serves none,
    the reason when it cannot be watched, None when it is."""
    for version in versions:
        if (res := await cluster.resource(f"{group}/{version}", kind)) is not None:
            return await cluster.watch(res, namespace)
    return ""


async def read_flux(source: FluxAppSource, clusters: Mapping[str, Cluster]) -> FluxListing:
    """The apps the source's Kustomizations and HelmReleases describe, and their sources' own
    credentials when the source reads them. Raises ``AppSourceError``."""
    cluster = clusters.get(source.cluster)
    where = f"{source.origin}: Flux Kustomizations and HelmReleases on cluster {source.cluster}"
    if cluster is None or cluster.error is not None or cluster.cache is None:
        reason = cluster.error if cluster is not None and cluster.error else "not connected"
        raise AppSourceError(f"{where}: {reason}")
    namespace = source.namespace or None
    served = []
    # Sources may live in another namespace than what builds from them, so they are read everywhere.
    for group, kind, versions in (*DEPLOYERS, *SOURCES):
        problem = await _watch_kind(cluster, group, kind, versions, namespace if group != SOURCE_GROUP else None)
        if problem:
            raise AppSourceError(f"{where}: {problem}")
        if problem is None and group != SOURCE_GROUP:
            served.append((group, kind))
    if not served:
        raise AppSourceError(f"{where}: the cluster serves neither Kustomization nor HelmRelease (is Flux installed?)")
    cache = cluster.cache
    try:
        chosen = [o for group, kind in served for o in cache.objects(group, kind)
                  if (namespace is None or (o.get("metadata") or {}).get("namespace") == namespace)
                  and selector_matches(source.label_selector, (o.get("metadata") or {}).get("labels") or {})]
    except ValueError as exc:
        raise AppSourceError(f"{where}: {exc}") from None
    sources = {ObjectKey.of(o): o for _, kind, _ in SOURCES for o in cache.objects(SOURCE_GROUP, kind)}
    chosen.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"], o.get("kind", "")))
    lookup = await _reference_lookup(cluster, {
        (kind, ns) for o in chosen for kind, ns, _ in (*substitution_inputs(o), *values_inputs(o))
        if kind in ("ConfigMap", "Secret")})
    apps = [kustomization_app(o, sources, source, lookup) if o.get("kind") == "Kustomization"
            else helmrelease_app(o, sources, source, lookup) for o in chosen]
    if not source.read_source_secrets:
        return FluxListing(apps, [])
    return FluxListing(apps, await _source_credentials(cluster, apps, sources))


@dataclass
class FluxListing:
    """The apps a Flux source describes, and the credentials its sources' Secrets give (only
    with ``readSourceSecrets``)."""

    apps: list[AppConfig]
    credentials: list[RepoCredentials]


def _source_of(ref: DeployerRef, sources: Mapping[ObjectKey, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The repository an app's artifact comes from: its deployer's source, or for a HelmChart
    the repository the HelmChart names."""
    found = sources.get(ObjectKey(ref.source_group, ref.source_kind, ref.source_namespace, ref.source_name))
    if found is not None and ref.source_kind == "HelmChart":
        chart_ref = spec_of(found).get("sourceRef") or {}
        found = sources.get(ObjectKey(SOURCE_GROUP, str(chart_ref.get("kind") or ""), ref.source_namespace,
                                      str(chart_ref.get("name") or "")))
    return found


async def _source_credentials(cluster: Cluster, apps: list[AppConfig],
                              sources: Mapping[ObjectKey, Mapping[str, Any]]) -> list[RepoCredentials]:
    """The credentials of every source the apps build from that names a ``secretRef``. The Secret
    is an input of the apps (a rotation lists them again); one that cannot be used makes those
    apps Unknown, saying why."""
    used = [(app, found, ref) for app in apps if app.deployer is not None
            and (found := _source_of(app.deployer, sources)) is not None and (ref := secret_ref(found)) is not None]
    lookup = await _reference_lookup(cluster, {("Secret", ns) for _, _, (ns, _) in used})
    found_creds: dict[str, RepoCredentials] = {}
    for app, repository, (namespace, name) in used:
        assert app.deployer is not None
        app.deployer = replace(app.deployer, inputs=(*app.deployer.inputs, ("Secret", namespace, name)))
        try:
            creds = source_credentials(repository, lookup("Secret", namespace, name))
        except ValueError as exc:
            app.invalid = app.invalid or f"{app.origin}: {exc}"
            continue
        found_creds[creds.url] = creds
    return list(found_creds.values())


async def _reference_lookup(cluster: Cluster, needed: set[tuple[str, str]]) -> Lookup:
    """Reads ConfigMaps and Secrets (the Kustomizations' variables, the HelmReleases' values, the
    sources' credentials) out of the cache, with each (kind, namespace) of ``needed`` watched."""
    problems: dict[tuple[str, str], str] = {}
    for kind, namespace in sorted(needed):
        res = await cluster.resource("v1", kind)
        problem = f"the cluster does not serve v1 {kind}" if res is None else await cluster.watch(res, namespace)
        if problem is not None:
            problems[(kind, namespace)] = problem
    cache = cluster.cache

    def lookup(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        if (kind, namespace) in problems:
            raise ValueError(f"{kind} {namespace}/{name} cannot be read: {problems[(kind, namespace)]}")
        return cache.get(ObjectKey("", kind, namespace, name)) if cache is not None else None

    return lookup


def deployer_keys(ref: DeployerRef) -> frozenset[ObjectKey]:
    """The deploying object and its source: an event of either concerns the app."""
    return frozenset({ObjectKey(ref.group, ref.kind, ref.namespace, ref.name),
                      ObjectKey(ref.source_group, ref.source_kind, ref.source_namespace, ref.source_name)})


def read_deployer(ref: DeployerRef, cluster: Cluster) -> DeployerState:
    """What the deploying object says of itself now, from the cluster's cache."""
    cache = cluster.cache
    if cache is None:
        return DeployerState(f"Flux {ref.kind} {ref.namespace}/{ref.name}", "", failed="its cluster is not connected")
    own = cache.get(ObjectKey(ref.group, ref.kind, ref.namespace, ref.name))
    source = cache.get(ObjectKey(ref.source_group, ref.source_kind, ref.source_namespace, ref.source_name))
    return kustomization_state(own, source) if ref.kind == "Kustomization" else helmrelease_state(own, source)


def read_inventory(ref: DeployerRef, cluster: Cluster) -> dict[ObjectKey, KubeObject]:
    """The live objects the deploying object's inventory lists (those of types the cluster's cache
    watches): an object Flux applied stays the app's even if its labels were taken off."""
    cache = cluster.cache
    if cache is None or ref.kind != "Kustomization":
        return {}
    own = cache.get(ObjectKey(ref.group, ref.kind, ref.namespace, ref.name))
    found = {}
    for key, version in inventory(own):
        live = cache.get(key, version or None)
        if live is not None:
            found[key] = live
    return found
