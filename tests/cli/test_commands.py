"""The one-shot commands people run by hand or in pipelines, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from exporter.clock import FakeClock
from exporter.windows import FreezeLog

DEPLOYMENT_DEGRADED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, generation: 2}
spec: {replicas: 2}
status:
  observedGeneration: 2
  conditions:
    - {type: Progressing, status: "False", reason: ProgressDeadlineExceeded, message: 'ReplicaSet "api-1" has timed out progressing.'}
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "exporter.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def test_health_prints_one_json_line_per_file_and_exits_one_when_something_is_bad(tmp_path: Path):
    bad = tmp_path / "deploy.yaml"
    bad.write_text(DEPLOYMENT_DEGRADED)
    cm = tmp_path / "cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    result = cli("health", "--output", "json", str(bad), str(cm))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert lines[0] == {"file": str(bad), "apiVersion": "apps/v1", "kind": "Deployment", "name": "api",
                        "status": "Degraded", "message": 'Deployment "api" exceeded its progress deadline',
                        "source": "specific"}
    assert lines[1]["status"] is None


def test_health_classifies_every_document_of_a_file_and_every_item_of_a_list(tmp_path: Path):
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(DEPLOYMENT_DEGRADED + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"
                         "apiVersion: v1\nkind: List\nitems:\n"
                         "  - {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data}, "
                         "status: {phase: Bound}}\n"
                         "  - {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: logs}, "
                         "status: {phase: Lost}}\n---\n- not an object\n")
    result = cli("health", "--output", "json", str(manifests))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["kind"], r["name"], r["status"]) for r in lines] == [
        ("Deployment", "api", "Degraded"), ("ConfigMap", "c", None), ("PersistentVolumeClaim", "data", "Healthy"),
        ("PersistentVolumeClaim", "logs", "Degraded"), (None, None, "Unknown")]
    assert lines[-1]["message"] == f"{manifests}: document 4: expected a Kubernetes object, got list"
    assert result.returncode == 2  # a document that is not an object outranks the degraded ones


def test_report_freeze_prints_the_recorded_violations_as_markdown(tmp_path: Path):
    log_path = tmp_path / "freeze.jsonl"
    FreezeLog(str(log_path), FakeClock(time.time() - 3600)).record_git("payments", "a" * 40, "b" * 40)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"clusters": [{"name": "c", "inCluster": True}], "freezeLog": str(log_path)}))
    result = cli("report", "freeze", "--config", str(config), "--since", "2h", "--output", "markdown")
    assert result.returncode == 0, result.stderr
    assert "payments" in result.stdout and "| git |" in result.stdout.replace("|git|", "| git |")
    older = cli("report", "freeze", "--config", str(config), "--since", "30m", "--output", "json")
    assert json.loads(older.stdout)["violations"] == []


def test_report_freeze_without_a_freeze_log_is_a_clear_error(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("clusters: [{name: c, inCluster: true}]\n")
    result = cli("report", "freeze", "--config", str(config))
    assert result.returncode == 2 and "freezeLog is not set" in result.stderr and "Traceback" not in result.stderr


def test_notify_test_reaches_the_channel_through_slack_sdk(tmp_path: Path):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url_file = tmp_path / "slack-url"
        url_file.write_text(f"http://127.0.0.1:{server.server_address[1]}/services/T/B/x\n")
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({"clusters": [{"name": "c", "inCluster": True}], "notifications": {
            "channels": [{"name": "ops", "type": "slack", "webhookUrlFile": str(url_file)}]}}))
        result = cli("notify", "test", "ops", "--config", str(config))
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert len(received) == 1 and "test" in json.dumps(received[0]).lower()
    assert "services/T/B/x" not in result.stdout + result.stderr


def test_notify_test_of_an_unknown_channel_is_a_clear_error(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("clusters: [{name: c, inCluster: true}]\n")
    result = cli("notify", "test", "nope", "--config", str(config))
    assert result.returncode == 2 and "nope" in result.stderr and "Traceback" not in result.stderr


def test_run_with_a_peer_template_lacking_the_shard_placeholder_does_not_start(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("clusters: [{name: c, inCluster: true}]\n")
    result = cli("run", "--config", str(config), "--listen", "127.0.0.1:0", "--shard", "1/3",
                 "--peer-url-template", "http://gde.gde-shards:8080")
    assert result.returncode == 2
    assert "--peer-url-template: 'http://gde.gde-shards:8080' must contain {shard}" in result.stderr
    assert "Traceback" not in result.stderr
