"""``kustomize build`` as Flux's kustomize-controller runs it for a ``Kustomization``.

Flux builds in a copy of its source's artifact: where the path has no kustomization file it
generates one listing the path's YAML files (and, as whole resources, the subdirectories that have
a kustomization of their own); it then writes the Kustomization's ``targetNamespace``,
``namePrefix``/``nameSuffix``, ``patches``, ``components``, ``images`` and ``buildMetadata`` into
that file, builds with no load restrictions inside the artifact, substitutes ``${var}`` in each
object's YAML (``postBuild``), and sets ``commonMetadata`` on every object built. Objects annotated ``kustomize.toolkit.fluxcd.io/ssa: Ignore`` or ``.../reconcile: disabled`` are
never applied, so they are not desired. The checkout stays untouched: the copy is made of hard
links, and the one file rewritten is unlinked first.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from exporter.config_types import FluxBuild
from exporter.model import NOT_COMPARED_KEY, KubeObject
from exporter.render.kustomize import kustomize_output, render_kustomize
from exporter.render.manifests import RenderError, load_yaml_documents, parse_yaml
from exporter.render.pool import in_thread
from exporter.render.sandbox import kustomization_file
from exporter.render.substitution import SubstitutionError, substitute

#: Annotations by which Flux leaves an object out of what it applies.
NOT_APPLIED = {"kustomize.toolkit.fluxcd.io/ssa": "ignore", "kustomize.toolkit.fluxcd.io/reconcile": "disabled"}


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _generated(directory: Path, tree: Path) -> dict[str, Any]:
    """The kustomization Flux generates for a directory without one: every ``.yaml``/``.yml`` file
    below it (each must hold Kubernetes YAML), and each subdirectory with a kustomization file as
    one resource, not descended into; in lexical order, as ``./``-relative paths."""
    resources: list[str] = []
    for current, dirs, files in os.walk(directory):
        here = Path(current)
        dirs.sort()
        keep = []
        for name in dirs:
            if kustomization_file(here / name) is not None:
                resources.append("./" + (here / name).relative_to(directory).as_posix())
            else:
                keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = here / name
            load_yaml_documents(path.read_text(encoding="utf-8"), path.relative_to(tree).as_posix())
            resources.append("./" + path.relative_to(directory).as_posix())
    resources.sort()
    kustomization: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if resources:
        kustomization["resources"] = resources
    else:
        kustomization["namespace"] = "_placeholder"  # Flux's way round "kustomization.yaml is empty"
    return kustomization


def _merge_images(have: list[dict[str, Any]], extra: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flux's ``images`` into the kustomization's own: an entry for the same name takes the new
    name, and the new tag and digest together (setting one clears the other)."""
    images = [dict(i) for i in have if isinstance(i, dict)]
    for image in extra:
        same = next((i for i in images if i.get("name") == image.get("name")), None)
        if same is None:
            images.append({k: v for k, v in image.items() if k in ("name", "newName", "newTag", "digest") and v})
            continue
        if image.get("newName"):
            same["newName"] = image["newName"]
        if image.get("newTag") or image.get("digest"):
            for key in ("newTag", "digest"):
                same.pop(key, None)
                if image.get(key):
                    same[key] = image[key]
    return images


def overlay(kustomization: dict[str, Any], build: FluxBuild, directory: Path, generated: bool) -> dict[str, Any]:
    """The kustomization with the Kustomization's fields written in, as Flux writes them."""
    out = dict(kustomization)
    if not generated and not out.get("resources"):
        out["buildMetadata"] = ["originAnnotations"]  # Flux's way round "kustomization.yaml is empty"
    if build.target_namespace:
        out["namespace"] = build.target_namespace
    if build.name_prefix:
        out["namePrefix"] = build.name_prefix
    if build.name_suffix:
        out["nameSuffix"] = build.name_suffix
    if build.patches:
        out["patches"] = [*(out.get("patches") or []),
                          *({k: v for k, v in p.items() if k in ("patch", "target")} for p in build.patches)]
    components = [c for c in build.components
                  if not build.ignore_missing_components or (directory / c).exists()]
    if components:
        out["components"] = [*(out.get("components") or []), *components]
    if build.images:
        out["images"] = _merge_images(out.get("images") or [], build.images)
    if build.build_metadata:
        out["buildMetadata"] = list(build.build_metadata)
    return out


def prepare(tree: Path, root: Path, work: Path, build: FluxBuild) -> Path:
    """Copy ``tree`` into ``work`` and write the kustomization Flux would build ``root`` with;
    the copy of ``root``. Blocking: run it in a thread."""
    copy = work / "tree"
    shutil.copytree(tree, copy, symlinks=True, copy_function=_link_or_copy,
                    ignore=shutil.ignore_patterns(".git"))
    directory = copy / root.relative_to(tree)
    existing = kustomization_file(directory)
    if existing is not None:
        rel = existing.relative_to(copy).as_posix()
        docs = load_yaml_documents(existing.read_text(encoding="utf-8"), rel)
        if not docs or not isinstance(docs[0], dict):
            raise RenderError("is not a kustomization (a mapping)", rel)
        kustomization, target = docs[0], existing
    else:
        kustomization, target = _generated(directory, copy), directory / "kustomization.yaml"
    text = yaml.safe_dump(overlay(kustomization, build, directory, existing is None), sort_keys=False)
    target.unlink(missing_ok=True)  # a hard link to the checkout: never write through it
    target.write_text(text, encoding="utf-8")
    return directory


def finish(objects: list[KubeObject], build: FluxBuild, *, leave_out: bool = True) -> list[KubeObject]:
    """The objects Flux applies: without those kustomize-controller is told to leave alone (when
    ``leave_out``), with ``commonMetadata``."""
    out = []
    for obj in objects:
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        annotations = (meta.get("annotations") if isinstance(meta, dict) else None) or {}
        if leave_out and any(str(annotations.get(k, "")).lower() == v for k, v in NOT_APPLIED.items()):
            continue
        if isinstance(meta, dict) and (build.common_labels or build.common_annotations):
            for field, values in (("labels", build.common_labels), ("annotations", build.common_annotations)):
                if values:
                    meta[field] = {**(meta.get(field) or {}), **values}
        out.append(obj)
    return out


SUBSTITUTE_DISABLED = "kustomize.toolkit.fluxcd.io/substitute"
_DOCUMENT = re.compile(r"(?m)^---[ \t]*\n")


def _disabled(doc: Any) -> bool:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    return any(str((meta.get(field) or {}).get(SUBSTITUTE_DISABLED, "")) == "disabled"
               for field in ("labels", "annotations") if isinstance(meta.get(field) or {}, dict))


def substituted(output: str, build: FluxBuild, rel: str) -> list[KubeObject]:
    """The objects of ``kustomize build`` output after Flux's post-build substitution, each
    document on its own, as Flux substitutes each object's YAML; an object that takes a variable
    from a Secret is marked not to be compared (its values would show in a diff). Blocking."""
    objects: list[KubeObject] = []
    secret = set(build.secret_variables)
    for i, text in enumerate(t for t in _DOCUMENT.split(output) if t.strip()):
        where = f"{rel} (kustomize output, document {i + 1})"
        docs = parse_yaml(text, where)
        if any(_disabled(d) for d in docs):
            objects += docs
            continue
        used: set[str] = set()
        try:
            result = parse_yaml(substitute(text, build.variables, used), where)
        except SubstitutionError as exc:
            name = docs[0].get("metadata", {}).get("name") if docs and isinstance(docs[0], dict) else "?"
            raise RenderError(f"post build failed for {docs[0].get('kind') if docs else '?'} {name}: {exc}") from None
        except RenderError as exc:
            raise RenderError(f"post build failed: the substituted YAML does not parse: {exc}") from None
        from_secrets = sorted(used & secret)
        for obj in result:
            if from_secrets and isinstance(obj, dict) and obj.get("kind") != "Secret":
                obj[NOT_COMPARED_KEY] = f"holds variables substituted from a Secret ({', '.join(from_secrets)})"
        objects += result
    return objects


def _secret_holders(objects: list[KubeObject], build: FluxBuild) -> None:
    """Mark objects other than Secrets that hold a value taken from a Secret: not to be compared."""
    if not build.secret_values:
        return
    for obj in objects:
        if isinstance(obj, dict) and obj.get("kind") != "Secret":
            text = yaml.dump(obj, Dumper=yaml.CSafeDumper)
            if any(value in text for value in build.secret_values):
                obj[NOT_COMPARED_KEY] = "holds a value taken from a Secret (valuesFrom)"


async def post_render(objects: list[KubeObject], build: FluxBuild, rel: str, time_limit: float) -> list[KubeObject]:
    """A HelmRelease's post-rendering of Helm's output, in helm-controller's order: its kustomize
    patches and images, then ``commonMetadata``, then helm-controller's origin labels."""
    if build.patches or build.images:
        with tempfile.TemporaryDirectory(prefix="gitops-flux-post-") as work:
            root = Path(work)
            (root / "rendered.yaml").write_text(yaml.dump_all(objects, Dumper=yaml.CSafeDumper), encoding="utf-8")
            kustomization = overlay({"resources": ["rendered.yaml"]}, build, root, generated=True)
            (root / "kustomization.yaml").write_text(yaml.safe_dump(kustomization), encoding="utf-8")
            objects = await render_kustomize(root, root, f"{rel} (post-renderers)", time_limit)
    out = finish(objects, FluxBuild(common_labels={**build.common_labels, **build.owner_labels},
                                    common_annotations=build.common_annotations), leave_out=False)
    _secret_holders(out, build)
    return out


async def render_flux(root: Path, tree: Path, rel: str, build: FluxBuild, time_limit: float,
                      build_options: Sequence[str] = ()) -> list[KubeObject]:
    """The objects kustomize-controller would apply for a Kustomization of path ``root``."""
    with tempfile.TemporaryDirectory(prefix="gitops-flux-") as work:
        directory = await in_thread(prepare, tree, root, Path(work), build)
        if build.substitution and (build.variables or build.substitute_always):
            output = await kustomize_output(directory, Path(work) / "tree", time_limit, build_options)
            objects = await in_thread(substituted, output, build, rel)
        else:
            objects = await render_kustomize(directory, Path(work) / "tree", rel, time_limit, build_options)
    return finish(objects, build)
