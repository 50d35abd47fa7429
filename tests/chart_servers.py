"""Real chart sources on loopback for the tests: a Helm repository (packaged charts and an
``index.yaml`` made by Helm's engine, served over HTTP) and an OCI registry (Debian's
``docker-registry``, the CNCF distribution registry) with charts pushed by the Helm SDK."""

from __future__ import annotations

import base64
import functools
import http.server
import os
import shutil
import socket
import subprocess
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="charts from repositories need helm-python-sdk")

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
data:
  chartVersion: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
"""


def write_chart(root: Path, name: str, version: str, *, greeting: str = "hello",
                dependencies: list[dict[str, Any]] | None = None, template: str = CONFIGMAP) -> Path:
    """A small chart directory: one ConfigMap naming the chart version and a greeting value."""
    chart = root / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"apiVersion": "v2", "name": name, "version": version, "type": "application"}
    if dependencies:
        meta["dependencies"] = dependencies
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    (chart / "values.yaml").write_text(yaml.safe_dump({"greeting": greeting}))
    (chart / "templates" / "configmap.yaml").write_text(template)
    return chart


def package(root: Path, name: str, version: str, destination: Path, **kwargs: Any) -> Path:
    """``helm package`` of a fresh chart ``name`` at ``version`` into ``destination``."""
    src = root / f"src-{name}-{version}"
    chart = write_chart(src, name, version, **kwargs)
    destination.mkdir(parents=True, exist_ok=True)
    return Path(helm.package(str(chart), destination=str(destination)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HelmRepo:
    """A Helm chart repository on loopback: ``publish`` packages a chart version and re-indexes."""

    def __init__(self, root: Path, auth: tuple[str, str] | None = None) -> None:
        self.root = root
        self.files = root / "served"
        self.files.mkdir(parents=True)
        self.requests: list[str] = []
        self.auth = auth
        handler = functools.partial(self._Handler, self, directory=str(self.files))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.index()

    class _Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, repo: HelmRepo, *args: Any, **kwargs: Any) -> None:
            self.repo = repo
            super().__init__(*args, **kwargs)

        def do_GET(self) -> None:  # noqa: N802 - the http.server spelling
            self.repo.requests.append(self.path)
            if self.repo.auth is not None:
                want = "Basic " + base64.b64encode(":".join(self.repo.auth).encode()).decode()
                if self.headers.get("Authorization") != want:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="charts"')
                    self.end_headers()
                    return
            super().do_GET()

        def log_message(self, *args: Any) -> None:
            pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def index(self) -> None:
        helm.repo_index_generate(str(self.files), base_url=self.url)

    def publish(self, name: str, version: str, **kwargs: Any) -> Path:
        archive = package(self.root, name, version, self.files, **kwargs)
        self.index()
        return archive

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bcrypt(password: str) -> str:
    """A bcrypt hash of ``password`` for an htpasswd file, by the C library's crypt(3)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))


class OciRegistry:
    """Debian's ``docker-registry`` on a loopback port, storing in a temporary directory."""

    def __init__(self, root: Path, users: dict[str, str] | None = None, auth: dict[str, Any] | None = None) -> None:
        """``users`` (name -> password) puts the registry behind Basic authentication (htpasswd);
        ``auth`` is the registry's own ``auth`` section (a token service, say)."""
        binary = shutil.which("docker-registry") or shutil.which("registry")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("CI must provide docker-registry (.ci/run installs it)")
            pytest.skip("needs Debian's docker-registry package (apt-get install docker-registry); .ci/run installs it")
        self.root = root
        root.mkdir(parents=True)
        self.port = free_port()
        config = root / "config.yml"
        config.write_text(textwrap.dedent(f"""\
            version: 0.1
            log: {{level: error}}
            storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}
            http: {{addr: 127.0.0.1:{self.port}}}
        """))
        if users:
            (root / "htpasswd").write_text("".join(f"{name}:{bcrypt(password)}\n" for name, password in users.items()))
            auth = {"htpasswd": {"realm": "test-registry", "path": str(root / "htpasswd")}}
        if auth:
            with config.open("a") as fh:
                fh.write(yaml.safe_dump({"auth": auth}))
        self.process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("docker-registry did not start") from None
                time.sleep(0.05)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The repository root charts are pushed under, as an app's ``repoURL`` names it."""
        return f"oci://{self.host}/charts"

    def publish(self, name: str, version: str, **kwargs: Any) -> Path:
        archive = package(self.root, name, version, self.root / "packages", **kwargs)
        helm.push(str(archive), self.url, plain_http=True)
        return archive

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
