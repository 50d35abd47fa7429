"""Kubernetes objects from manifest text: multi-document YAML, JSON, and ``kind: List`` wrappers.

Every object must name its ``apiVersion``, ``kind`` and ``metadata.name``; one that does not is an
error pointing at its file and document, because silently dropping it would hide a typo that
leaves something undeployed.

Manifests come from whoever can push to a watched repository, so parsing is bounded: a text may
hold at most ``MAX_TEXT_BYTES`` and ``MAX_DOCUMENTS`` documents, nothing may nest deeper than
``MAX_DEPTH``, and YAML aliases may not expand to more than ``MAX_NODES`` values. PyYAML shares an
aliased value rather than copying it, so a 700-byte "billion laughs" file loads instantly; it is
every later step that walks or copies the objects (comparison, diff views) that would expand it.
:func:`check_bounds` measures the expanded size with one visit per distinct value, before
anything else sees the documents.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from exporter.model import KubeObject
from exporter.render.yaml_loading import BadScalar, load_plain

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: The largest manifest text (one file, or one renderer's whole output) read.
MAX_TEXT_BYTES = 32 * 1024 * 1024
#: The most documents in one text.
MAX_DOCUMENTS = 10_000
#: The deepest nesting of maps and lists (real charts, CRD schemas included, stay under 40).
MAX_DEPTH = 100
#: The most values one text may stand for once its aliases are expanded.
MAX_NODES = 2_000_000


class RenderError(Exception):
    """An app's manifests could not be produced. ``file`` is relative to the repository root."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[RenderError], tuple[str, str | None, int | None]]:
        # Directory sources are parsed in a worker process; the error crosses back whole.
        return (RenderError, (self.message, self.file, self.line))

    def __str__(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file:
            return f"{self.file}: {self.message}"
        return self.message


def parse_yaml(text: str, file: str) -> list[KubeObject]:
    """The objects in a (multi-document) YAML text, in order; empty documents are skipped."""
    return objects_of(load_yaml_documents(text, file), file)


def load_yaml_documents(text: str, file: str) -> list[Any]:
    """The documents of a YAML text, within the bounds above. Raises ``RenderError``.

    Plain data is built in one pass that also measures the bounds (:mod:`.yaml_loading`); a text
    that pass does not take is loaded and checked the general way, which reports what is wrong."""
    _check_size(text, file)
    try:
        plain = load_plain(text, max_documents=MAX_DOCUMENTS, max_depth=MAX_DEPTH, max_nodes=MAX_NODES)
    except BadScalar as exc:
        raise RenderError(str(exc), file, exc.line) from None
    if plain is not None:
        return plain
    try:
        docs: list[Any] = []
        for doc in yaml.load_all(text, Loader=_Loader):
            docs.append(doc)
            if len(docs) > MAX_DOCUMENTS:
                raise RenderError(f"more than {MAX_DOCUMENTS:,} YAML documents", file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise RenderError(problem, file, mark.line + 1 if mark is not None else None) from None
    except yaml.YAMLError as exc:
        raise RenderError(f"invalid YAML: {exc}", file) from None
    except RecursionError:
        raise RenderError(f"invalid YAML: nested deeper than {MAX_DEPTH} levels", file) from None
    except (ValueError, KeyError, OverflowError) as exc:  # a value its explicit tag does not fit
        raise RenderError(f"invalid YAML: a value does not fit its tag ({exc})", file) from None
    try:
        check_bounds(docs)
    except _TooBig as exc:
        raise RenderError(f"document {exc.document}: {exc}", file, _alias_line(text, exc.document)) from None
    return docs


def parse_json(text: str, file: str) -> list[KubeObject]:
    """The object (or array of objects) in a JSON text."""
    _check_size(text, file)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RenderError(exc.msg, file, exc.lineno) from None
    except RecursionError:
        raise RenderError(f"invalid JSON: nested deeper than {MAX_DEPTH} levels", file) from None
    docs = data if isinstance(data, list) else [data]
    try:
        check_bounds(docs)
    except _TooBig as exc:
        raise RenderError(f"document {exc.document}: {exc}", file) from None
    return objects_of(docs, file)


class _TooBig(ValueError):
    def __init__(self, message: str, document: int) -> None:
        super().__init__(message)
        self.document = document


def _check_size(text: str, file: str) -> None:
    if len(text) > MAX_TEXT_BYTES:
        raise RenderError(f"larger than {MAX_TEXT_BYTES // (1024 * 1024)} MiB", file)


def check_bounds(docs: list[Any]) -> None:
    """Raise ``_TooBig`` when the documents nest deeper than ``MAX_DEPTH``, refer to themselves,
    or stand for more than ``MAX_NODES`` values once aliases are expanded.

    Iterative, and each distinct map or list is visited once (its expanded size and depth are
    remembered by identity), so the check costs what the parsed text costs, not what it expands to.
    """
    memo: dict[int, tuple[int, int]] = {}  # id -> (expanded values, depth)
    total = 0
    for number, doc in enumerate(docs, start=1):
        size, _ = _measure(doc, memo, number)
        total += size
        if total > MAX_NODES:
            raise _TooBig(f"aliases expand to more than {MAX_NODES:,} values", number)


def _children(node: Any) -> list[Any]:
    values = node.values() if isinstance(node, dict) else node
    return [v for v in values if isinstance(v, dict | list)]


def _measure(root: Any, memo: dict[int, tuple[int, int]], document: int) -> tuple[int, int]:
    if not isinstance(root, dict | list):
        return 1, 0
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            size, depth = 1 + len(node), 1
            for child in _children(node):
                child_size, child_depth = memo[id(child)]
                size += child_size - 1
                depth = max(depth, child_depth + 1)
            if depth > MAX_DEPTH:
                raise _TooBig(f"nested deeper than {MAX_DEPTH} levels", document)
            if size > MAX_NODES:
                raise _TooBig(f"aliases expand to more than {MAX_NODES:,} values", document)
            memo[key] = (size, depth)
            continue
        if key in memo:
            continue
        if key in open_:
            raise _TooBig("a YAML alias refers to the value that contains it", document)
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in memo)
    return memo[id(root)]


def _alias_line(text: str, document: int) -> int | None:
    """The line of the first alias in document ``document`` (1-based), for the error message.
    Only called on the error path; the events stream shares no structure, so it stays cheap."""
    number = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.DocumentStartEvent):
                number += 1
            elif number == document and isinstance(event, yaml.AliasEvent):
                return event.start_mark.line + 1 if event.start_mark else None
    except yaml.YAMLError:
        return None
    return None


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
