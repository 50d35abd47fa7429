"""Helm charts: ``helm template`` where the binary is installed, else Helm's Go SDK in-process.

The SDK (helm-python-sdk, Helm through ctypes) renders exactly as ``helm template`` does without a
binary to install; its calls block, so they run in an executor thread.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from exporter.config_types import HelmOptions
from exporter.model import KubeObject
from exporter.render.manifests import RenderError, parse_yaml
from exporter.render.process import run_tool, summarize

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's merge of ``-f`` files: maps merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def _value_file_path(chart: Path, tree: Path, name: str, rel: str) -> tuple[Path, str]:
    if "://" in name:
        raise RenderError(f"value file '{name}': only files in the repository are supported", rel)
    path = (chart / name).resolve()
    if not path.is_relative_to(tree.resolve()):
        raise RenderError(f"value file '{name}' is outside the repository", rel)
    shown = path.relative_to(tree.resolve()).as_posix()
    if not path.is_file():
        raise RenderError(f"value file '{name}' not found", rel)
    return path, shown


def load_values(chart: Path, tree: Path, options: HelmOptions, rel: str) -> dict[str, Any]:
    """The value files in order, then the inline values on top."""
    values: dict[str, Any] = {}
    for name in options.value_files:
        path, shown = _value_file_path(chart, tree, name, rel)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise RenderError(exc.problem or "invalid YAML", shown, mark.line + 1 if mark else None) from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise RenderError(f"invalid YAML: {exc}", shown) from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise RenderError("values must be a mapping", shown)
        values = merge_values(values, data)
    return merge_values(values, options.values)


def _render_sdk(chart: Path, values: dict[str, Any], release: str, namespace: str | None,
                skip_crds: bool, rel: str) -> list[KubeObject]:
    try:
        import helm_python
    except ImportError:
        raise RenderError("helm sources need the helm binary on PATH or helm-python-sdk "
                          "(pip install 'gitops-drift-exporter[helm]')", rel) from None

    try:
        with helm_python.Chart.load(str(chart)) as loaded:
            manifests = loaded.render(values, name=release, namespace=namespace)
            crds = [] if skip_crds else loaded.crds
    except helm_python.HelmError as exc:
        raise RenderError(f"helm template failed: {summarize(str(exc))}", rel) from None

    def shown(template: str) -> str:
        # "web/templates/x.yaml" -> "<chart path>/templates/x.yaml", the file in the repository
        inner = template.split("/", 1)[1] if "/" in template else template
        return f"{rel}/{inner}" if rel not in ("", ".") else inner

    objects: list[KubeObject] = []
    for crd in crds:
        objects += parse_yaml(crd["data"], shown(crd.get("filename") or crd["name"]))
    for template in sorted(manifests):
        if template.endswith("NOTES.txt"):
            continue
        objects += parse_yaml(manifests[template], shown(template))
    return objects


async def _render_binary(chart: Path, values: dict[str, Any], release: str, namespace: str | None,
                         skip_crds: bool, rel: str, time_limit: float) -> list[KubeObject]:
    with tempfile.TemporaryDirectory(prefix="helm-values-") as tmp:
        values_file = Path(tmp) / "values.json"
        values_file.write_text(json.dumps(values))  # JSON is YAML, and needs no escaping care
        argv = ["helm", "template", release, str(chart), "--values", str(values_file),
                "--skip-crds" if skip_crds else "--include-crds"]
        if namespace:
            argv += ["--namespace", namespace]
        out = await run_tool(argv, cwd=chart, time_limit=time_limit, what="helm template")
    return parse_yaml(out, f"{rel} (helm template output)")


async def render_helm(chart: Path, tree: Path, rel: str, options: HelmOptions, release: str,
                      namespace: str | None, time_limit: float) -> list[KubeObject]:
    """The objects of the chart at ``chart`` (``rel`` is its path in the repository)."""
    loop = asyncio.get_running_loop()
    values = await loop.run_in_executor(None, load_values, chart, tree, options, rel)
    if shutil.which("helm"):
        return await _render_binary(chart, values, release, namespace, options.skip_crds, rel, time_limit)
    try:
        return await asyncio.wait_for(
            loop.run_in_executor(None, _render_sdk, chart, values, release, namespace, options.skip_crds, rel),
            time_limit)
    except TimeoutError:
        raise RenderError(f"helm template timed out after {time_limit:g}s", rel) from None
