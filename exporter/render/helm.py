"""Helm charts: ``helm template`` where the binary is installed, else Helm's Go SDK in a child process.

The SDK (helm-python-sdk, Helm through ctypes) renders exactly as ``helm template`` does without a
binary to install. Either way the render is a process the time limit kills
(:mod:`exporter.render.helm_worker` for the SDK), started only after the chart has been checked
for symbolic links out of the repository, with no network (Helm's DNS functions stay off, as they
are by default) and within the render pool's process slots.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from exporter.config_types import HelmOptions
from exporter.model import KubeObject
from exporter.render.manifests import RenderError, load_yaml_documents, parse_yaml
from exporter.render.pool import in_thread, in_worker, process_slot
from exporter.render.process import run_tool, summarize
from exporter.render.sandbox import NO_NETWORK_ENV, check_links
from exporter.values import merge_values


def _value_file_path(chart: Path, tree: Path, name: str, rel: str,
                     refs: Mapping[str, Path]) -> tuple[Path, str]:
    if "://" in name:
        raise RenderError(f"value file '{name}': only files in the repository are supported", rel)
    if name.startswith("$"):
        # "$values/env/prod.yaml": a file of the multi-source app's source with ref "values".
        ref, _, inner = name[1:].partition("/")
        if ref not in refs:
            raise RenderError(f"value file '{name}': no source has ref '{ref}'", rel)
        root = refs[ref].resolve()
        path = (root / inner).resolve()
        if not path.is_relative_to(root):
            raise RenderError(f"value file '{name}' is outside the repository of ref '{ref}'", rel)
        if not path.is_file():
            raise RenderError(f"value file '{name}' not found in the repository of ref '{ref}'", rel)
        return path, name
    path = (chart / name).resolve()
    if not path.is_relative_to(tree.resolve()):
        raise RenderError(f"value file '{name}' is outside the repository", rel)
    shown = path.relative_to(tree.resolve()).as_posix()
    if not path.is_file():
        raise RenderError(f"value file '{name}' not found", rel)
    return path, shown


def load_values(chart: Path, tree: Path, options: HelmOptions, rel: str,
                refs: Mapping[str, Path] | None = None) -> dict[str, Any]:
    """The value files in order, then the inline values on top. Also checks the chart for
    symbolic links out of the repository. Blocking: run it on the render threads."""
    check_links(chart, tree)
    values: dict[str, Any] = {}
    for name in options.value_files:
        path, shown = _value_file_path(chart, tree, name, rel, refs or {})
        try:
            docs = load_yaml_documents(path.read_text(encoding="utf-8"), shown)
        except UnicodeDecodeError:
            raise RenderError("is not UTF-8 text", shown) from None
        data = docs[0] if docs else None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise RenderError("values must be a mapping", shown)
        values = merge_values(values, data)
    return merge_values(values, options.values)


#: Helm's own document separator (``releaseutil.SplitManifests``): a ``---`` at a line start with
#: anything after it on the line, so ``---# Source: x`` separates too (YAML would read a scalar).
_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def split_manifests(text: str) -> list[str]:
    """The documents of rendered Helm output as Helm itself sees them: split on its separator,
    each trimmed of surrounding whitespace, empty ones dropped, and each ended by the newline Helm
    writes after every document of a release manifest (so a block scalar at the end of a document
    keeps its trailing newline, as it does when ``kubectl apply`` reads ``helm template``'s output)."""
    return [piece.strip() + "\n" for piece in _SEPARATOR.split(text.strip()) if piece.strip()]


#: Helm's install order (``releaseutil.InstallOrder``): kinds others depend on come first; kinds not
#: listed follow, by name.
INSTALL_ORDER = (
    "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
    "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
    "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
)
_RANK = {kind: rank for rank, kind in enumerate(INSTALL_ORDER)}


def install_order(objects: list[KubeObject]) -> list[KubeObject]:
    """``objects`` in the order Helm installs them (stable within a kind)."""
    return sorted(objects, key=lambda o: (_RANK.get(str(o.get("kind")), len(_RANK)),
                                          "" if str(o.get("kind")) in _RANK else str(o.get("kind"))))


def parse_helm_output(text: str, file: str) -> list[KubeObject]:
    """The objects of one template's (or ``helm template``'s) output, split as Helm splits it."""
    objects: list[KubeObject] = []
    for document in split_manifests(text):
        objects += parse_yaml(document, file)
    return objects


def _sdk_objects(answer: dict[str, Any], rel: str) -> list[KubeObject]:
    def shown(template: str) -> str:
        # "web/templates/x.yaml" -> "<chart path>/templates/x.yaml", the file in the repository
        inner = template.split("/", 1)[1] if "/" in template else template
        return f"{rel}/{inner}" if rel not in ("", ".") else inner

    objects: list[KubeObject] = []
    for crd in answer.get("crds") or []:
        objects += parse_helm_output(crd["data"], shown(crd.get("filename") or crd["name"]))
    manifests = answer.get("manifests") or {}
    rendered: list[KubeObject] = []
    for template in sorted(manifests):
        if template.endswith("NOTES.txt"):
            continue
        rendered += parse_helm_output(manifests[template], shown(template))
    return objects + install_order(rendered)


async def _render_sdk(chart: Path, values: dict[str, Any], release: str, namespace: str | None,
                      skip_crds: bool, rel: str, time_limit: float) -> list[KubeObject]:
    with tempfile.TemporaryDirectory(prefix="helm-render-") as tmp:
        request = Path(tmp) / "request.json"
        request.write_text(json.dumps({"chart": str(chart), "values": values, "release": release,
                                       "namespace": namespace, "skip_crds": skip_crds}))
        # -P and a working directory of its own: nothing in the chart can shadow a Python module.
        out = await run_tool([sys.executable, "-P", "-m", "exporter.render.helm_worker", str(request)],
                             cwd=Path(tmp), time_limit=time_limit, what="helm template", env=NO_NETWORK_ENV)
    try:
        answer = json.loads(out)
    except ValueError:
        raise RenderError(f"helm template failed: {summarize(out)}", rel) from None
    if "error" in answer:
        raise RenderError(summarize(str(answer["error"])), rel)
    return await in_thread(_sdk_objects, answer, rel)


async def _render_binary(chart: Path, values: dict[str, Any], release: str, namespace: str | None,
                         skip_crds: bool, rel: str, time_limit: float) -> list[KubeObject]:
    with tempfile.TemporaryDirectory(prefix="helm-values-") as tmp:
        values_file = Path(tmp) / "values.json"
        values_file.write_text(json.dumps(values))  # JSON is YAML, and needs no escaping care
        argv = ["helm", "template", release, str(chart), "--values", str(values_file),
                "--skip-crds" if skip_crds else "--include-crds"]
        if namespace:
            argv += ["--namespace", namespace]
        out = await run_tool(argv, cwd=chart, time_limit=time_limit, what="helm template", env=NO_NETWORK_ENV)
    return await in_worker(parse_helm_output, out, f"{rel} (helm template output)")


async def render_helm(chart: Path, tree: Path, rel: str, options: HelmOptions, release: str,
                      namespace: str | None, time_limit: float,
                      refs: Mapping[str, Path] | None = None) -> list[KubeObject]:
    """The objects of the chart at ``chart`` (``rel`` is its path in the repository); ``refs``
    are the checkouts of the app's other sources, by ref name, for ``$ref/...`` value files."""
    values = await in_thread(load_values, chart, tree, options, rel, refs)
    renderer = _render_binary if shutil.which("helm") else _render_sdk
    async with process_slot():
        return await renderer(chart, values, release, namespace, options.skip_crds, rel, time_limit)
