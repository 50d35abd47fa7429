"""A real Kubernetes control plane on loopback (1.24 or 1.36), as controller-runtime's envtest runs one.

etcd, kube-apiserver (with an audit log) and kube-controller-manager from the folder named by
``KUBEBUILDER_ASSETS`` (``.ci/run`` fills one per version from ``../shared/k8s-1.24`` and
``../shared/k8s-1.36`` and Debian's etcd). The
test's own identity is an admin token; the agent under test gets a ServiceAccount bound to a
ClusterRole with get, list and watch only, and :meth:`ControlPlane.verbs_of` reads back from the
audit log every verb that identity used.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

AGENT_NAMESPACE = "gitops-agent"
AGENT_ACCOUNT = "drift-reader"
AGENT_USER = f"system:serviceaccount:{AGENT_NAMESPACE}:{AGENT_ACCOUNT}"

READ_ONLY_RBAC = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {AGENT_NAMESPACE}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: {AGENT_ACCOUNT}, namespace: {AGENT_NAMESPACE}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: drift-reader}}
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: [get, list, watch]
  - nonResourceURLs: ["*"]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: drift-reader}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: drift-reader}}
subjects: [{{kind: ServiceAccount, name: {AGENT_ACCOUNT}, namespace: {AGENT_NAMESPACE}}}]
"""

CONTROLLERS = "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service,-ttl,-persistentvolume-binder," \
              "-attachdetach,-horizontalpodautoscaling"


def assets_dirs() -> list[Path]:
    """Every folder with kube-apiserver, kube-controller-manager and etcd that ``KUBEBUILDER_ASSETS``
    names: one folder as envtest takes it, or several joined by ``:`` (one per Kubernetes version,
    as ``.ci/run`` sets it: ``build/k8s-1.24:build/k8s-1.36``)."""
    value = os.environ.get("KUBEBUILDER_ASSETS") or ""
    needed = ("kube-apiserver", "kube-controller-manager", "etcd")
    return [Path(part) for part in value.split(os.pathsep)
            if part and all((Path(part) / name).exists() for name in needed)]


def assets_dir() -> Path | None:
    """The first folder of :func:`assets_dirs`, or None."""
    found = assets_dirs()
    return found[0] if found else None


def version_id(assets: Path | None) -> str:
    """A test id for a control plane: its folder's name (``k8s-1.24``)."""
    return assets.name if assets is not None else "no-control-plane"


#: One control plane per Kubernetes version in KUBEBUILDER_ASSETS; every real-server test runs on each.
VERSIONS: list[Path | None] = [*assets_dirs()] or [None]


def need_control_plane(assets: Path | None) -> Path:
    """``assets``, or the test skips (fails in CI) saying how to get a control plane."""
    if assets is None:
        reason = ("needs a real control plane: set KUBEBUILDER_ASSETS to a folder with kube-apiserver, "
                  "kube-controller-manager and etcd, or several joined by ':' (bash .ci/run prepares "
                  "build/k8s-1.24 and build/k8s-1.36)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must not skip the real-server tests")
        pytest.skip(reason)
    return assets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class ControlPlane:
    """Start with :meth:`start`, stop with :meth:`stop`. Not thread-safe; one per test session."""

    def __init__(self, assets: Path, work: Path) -> None:
        self.assets = assets
        self.work = work
        self.admin_token = secrets.token_hex(16)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.audit_log = work / "audit.log"
        self.admin_kubeconfig = work / "admin.kubeconfig"
        self.agent_kubeconfig = work / "agent.kubeconfig"
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> ControlPlane:
        self.work.mkdir(parents=True, exist_ok=True)
        self._certificates()
        client, peer = free_port(), free_port()
        self._spawn("etcd", [str(self.assets / "etcd"), "--data-dir", str(self.work / "etcd"), "--name", "default",
                             "--listen-client-urls", f"http://127.0.0.1:{client}",
                             "--advertise-client-urls", f"http://127.0.0.1:{client}",
                             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"default=http://127.0.0.1:{peer}"])
        (self.work / "tokens.csv").write_text(f"{self.admin_token},admin,admin,system:masters\n")
        (self.work / "audit-policy.yaml").write_text(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n")
        w = self.work
        self._spawn("kube-apiserver", [
            str(self.assets / "kube-apiserver"), "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}", f"--etcd-servers=http://127.0.0.1:{client}",
            f"--tls-cert-file={w / 'server.crt'}", f"--tls-private-key-file={w / 'server.key'}",
            f"--client-ca-file={w / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={w / 'sa.pub'}", f"--service-account-signing-key-file={w / 'sa.key'}",
            f"--token-auth-file={w / 'tokens.csv'}", "--authorization-mode=RBAC",
            "--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none",
            f"--audit-policy-file={w / 'audit-policy.yaml'}", f"--audit-log-path={self.audit_log}",
            "--audit-log-mode=blocking",
        ])
        self._write_kubeconfig(self.admin_kubeconfig, self.admin_token)
        self._wait_ready()
        self._spawn("kube-controller-manager", [
            str(self.assets / "kube-controller-manager"), f"--kubeconfig={self.admin_kubeconfig}",
            "--leader-elect=false", f"--service-account-private-key-file={w / 'sa.key'}",
            f"--root-ca-file={w / 'ca.crt'}", "--use-service-account-credentials=true",
            f"--controllers={CONTROLLERS}", "--bind-address=127.0.0.1", f"--secure-port={free_port()}",
        ])
        self.kubectl("apply", "-f", "-", input=READ_ONLY_RBAC)
        token = self.kubectl("create", "token", AGENT_ACCOUNT, "-n", AGENT_NAMESPACE, "--duration=24h").strip()
        self._write_kubeconfig(self.agent_kubeconfig, token)
        return self

    def stop(self) -> None:
        for _, proc in reversed(self._procs):
            proc.terminate()
        for _, proc in reversed(self._procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._procs.clear()

    def signal(self, name: str, sig: int) -> None:
        """Send ``sig`` to the process ``name`` (``SIGSTOP`` freezes kube-apiserver: its sockets
        stay open and its kernel still accepts connections, but nothing answers)."""
        for spawned, proc in self._procs:
            if spawned == name:
                proc.send_signal(sig)
                return
        raise KeyError(name)

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it until it ends
        self._procs.append((name, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.work)))

    def _certificates(self) -> None:
        w = self.work
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                 "-days", "2", "-subj", "/CN=test-ca", cwd=w)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                 "-subj", "/CN=kube-apiserver", cwd=w)
        (w / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n")
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "server.crt", "-days", "2", "-extfile", "san.ext", cwd=w)
        _openssl("genrsa", "-out", "sa.key", "2048", cwd=w)
        _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=w)

    def _write_kubeconfig(self, path: Path, token: str) -> None:
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": "real",
               "clusters": [{"name": "real", "cluster": {"server": self.url,
                                                         "certificate-authority": str(self.work / "ca.crt")}}],
               "users": [{"name": "real", "user": {"token": token}}],
               "contexts": [{"name": "real", "context": {"cluster": "real", "user": "real"}}]}
        path.write_text(yaml.safe_dump(doc))

    def _wait_ready(self, within: float = 60.0) -> None:
        ctx = ssl.create_default_context(cafile=str(self.work / "ca.crt"))
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {(self.work / f'{name}.log').read_text()[-2000:]}")
            try:
                request = urllib.request.Request(self.url + "/readyz",
                                                 headers={"Authorization": f"Bearer {self.admin_token}"})
                with urllib.request.urlopen(request, context=ctx, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("kube-apiserver did not become ready")

    # -- what tests use -------------------------------------------------------------------------

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        """Run kubectl as the admin; its stdout."""
        done = subprocess.run(["kubectl", f"--kubeconfig={self.admin_kubeconfig}", *args], input=input,
                              capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def request(self, method: str, path: str, body: str | None = None,
                content_type: str = "application/json") -> dict[str, Any]:
        """One raw API request as the admin (what a controller's client library sends)."""
        ctx = ssl.create_default_context(cafile=str(self.work / "ca.crt"))
        request = urllib.request.Request(self.url + path, method=method, data=body.encode() if body else None,
                                         headers={"Authorization": f"Bearer {self.admin_token}",
                                                  "Content-Type": content_type})
        with urllib.request.urlopen(request, context=ctx, timeout=30) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result

    def server_side_apply(self, path: str, manifest: str, manager: str) -> dict[str, Any]:
        """A server-side apply by ``manager``, as an operator's client library sends it."""
        return self.request("PATCH", f"{path}?fieldManager={manager}&force=true", manifest,
                            "application/apply-patch+yaml")

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", "-o", "json", *args))

    def verbs_of(self, user: str = AGENT_USER) -> dict[str, int]:
        """How often ``user`` used each verb, from the audit log (the server's own record)."""
        verbs: dict[str, int] = {}
        if not self.audit_log.exists():
            return verbs
        with open(self.audit_log, encoding="utf-8") as fh:
            for line in fh:
                event = json.loads(line)
                if event.get("stage") != "ResponseComplete" or event.get("user", {}).get("username") != user:
                    continue
                verbs[event["verb"]] = verbs.get(event["verb"], 0) + 1
        return verbs


def kubectl_available() -> bool:
    return shutil.which("kubectl") is not None
