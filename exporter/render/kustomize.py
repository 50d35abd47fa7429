"""``kustomize build``, or ``kubectl kustomize`` where only kubectl is installed."""

from __future__ import annotations

import functools
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from exporter.charts import ChartUse
from exporter.model import KubeObject
from exporter.render.kustomize_errors import explain
from exporter.render.manifests import RenderError, parse_yaml
from exporter.render.pool import in_thread, in_worker, process_slot
from exporter.render.process import run_tool
from exporter.render.sandbox import NO_NETWORK_ENV, check_kustomization


def kustomize_command(directory: Path) -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(directory)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(directory)]
    raise RenderError("kustomize build failed: neither kustomize nor kubectl is installed")


@functools.cache
def helm_command() -> str:
    """An executable for ``--helm-command``: :mod:`exporter.render.helm_cli` under this Python."""
    directory = Path(tempfile.mkdtemp(prefix="gitops-helm-"))
    script = directory / "helm"
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -P -m exporter.render.helm_cli \"$@\"\n")
    script.chmod(0o755)
    return str(script)


async def chart_uses(directory: Path, tree: Path) -> list[ChartUse]:
    """The charts the kustomization at ``directory`` (and its bases) inflate; ``RenderError`` when
    the kustomization is refused."""
    try:
        return await in_thread(check_kustomization, directory, tree)
    except RenderError as exc:
        raise RenderError(f"kustomize build failed: {exc}") from None


async def kustomize_output(directory: Path, tree: Path, time_limit: float,
                           build_options: Sequence[str] = ()) -> str:
    """What ``kustomize build`` prints for ``directory``: its objects as YAML documents.

    The kustomization and its bases are checked first (no remote resources, nothing outside the
    checkout), and kustomize runs without network; charts it inflates must be in their chart homes
    already (see :mod:`exporter.charts.inflation`) and render through Helm's SDK."""
    uses = await chart_uses(directory, tree)
    argv = [*kustomize_command(directory), *build_options]
    if uses:
        argv = [a for a in argv if a != "--enable-helm"] + ["--enable-helm", "--helm-command", helm_command()]
    async with process_slot():
        return await run_tool(argv, cwd=directory, time_limit=time_limit, what="kustomize build",
                              env=NO_NETWORK_ENV, explain=functools.partial(explain, tree=tree, directory=directory))


async def render_kustomize(directory: Path, tree: Path, rel: str, time_limit: float,
                           build_options: Sequence[str] = ()) -> list[KubeObject]:
    """The objects ``kustomize build`` produces for ``directory`` (``rel`` names it in messages)."""
    out = await kustomize_output(directory, tree, time_limit, build_options)
    try:
        return await in_worker(parse_yaml, out, f"{rel} (kustomize output)")
    except RenderError as exc:
        raise RenderError(f"kustomize build failed: {exc}") from None
