"""Helm's release record as a real server keeps it: ``helm-release-secret.json`` is the release Secret
Helm's own library (helm-python-sdk, Helm 4) wrote on a real kube-apiserver 1.24 for
``tests/realserver/test_real_helm_release.py``'s chart, values ``debug: true``."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from exporter.kube.helm_releases import decode_release, latest_deployed, release_of
from exporter.model import ObjectKey

SECRET: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "helm-release-secret.json").read_text())
WEB = ObjectKey("apps", "Deployment", "shop", "web")


def test_the_release_names_its_revision_and_objects() -> None:
    record = decode_release(SECRET)
    assert record is not None
    assert (record.namespace, record.name, record.version) == ("shop", "web", 1)
    assert set(record.objects) == {WEB, ObjectKey("", "Secret", "shop", "creds")}
    assert record.deployer == "helm release web revision 1"


def test_the_record_keeps_which_fields_and_list_items_were_applied_not_their_values() -> None:
    record = decode_release(SECRET)
    assert record is not None
    container = record.objects[WEB]["spec"]["template"]["spec"]["containers"][0]
    assert [e["name"] for e in container["env"]] == ["MODE", "DEBUG"]
    assert {e["value"] for e in container["env"]} == {""}
    kept = json.dumps(list(record.objects.values()))
    assert "hunter2" not in kept and "s3cr3t" not in kept
    assert set(record.objects[ObjectKey("", "Secret", "shop", "creds")]["stringData"]) == {"password", "debug-token"}


def test_a_cluster_scoped_key_finds_an_object_the_manifest_left_without_namespace() -> None:
    record = decode_release(SECRET)
    assert record is not None
    assert record.find(ObjectKey("apps", "Deployment", "", "web")) is record.objects[WEB]


def test_the_newest_deployed_revision_is_the_record() -> None:
    older = copy.deepcopy(SECRET)
    older["metadata"]["labels"]["status"] = "superseded"
    other = copy.deepcopy(SECRET)
    other["metadata"]["labels"]["owner"] = "someone-else"
    assert latest_deployed([older, other]) is None
    found = latest_deployed([older, SECRET])
    assert found is not None and found.version == 1


def test_storage_helm_did_not_write_is_no_record() -> None:
    broken = copy.deepcopy(SECRET)
    broken["data"]["release"] = "bm90IGEgcmVsZWFzZQ=="  # "not a release"
    assert decode_release(broken) is None
    assert decode_release({"kind": "Secret", "data": {}}) is None


def test_the_release_of_an_object_comes_from_helm_s_annotations() -> None:
    annotations = {"meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "shop"}
    assert release_of({"metadata": {"annotations": annotations}}) == ("shop", "web")
    assert release_of({"metadata": {"annotations": {"meta.helm.sh/release-name": "web"}}}) is None
    assert release_of({"metadata": {}}) is None
