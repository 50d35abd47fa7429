"""The repository is a sandbox: a commit can make its own app Unknown, never read the agent's files,
make it connect anywhere, or tie up the agent with a render that never ends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from treeutil import app, names, write_tree

from exporter.config_types import HelmOptions
from exporter.render import RenderError, render
from exporter.render.sandbox import NO_NETWORK_ENV

CHART = {
    "repo/chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "repo/chart/templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: leak}
        data:
          content: {{ .Files.Get "files/secret" | quote }}
        """,
}


class ConnectionLogger:
    """A TCP listener on loopback that only counts who connects."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> ConnectionLogger:
        async def accepted(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()
        self._server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[ConnectionLogger]:
    async with ConnectionLogger() as logger:
        yield logger


def outside_file(tmp_path: Path) -> Path:
    secret = tmp_path / "machine" / "token"
    secret.parent.mkdir()
    secret.write_text("eyJhbGciOiJSUzI1NiJ9.service-account-token\n")
    return secret


async def test_a_chart_symlink_to_a_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    (tmp_path / "repo/chart/files").mkdir()
    (tmp_path / "repo/chart/files/secret").symlink_to(outside_file(tmp_path))
    with pytest.raises(RenderError) as info:
        await render(app("chart", "helm"), tmp_path / "repo")
    assert str(info.value) == "chart/files/secret: is a symbolic link that points outside the repository"
    assert "service-account-token" not in str(info.value)


async def test_a_chart_symlink_to_a_directory_outside_the_repository_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    outside_file(tmp_path)
    (tmp_path / "repo/chart/files").symlink_to(tmp_path / "machine")
    with pytest.raises(RenderError, match="^chart/files: is a symbolic link that points outside the repository$"):
        await render(app("chart", "helm"), tmp_path / "repo")


async def test_a_chart_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    write_tree(tmp_path, {**CHART, "repo/shared/secret": "not secret at all\n"})
    (tmp_path / "repo/chart/files").mkdir()
    (tmp_path / "repo/chart/files/secret").symlink_to(tmp_path / "repo/shared/secret")
    objects = await render(app("chart", "helm"), tmp_path / "repo")
    assert objects[0]["data"]["content"] == "not secret at all\n"


async def test_a_value_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    outside_file(tmp_path)
    with pytest.raises(RenderError, match="value file '../../machine/token' is outside the repository"):
        await render(app("chart", "helm", helm=HelmOptions(value_files=["../../machine/token"])), tmp_path / "repo")


async def test_a_value_file_symlinked_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, CHART)
    (tmp_path / "repo/chart/prod.yaml").symlink_to(outside_file(tmp_path))
    with pytest.raises(RenderError, match="chart/prod.yaml: is a symbolic link that points outside the repository"):
        await render(app("chart", "helm", helm=HelmOptions(value_files=["prod.yaml"])), tmp_path / "repo")


async def test_a_template_that_never_ends_is_stopped_at_its_time_limit(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "chart/Chart.yaml": "apiVersion: v2\nname: spin\nversion: 0.1.0\n",
        "chart/templates/spin.yaml": "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n",
    })
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        with pytest.raises(RenderError, match=r"^helm template timed out after 1s$"):
            await render(app("chart", "helm"), tmp_path, timeout=1)
    finally:
        task.cancel()
    elapsed = time.monotonic() - started
    assert elapsed < 5
    assert ticks >= elapsed / 0.05 * 0.5  # the event loop kept running meanwhile
    assert not _processes_with("exporter.render.helm_worker"), "the render process outlived its time limit"


def _processes_with(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if text.encode() in fh.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


async def test_a_remote_kustomize_base_is_refused_without_connecting(tmp_path: Path, listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/evil.git//base?ref=main"
    write_tree(tmp_path, {"k/kustomization.yaml": f"resources: ['{url}']\n"})
    with pytest.raises(RenderError) as info:
        await render(app("k", "kustomize"), tmp_path)
    assert str(info.value) == (f"kustomize build failed: k/kustomization.yaml: resources: remote resource "
                               f"'{url}' refused: only files in the repository are rendered")
    assert listener.connections == 0


async def test_a_remote_base_written_without_a_scheme_is_not_fetched(tmp_path: Path) -> None:
    write_tree(tmp_path, {"k/kustomization.yaml": "resources: ['github.com/org/repo//base?ref=v1']\n"})
    with pytest.raises(RenderError, match="'github.com/org/repo//base\\?ref=v1' not found in the repository "
                                          "\\(remote resources are not fetched\\)"):
        await render(app("k", "kustomize"), tmp_path)


async def test_a_remote_resource_in_a_nested_base_is_refused(tmp_path: Path, listener) -> None:
    url = f"https://127.0.0.1:{listener.port}/deploy.yaml"
    write_tree(tmp_path, {"overlay/kustomization.yaml": "resources: [../base]\n",
                          "base/kustomization.yaml": f"resources: ['{url}']\n"})
    with pytest.raises(RenderError, match="base/kustomization.yaml: resources: remote resource"):
        await render(app("overlay", "kustomize"), tmp_path)
    assert listener.connections == 0


async def test_a_kustomize_base_outside_the_repository_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, {"repo/k/kustomization.yaml": "resources: [../../elsewhere]\n",
                          "elsewhere/kustomization.yaml": "resources: []\n"})
    with pytest.raises(RenderError, match="resources: '../../elsewhere' is outside the repository"):
        await render(app("k", "kustomize"), tmp_path / "repo")


async def test_a_kustomize_resource_symlinked_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, {"repo/k/kustomization.yaml": "resources: [cm.yaml]\n"})
    (tmp_path / "repo/k/cm.yaml").symlink_to(outside_file(tmp_path))
    with pytest.raises(RenderError, match="k/cm.yaml: is a symbolic link that points outside the repository"):
        await render(app("k", "kustomize"), tmp_path / "repo")


async def test_a_generator_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    outside_file(tmp_path)
    write_tree(tmp_path, {"repo/k/kustomization.yaml": """\
        configMapGenerator:
          - name: leak
            files: [token=../../machine/token]
        """})
    with pytest.raises(RenderError, match="configMapGenerator.files: '../../machine/token' is outside the repository"):
        await render(app("k", "kustomize"), tmp_path / "repo")


async def test_local_bases_inside_the_repository_still_build(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
        "overlay/kustomization.yaml": "resources: [../base]\nnamePrefix: prod-\n",
    })
    assert names(await render(app("overlay", "kustomize"), tmp_path)) == ["ConfigMap/prod-settings"]


async def test_renderer_processes_get_no_git_transport(tmp_path: Path, listener) -> None:
    """What kustomize runs to fetch a remote base (git) is refused every transport."""
    proc = await asyncio.create_subprocess_exec(
        "git", "ls-remote", f"http://127.0.0.1:{listener.port}/evil.git",
        env={**os.environ, **NO_NETWORK_ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode != 0
    assert b"transport 'http' not allowed" in err
    assert listener.connections == 0


async def test_renders_that_time_out_do_not_starve_other_work(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "chart/Chart.yaml": "apiVersion: v2\nname: spin\nversion: 0.1.0\n",
        "chart/templates/spin.yaml": "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n",
        "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
    })
    spinning = [asyncio.create_task(render(app("chart", "helm"), tmp_path, timeout=1)) for _ in range(8)]
    await asyncio.sleep(0.2)
    plain = await asyncio.wait_for(render(app("plain"), tmp_path), 5)
    assert names(plain) == ["ConfigMap/plain"]
    results = await asyncio.gather(*spinning, return_exceptions=True)
    assert all(isinstance(r, RenderError) and "timed out" in str(r) for r in results)
    loop = asyncio.get_running_loop()
    assert await asyncio.wait_for(loop.run_in_executor(None, lambda: "free"), 1) == "free"
