"""Desired objects from a checkout: plain manifests, kustomize or Helm, by the app's source type.

Rendered objects keep the namespace they declare; applying the destination's default namespace
is the caller's job, because only it knows which kinds are namespaced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from exporter.clock import monotonic
from exporter.config_types import AppConfig, SourceConfig
from exporter.instruments import RENDER_DURATION
from exporter.model import KubeObject
from exporter.render.directory import render_directory
from exporter.render.flux_build import post_render, render_flux
from exporter.render.helm import render_helm
from exporter.render.kustomize import chart_uses, render_kustomize
from exporter.render.manifests import RenderError
from exporter.render.packing import pack, unpack
from exporter.render.pool import in_worker

__all__ = ["RenderError", "chart_uses", "render", "render_packed", "source_root"]


def source_root(tree: Path, path: str) -> tuple[Path, str]:
    """The app's directory in the checkout and its normalised relative name; it must stay inside."""
    rel = Path(path.strip("/") or ".").as_posix()
    root = (tree / rel).resolve()
    if not root.is_relative_to(tree.resolve()):
        raise RenderError(f"path '{path}' is outside the repository")
    if not root.is_dir():
        raise RenderError(f"path '{path}' not found in the repository")
    return root, rel


def _read_directory(tree: Path, source: SourceConfig) -> bytes:
    """A directory source's objects, packed; in a worker process, where finding the directory's
    files (a few system calls each) and packing cost the event loop nothing either."""
    return pack(render_directory(source_root(tree, source.path)[0], tree, source.directory))


async def render_packed(app: AppConfig, tree: Path, timeout: float = 60, *,  # noqa: ASYNC109
                        source: SourceConfig | None = None, refs: Mapping[str, Path] | None = None,
                        build_options: Sequence[str] = ()) -> bytes:
    """What ``render`` returns, packed (:mod:`exporter.render.packing`)."""
    source = source or app.source
    if source.type in ("kustomize", "helm"):
        return pack(await render(app, tree, timeout, source=source, refs=refs, build_options=build_options))
    with _timed(source.type):
        try:
            return await asyncio.wait_for(in_worker(_read_directory, tree, source), timeout)
        except TimeoutError:
            raise RenderError(f"reading manifests timed out after {timeout:g}s",
                              Path(source.path.strip("/") or ".").as_posix()) from None


@contextlib.contextmanager
def _timed(source_type: str) -> Iterator[None]:
    """Observe a render's duration, by source type and result."""
    started = monotonic()
    result = "error"
    try:
        yield
        result = "success"
    finally:
        RENDER_DURATION.labels(source_type, result).observe(monotonic() - started)


async def render(app: AppConfig, tree: Path, timeout: float = 60, *,  # noqa: ASYNC109
                 source: SourceConfig | None = None, refs: Mapping[str, Path] | None = None,
                 build_options: Sequence[str] = ()) -> list[KubeObject]:
    """The objects ``source`` (the app's first one by default) declares in ``tree``: its checkout,
    or a chart fetched from a repository. ``refs`` are the app's other checkouts by ref name;
    ``build_options`` the config's ``kustomize build`` options for sources without their own.
    Raises ``RenderError``."""
    source = source or app.source
    if source.type not in ("kustomize", "helm"):
        return unpack(await render_packed(app, tree, timeout, source=source))
    with _timed(source.type):
        root, rel = source_root(tree, source.path)
        if source.chart is not None:
            rel = f"chart {source.chart}"  # a fetched chart: name it, not its place in the cache
        if source.type == "kustomize":
            own = source.kustomize_build_options
            options = build_options if own is None else own
            if source.flux is not None:
                return await render_flux(root, tree, rel, source.flux, timeout, options)
            return await render_kustomize(root, tree, rel, timeout, options)
        objects = await render_helm(root, tree, rel, source.helm, source.helm.release_name or app.name,
                                    app.destination.namespace or None, timeout, refs)
        return objects if source.flux is None else await post_render(objects, source.flux, rel, timeout)
