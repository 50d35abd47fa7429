"""``kustomize build``, or ``kubectl kustomize`` where only kubectl is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

from exporter.model import KubeObject
from exporter.render.manifests import RenderError, parse_yaml
from exporter.render.process import run_tool


def kustomize_command(directory: Path) -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build", str(directory)]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize", str(directory)]
    raise RenderError("kustomize build failed: neither kustomize nor kubectl is installed")


async def render_kustomize(directory: Path, rel: str, time_limit: float) -> list[KubeObject]:
    """The objects ``kustomize build`` produces for ``directory`` (``rel`` names it in messages)."""
    out = await run_tool(kustomize_command(directory), cwd=directory, time_limit=time_limit, what="kustomize build")
    try:
        return parse_yaml(out, f"{rel} (kustomize output)")
    except RenderError as exc:
        raise RenderError(f"kustomize build failed: {exc}") from None
