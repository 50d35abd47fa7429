"""``kustomize build``, or ``kubectl kustomize`` where only kubectl is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

from exporter.model import KubeObject
from exporter.render.manifests import RenderError, parse_yaml
from exporter.render.pool import in_thread, process_slot
from exporter.render.process import run_tool
from exporter.render.sandbox import NO_NETWORK_ENV, check_kustomization


def kustomize_command(directory: Path) -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(directory)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(directory)]
    raise RenderError("kustomize build failed: neither kustomize nor kubectl is installed")


async def render_kustomize(directory: Path, tree: Path, rel: str, time_limit: float) -> list[KubeObject]:
    """The objects ``kustomize build`` produces for ``directory`` (``rel`` names it in messages).

    The kustomization and its bases are checked first (no remote resources, nothing outside the
    checkout), and kustomize runs without network."""
    try:
        await in_thread(check_kustomization, directory, tree)
    except RenderError as exc:
        raise RenderError(f"kustomize build failed: {exc}") from None
    async with process_slot():
        out = await run_tool(kustomize_command(directory), cwd=directory, time_limit=time_limit,
                             what="kustomize build", env=NO_NETWORK_ENV)
    try:
        return await in_thread(parse_yaml, out, f"{rel} (kustomize output)")
    except RenderError as exc:
        raise RenderError(f"kustomize build failed: {exc}") from None
