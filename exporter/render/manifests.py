"""Kubernetes objects from manifest text: multi-document YAML, JSON, and ``kind: List`` wrappers.

Every object must name its ``apiVersion``, ``kind`` and ``metadata.name``; one that does not is an
error pointing at its file and document, because silently dropping it would hide a typo that
leaves something undeployed.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from exporter.model import KubeObject

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class RenderError(Exception):
    """An app's manifests could not be produced. ``file`` is relative to the repository root."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file:
            return f"{self.file}: {self.message}"
        return self.message


def parse_yaml(text: str, file: str) -> list[KubeObject]:
    """The objects in a (multi-document) YAML text, in order; empty documents are skipped."""
    try:
        docs = list(yaml.load_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise RenderError(problem, file, mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise RenderError(f"invalid YAML: {exc}", file) from None
    return objects_of(docs, file)


def parse_json(text: str, file: str) -> list[KubeObject]:
    """The object (or array of objects) in a JSON text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RenderError(exc.msg, file, exc.lineno) from None
    return objects_of(data if isinstance(data, list) else [data], file)


def objects_of(docs: list[Any], file: str) -> list[KubeObject]:
    """Check documents and expand lists. Document numbers in messages count from 1."""
    out: list[KubeObject] = []
    for index, doc in enumerate(docs, start=1):
        if doc is None:
            continue
        where = f"document {index}"
        _check(doc, where, file)
        if _is_list(doc):
            for item_index, item in enumerate(doc.get("items") or [], start=1):
                _check(item, f"{where} item {item_index}", file)
                out.append(item)
        else:
            out.append(doc)
    return out


def _is_list(doc: KubeObject) -> bool:
    kind = doc.get("kind")
    items = doc.get("items")
    return isinstance(kind, str) and kind.endswith("List") and "items" in doc and isinstance(items, list | None)


def _check(doc: Any, where: str, file: str) -> None:
    if not isinstance(doc, dict):
        raise RenderError(f"{where} is a {type(doc).__name__}, not a Kubernetes object", file)
    for key in ("apiVersion", "kind"):
        value = doc.get(key)
        if not value or not isinstance(value, str):
            raise RenderError(f"{where} has no '{key}'", file)
    if _is_list(doc):
        return
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not meta.get("name") or not isinstance(meta.get("name"), str):
        # generateName objects are created anew on every apply; they have no stable identity to compare.
        raise RenderError(f"{where} ({doc['kind']}) has no 'metadata.name'", file)
