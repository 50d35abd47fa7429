"""The resource catalogue a simulated API server announces in discovery.

Built-in resources come from discovery documents captured from a real Kubernetes 1.24 API server
(``data/discovery_*.json``). Group versions that ``/apis`` lists but that were not captured are
filled from the catalogue bundled with kmock (``data/discovery_supplement.json``, GA versions only,
reshaped like 1.24 answers); beta versions with no document at all are left out of ``/apis``, so
every group version the server announces can also be fetched, as clients expect.

CustomResourceDefinitions add and remove entries at run time, exactly as the real server's
discovery changes when a CRD is created or deleted.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

from exporter.kube.client import ResourceInfo

_DATA = resources.files("exporter.simulator") / "data"

#: Captured group-version documents, by group version.
_CAPTURED = {
    "v1": "discovery_api_v1.json",
    "apps/v1": "discovery_apis_apps_v1.json",
    "autoscaling/v2": "discovery_apis_autoscaling_v2.json",
    "batch/v1": "discovery_apis_batch_v1.json",
    "networking.k8s.io/v1": "discovery_apis_networking.k8s.io_v1.json",
    "rbac.authorization.k8s.io/v1": "discovery_apis_rbac.authorization.k8s.io_v1.json",
    "apiextensions.k8s.io/v1": "discovery_apis_apiextensions.k8s.io_v1.json",
}

#: Groups whose objects carry ``metadata.generation`` (as captured: core, RBAC and autoscaling
#: objects have none; apps, batch, networking, policy, CRDs and custom resources do).
NO_GENERATION_GROUPS = frozenset({"", "rbac.authorization.k8s.io", "autoscaling"})


def load_json(name: str) -> Any:
    return json.loads((_DATA / name).read_text(encoding="utf-8"))


#: A served resource: the client's own type, so the simulator and the agent describe resources alike.
SimResource = ResourceInfo


class Catalogue:
    """Discovery documents plus the lookups the simulated server needs."""

    def __init__(self) -> None:
        self.version_doc: dict[str, Any] = load_json("discovery_version.json")
        self.api_doc: dict[str, Any] = load_json("discovery_api.json")
        self.lists: dict[str, dict[str, Any]] = {gv: load_json(f) for gv, f in _CAPTURED.items()}
        for doc in load_json("discovery_supplement.json"):
            self.lists.setdefault(doc["groupVersion"], doc)
        apis = load_json("discovery_apis.json")
        groups = []
        for g in apis["groups"]:
            versions = [v for v in g["versions"] if v["groupVersion"] in self.lists]
            if versions and g["preferredVersion"]["groupVersion"] in self.lists:
                groups.append(dict(g, versions=versions))
        self.apis_doc: dict[str, Any] = dict(apis, groups=groups)
        self._crd_groups: dict[str, list[str]] = {}  # CRD name -> group versions it added
        self._index()
        #: Built-in resources (not from CRDs), as (group, version, plural).
        self.builtin = frozenset(self.by_path)

    def _index(self) -> None:
        self.by_path: dict[tuple[str, str, str], SimResource] = {}
        self.by_kind: dict[tuple[str, str], SimResource] = {}
        preferred = {g["name"]: g["preferredVersion"]["version"] for g in self.apis_doc["groups"]}
        preferred[""] = "v1"
        for gv, doc in self.lists.items():
            group, _, version = gv.rpartition("/")
            for r in doc["resources"]:
                if "/" in r["name"]:
                    continue
                res = SimResource(group, version, r["kind"], r["name"], bool(r["namespaced"]))
                self.by_path[(group, version, r["name"])] = res
                current = self.by_kind.get((group, r["kind"]))
                if current is None or version == preferred.get(group):
                    self.by_kind[(group, r["kind"])] = res

    def group_doc(self, group: str) -> dict[str, Any] | None:
        for g in self.apis_doc["groups"]:
            if g["name"] == group:
                return {"apiVersion": "v1", "kind": "APIGroup", **copy.deepcopy(g)}
        return None

    def add_crd(self, crd: dict[str, Any]) -> None:
        """Serve the resource a CustomResourceDefinition declares, in every served version."""
        self.remove_crd(crd)
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        group = spec.get("group") or ""
        plural = names.get("plural") or ""
        if not group or not plural or not names.get("kind"):
            return
        served = [v for v in spec.get("versions") or [] if v.get("served", True) and v.get("name")]
        if not served:
            return
        added: list[str] = []
        for v in served:
            gv = f"{group}/{v['name']}"
            doc = self.lists.setdefault(gv, {"apiVersion": "v1", "groupVersion": gv,
                                              "kind": "APIResourceList", "resources": []})
            entry: dict[str, Any] = {
                "kind": names["kind"], "name": plural, "namespaced": spec.get("scope") == "Namespaced",
                "singularName": names.get("singular") or names["kind"].lower(),
                "verbs": ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
            }
            if names.get("shortNames"):
                entry["shortNames"] = list(names["shortNames"])
            if names.get("categories"):
                entry["categories"] = list(names["categories"])
            doc["resources"].append(entry)
            if "status" in (v.get("subresources") or {}):
                doc["resources"].append({"kind": names["kind"], "name": f"{plural}/status",
                                         "namespaced": entry["namespaced"], "singularName": "",
                                         "verbs": ["get", "patch", "update"]})
            added.append(gv)
        storage = next((v["name"] for v in served if v.get("storage")), served[0]["name"])
        versions = [{"groupVersion": f"{group}/{v['name']}", "version": v["name"]} for v in served]
        for g in self.apis_doc["groups"]:
            if g["name"] == group:
                known = {v["groupVersion"] for v in g["versions"]}
                g["versions"].extend(v for v in versions if v["groupVersion"] not in known)
                break
        else:
            self.apis_doc["groups"].append({
                "name": group, "versions": versions,
                "preferredVersion": {"groupVersion": f"{group}/{storage}", "version": storage}})
        self._crd_groups[crd["metadata"]["name"]] = added
        self._index()

    def remove_crd(self, crd: dict[str, Any]) -> list[SimResource]:
        """Stop serving what a CRD declared; returns the resources that went away."""
        added = self._crd_groups.pop((crd.get("metadata") or {}).get("name", ""), [])
        gone: list[SimResource] = []
        plural = ((crd.get("spec") or {}).get("names") or {}).get("plural")
        for gv in added:
            doc = self.lists.get(gv)
            if doc is None:
                continue
            group, _, version = gv.rpartition("/")
            gone.extend(r for r in [self.by_path.get((group, version, plural or ""))] if r)
            doc["resources"] = [r for r in doc["resources"] if r["name"].split("/")[0] != plural]
            if not doc["resources"]:
                del self.lists[gv]
        for g in list(self.apis_doc["groups"]):
            g["versions"] = [v for v in g["versions"] if v["groupVersion"] in self.lists]
            if not g["versions"]:
                self.apis_doc["groups"].remove(g)
            elif g["preferredVersion"]["groupVersion"] not in self.lists:
                g["preferredVersion"] = dict(g["versions"][0])
        self._index()
        return gone
