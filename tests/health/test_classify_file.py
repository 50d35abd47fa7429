"""``classify_file``: the ``health`` command's view of one file."""

from __future__ import annotations

from pathlib import Path

from exporter.health import classify_file, load_first_document

DATA = Path(__file__).parent / "data"


def test_good_file_is_classified_with_its_identity() -> None:
    assert classify_file(str(DATA / "deployment-paused.yaml")) == {
        "file": str(DATA / "deployment-paused.yaml"), "apiVersion": "apps/v1", "kind": "Deployment",
        "name": "web", "status": "Suspended", "message": "Deployment is paused"}


def test_timestamps_stay_strings_as_the_api_server_sends_them() -> None:
    doc = load_first_document((DATA / "deployment-paused.yaml").read_text())
    assert doc["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"


def test_file_with_empty_documents_and_trailing_separator_reads_the_first_object() -> None:
    result = classify_file(str(DATA / "trailing-separator.yaml"))
    assert (result["kind"], result["name"], result["status"]) == ("PersistentVolumeClaim", "data", "Healthy")


def test_unparsable_file_is_unknown_with_the_line_of_the_error() -> None:
    result = classify_file(str(DATA / "unparsable.yaml"))
    assert result["status"] == "Unknown"
    assert result["message"].startswith(f"{DATA / 'unparsable.yaml'}:6:") and "invalid YAML" in result["message"]


def test_missing_file_is_unknown_not_an_exception(tmp_path: Path) -> None:
    result = classify_file(str(tmp_path / "nope.yaml"))
    assert result["status"] == "Unknown" and "cannot read" in result["message"]


def test_file_that_is_not_an_object_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert classify_file(str(path))["message"].endswith("expected a Kubernetes object, got list")


def test_kind_without_a_check_has_status_none(tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
    assert classify_file(str(path))["status"] is None
