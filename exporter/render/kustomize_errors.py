"""kustomize's error output in the user's terms: the repository file, the line, what is wrong.

``kubectl kustomize`` reports through klog (``E1207 20:29:33.48 4521 run.go:72] "command failed"
err="..."``), quotes the error Go-style, nests it in "accumulating resources" wrappers and names
files by their absolute path inside the agent's cache. A user reading an app's reason wants none
of that: ``apps/web/cm.yaml:3: invalid YAML: did not find expected key``. The shapes kustomize's
errors take are recognised here; anything else keeps kustomize's words, without the prefix and
with repository paths.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from exporter.render.manifests import RenderError, load_yaml_documents
from exporter.render.process import summarize

__all__ = ["explain", "resource_id"]

_KLOG = re.compile(r'^[IWEF]\d{4} [\d:.]+\s+\d+ [\w.-]+:\d+\] (?:"command failed" err=(?P<err>".*")|(?P<text>.*))$')
_RECURSED = re.compile(r"recursed accumulation of path '([^']+)'")
_MALFORMED = re.compile(r"MalformedYAMLError: yaml: line (\d+): (.*?) in File: (\S+)")
_FROM = re.compile(r"(?:accumulating|merging) resources from '([^']+)'")
_DUPLICATE = re.compile(r"may not add resource with an already registered id: (\S+?)'?(?::|$)")
_NO_PATCH_TARGET = re.compile(r'no resource matches strategic merge patch "([^"]+)"')
_NO_TARGET = re.compile(r"no matches for Id (\S+?);")
_UNKNOWN_FIELD = re.compile(r'invalid Kustomization: json: unknown field "([^"]+)"')
_INVALID_YAML = re.compile(r"invalid Kustomization: yaml: line (\d+): (.*)")
_MUST_BUILD = re.compile(r"': must build at directory: .*$")


def _unquote(quoted: str) -> str:
    try:
        return str(json.loads(quoted))
    except ValueError:
        return quoted.strip('"')


def _strip_klog(stderr: str) -> str:
    lines = []
    for line in stderr.splitlines():
        found = _KLOG.match(line.strip())
        if found is None:
            lines.append(line)
        else:
            lines.append(_unquote(found["err"]) if found["err"] else found["text"])
    return "\n".join(lines)


def resource_id(text: str) -> str:
    """kustomize's resource id (``Deployment.v1.apps/web.shop``, ``ConfigMap.v1.[noGrp]/a.[noNs]``)
    as a person names it: ``Deployment shop/web``, ``ConfigMap a``."""
    kind_part, _, rest = text.partition("/")
    kind = kind_part.split(".", 1)[0]
    name, _, namespace = rest.rpartition(".")
    if not name:
        return text
    return f"{kind} {name}" if namespace in ("[noNs]", "") else f"{kind} {namespace}/{name}"


def _without_paths(text: str, tree: Path) -> str:
    for root in {str(tree.resolve()), str(tree)}:
        text = text.replace(root + "/", "").replace(root, ".")
    return text


def _yaml_error(tree: Path, file: str) -> RenderError | None:
    """The agent's own reading of a file kustomize found malformed: its parser names the line of
    the problem, where kustomize's YAML library names, for some problems, the line before.
    Blocking: reads the file."""
    try:
        load_yaml_documents((tree / file).read_text(encoding="utf-8"), file)
    except RenderError as exc:
        message = exc.message if exc.message.startswith("invalid YAML") else f"invalid YAML: {exc.message}"
        return RenderError(message, exc.file, exc.line)
    except (OSError, UnicodeDecodeError):
        return None
    return None


def explain(stderr: str, tree: Path, directory: Path) -> RenderError:
    """The ``RenderError`` for kustomize's ``stderr`` when it built ``directory`` of ``tree``.
    Blocking: may read the file kustomize names."""
    text = _without_paths(_strip_klog(stderr), tree).strip()
    try:
        rel = directory.resolve().relative_to(tree.resolve()).as_posix()
    except ValueError:
        rel = "."
    kustomization = "kustomization.yaml" if rel == "." else f"{rel}/kustomization.yaml"
    where = ([m.group(1) for m in _RECURSED.finditer(text)] or [rel])[-1]
    sources = _FROM.findall(text)
    if found := _MALFORMED.search(text):
        file = os.path.normpath(os.path.join(where, found.group(3)))
        return _yaml_error(tree, file) or RenderError(f"invalid YAML: {found.group(2)}", file, int(found.group(1)))
    if found := _INVALID_YAML.search(text):
        return RenderError(f"invalid YAML: {found.group(2)}", kustomization, int(found.group(1)))
    if found := _UNKNOWN_FIELD.search(text):
        return RenderError(f"unknown field '{found.group(1)}'", kustomization)
    if found := _DUPLICATE.search(text):
        also = f" again in resources '{sources[-1]}'" if sources else " twice"
        return RenderError(f"{resource_id(found.group(1))} is defined{also}", kustomization)
    if found := _NO_PATCH_TARGET.search(text) or _NO_TARGET.search(text):
        return RenderError(f"a patch targets {resource_id(found.group(1))}, which no resource defines", kustomization)
    if "missing kind in object" in text and sources:
        return RenderError(f"resources '{sources[-1]}': an object has no kind", kustomization)
    text = _MUST_BUILD.sub("", text).replace("accumulation err='", "")
    return RenderError(summarize(text))
