"""CI: the built image under the Helm chart's own identity, against a real kube-apiserver.

The chart is rendered by Helm's engine (default values, then namespaced RBAC); its ServiceAccount,
RBAC and ConfigMap are applied to a real Kubernetes 1.24 control plane; a token is minted for that
ServiceAccount; and the image runs ``check`` with it as the chart runs the agent (read-only root,
uid 65532, no capabilities, the in-cluster credentials mounted where Kubernetes mounts them; host
network). Every app must get the right verdict with no 403, apps outside a namespaced install's
namespaces must be Unknown with a "forbidden" reason, and the API server's audit log must show that
ServiceAccount using get, list and watch only.

Run by ``.ci/image`` with the image name; needs ``KUBEBUILDER_ASSETS`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "realserver"))

from control_plane import ControlPlane, assets_dir  # noqa: E402

CHART = REPO / "helm" / "gitops-drift-exporter"
NAMESPACE = "gitops"
IDENTITY_KINDS = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap"}
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "CI", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
           "GIT_COMMITTER_NAME": "CI", "GIT_COMMITTER_EMAIL": "ci@example.invalid"}


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{mode: live}}\n"


#: app -> (namespace, whether its object is applied)
APPS = {"web": ("shop", True), "gone": ("shop", False), "api": ("billing", True)}


def git_repo(root: Path) -> Path:
    repo = root / "repo"
    for app in APPS:
        (repo / app).mkdir(parents=True)
        (repo / app / "cm.yaml").write_text(configmap(app))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "apps"]):
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)
    subprocess.run(["chown", "-R", "65532:65532", str(repo)], check=True)  # the agent's uid reads it
    return repo


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values, name="gde", namespace=NAMESPACE, is_install=True)
    return [doc for path, text in sorted(manifests.items()) if path.endswith(".yaml")
            for doc in yaml.safe_load_all(text) if doc]


def run_check(image: str, plane: ControlPlane, docs: list[dict[str, Any]],
              work: Path) -> tuple[dict[str, dict[str, Any]], int, str]:
    """``check --output json`` in the image as the chart's ServiceAccount: apps by name, the exit
    code, and the ServiceAccount's user name as the audit log records it."""
    account = next(d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount")
    token = plane.kubectl("create", "token", account, "-n", NAMESPACE, "--duration=1h").strip()
    secrets = work / "serviceaccount"
    secrets.mkdir(exist_ok=True)
    (secrets / "token").write_text(token)
    shutil.copy(plane.work / "ca.crt", secrets / "ca.crt")
    (secrets / "namespace").write_text(NAMESPACE)
    for path in (secrets, *secrets.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    config = work / "config.yaml"
    config.write_text(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.yaml"])
    config.chmod(0o644)
    port = plane.url.rsplit(":", 1)[1]
    done = subprocess.run([
        "podman", "run", "--rm", "--network", "host", *os.environ.get("IMAGE_ULIMITS", "").split(),
        "--read-only", "--user", "65532:65532", "--cap-drop=ALL", "--security-opt", "no-new-privileges",
        "--tmpfs", "/tmp", "--tmpfs", "/var/cache/gitops-drift-exporter",
        "-v", f"{secrets}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
        "-v", f"{config}:/etc/gitops-drift-exporter/config.yaml:ro", "-v", f"{work.parent / 'repo'}:/repo:ro",
        "-e", "KUBERNETES_SERVICE_HOST=127.0.0.1", "-e", f"KUBERNETES_SERVICE_PORT={port}",
        image, "check", "--config", "/etc/gitops-drift-exporter/config.yaml", "--output", "json",
    ], capture_output=True, text=True, timeout=300)
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        raise SystemExit(f"check exited {done.returncode}: {done.stdout[-1000:]} {done.stderr[-2000:]}")
    apps = {a["name"]: a for a in json.loads(done.stdout)}
    return apps, done.returncode, f"system:serviceaccount:{NAMESPACE}:{account}"


def main(image: str) -> None:
    assets = assets_dir()
    if assets is None:
        raise SystemExit("KUBEBUILDER_ASSETS is not set: .ci/run unpacks the Kubernetes binaries and sets it")
    root = Path(tempfile.mkdtemp(prefix="chart-identity-"))
    root.chmod(0o755)
    plane = ControlPlane(assets, root / "plane").start()
    try:
        git_repo(root)
        for namespace in (NAMESPACE, "shop", "billing"):
            plane.kubectl("create", "namespace", namespace)
        for app, (namespace, applied) in APPS.items():
            if applied:
                plane.kubectl("apply", "-n", namespace, "-f", "-", input=configmap(app))
        apps = [{"name": app, "source": {"repoURL": "file:///repo", "targetRevision": "main", "path": app},
                 "destination": {"cluster": "in-cluster", "namespace": namespace}}
                for app, (namespace, _) in APPS.items()]
        config = {"clusters": [{"name": "in-cluster", "inCluster": True}], "apps": apps}
        expected = {
            "cluster-wide": {"web": "Healthy", "gone": "Missing", "api": "Healthy"},
            "namespaced": {"web": "Healthy", "gone": "Missing", "api": "Unknown"},
        }
        # check's exit codes: 1 for an app in a bad state, 2 for one the agent cannot see
        expected_exit = {"cluster-wide": 1, "namespaced": 2}
        for mode, rbac in (("cluster-wide", {}), ("namespaced", {"namespaced": True, "namespaces": ["shop"]})):
            docs = render({"config": config, "rbac": rbac} if rbac else {"config": config})
            identity = [d for d in docs if d["kind"] in IDENTITY_KINDS]
            plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(identity))
            work = root / mode
            work.mkdir()
            work.chmod(0o755)
            result, code, user = run_check(image, plane, docs, work)
            states = {name: app["status"] for name, app in result.items()}
            reasons = {name: app["reason"] for name, app in result.items()}
            print(f"chart identity, {mode} RBAC: " + ", ".join(f"{n}={s}" for n, s in sorted(states.items())))
            if states != expected[mode]:
                raise SystemExit(f"{mode}: expected {expected[mode]}, got {states}: {reasons}")
            if code != expected_exit[mode]:
                raise SystemExit(f"{mode}: check exited {code}, expected {expected_exit[mode]}")
            for name, reason in reasons.items():
                forbidden = "forbidden" in reason.lower() or "403" in reason
                if forbidden != (mode == "namespaced" and name == "api"):
                    raise SystemExit(f"{mode}: app {name}: unexpected reason {reason!r}")
            verbs = plane.verbs_of(user)
            print(f"  audit log, {user}: " + ", ".join(f"{v} {n}" for v, n in sorted(verbs.items())))
            if not verbs or set(verbs) - {"get", "list", "watch"}:
                raise SystemExit(f"{mode}: the chart's identity used {verbs}")
            for doc in identity:  # the next mode starts from its own RBAC only
                plane.kubectl("delete", doc["kind"], doc["metadata"]["name"],
                              *(["-n", NAMESPACE] if doc["kind"] not in ("ClusterRole", "ClusterRoleBinding") else []),
                              "--ignore-not-found")
    finally:
        plane.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
