"""YAML documents built from libyaml's nodes in one plain pass, for the data manifests hold.

PyYAML's C loader composes nodes in C but builds the Python values in Python through a
general constructor: generators for recursive structures, merge keys, a type check per key, and a
regular-expression resolver call per scalar. For a fleet of thousands of apps that construction,
plus the separate bounds walk of :mod:`exporter.render.manifests`, is most of the parsing time.

:func:`load_plain` builds the common shapes directly (maps, lists, strings, numbers, booleans and
nulls, aliases shared as PyYAML shares them) and measures each value's expanded size and depth on
the way, so the bounds cost nothing extra. Anything else (merge keys, timestamps, binary, sets,
explicit tags on the wrong node, a value that contains itself, a text past a bound) makes it
return None, and the caller loads the text the general way, so every result and every error
message is exactly PyYAML's.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

#: Plain scalars resolved so far (value -> tag); cleared when it reaches this size.
_RESOLVED_LIMIT = 50_000
_resolved: dict[str, str] = {}


class Loader(_Base):  # type: ignore[misc]
    """The safe C loader, with the tag of a plain scalar looked up once per distinct value: the
    resolver's answer depends on the value alone (no path resolvers are registered)."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            tag = _resolved.get(value)
            if tag is None:
                if len(_resolved) >= _RESOLVED_LIMIT:
                    _resolved.clear()
                tag = _resolved[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


class BadScalar(Exception):
    """A scalar that does not fit its explicit tag (``!!int nope``): the text's error, at ``line``."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _General(Exception):
    """This text needs PyYAML's general constructor."""


class _Builder:
    """One text's values. ``seen`` maps a node (by identity) to its value, expanded size and
    depth, so an alias costs one lookup and shares the value, as PyYAML's constructor does."""

    __slots__ = ("depth_limit", "loader", "open", "seen")

    def __init__(self, loader: Any, depth_limit: int) -> None:
        self.loader = loader
        self.depth_limit = depth_limit
        self.seen: dict[int, tuple[Any, int, int]] = {}
        self.open: set[int] = set()

    def build(self, node: Node) -> tuple[Any, int, int]:
        """``(value, expanded size, depth)`` of ``node``; raises ``_General``."""
        key = id(node)
        found = self.seen.get(key)
        if found is not None:
            return found
        kind = type(node)
        if kind is ScalarNode:
            result = (self._scalar(node), 1, 0)
        elif key in self.open:
            raise _General  # a value that contains itself
        else:
            self.open.add(key)
            result = self._mapping(node) if kind is MappingNode else self._sequence(node)
            self.open.discard(key)
            if result[2] > self.depth_limit:
                raise _General
        self.seen[key] = result
        return result

    def _scalar(self, node: Node) -> Any:
        tag = node.tag
        value = node.value
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _INT and value.isdigit() and (value[0] != "0" or value == "0"):
            return int(value)
        if tag in (_INT, _FLOAT, _BOOL, _TIMESTAMP):
            try:
                return self.loader.construct_object(node)
            except (ValueError, KeyError, OverflowError):
                raise BadScalar(node.start_mark.line + 1,
                                f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}") from None
        raise _General

    def _mapping(self, node: Node) -> tuple[dict[Any, Any], int, int]:
        if node.tag != _MAP or type(node) is not MappingNode:
            raise _General
        out: dict[Any, Any] = {}
        size, depth = 1, 0
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                raise _General  # merge keys, complex keys: the general constructor decides
            key = self._scalar(key_node)
            value, value_size, value_depth = self.build(value_node)
            out[key] = value
            size += value_size
            if value_depth > depth:
                depth = value_depth
        return out, size, depth + 1

    def _sequence(self, node: Node) -> tuple[list[Any], int, int]:
        if node.tag != _SEQ or type(node) is not SequenceNode:
            raise _General
        out: list[Any] = []
        size, depth = 1, 0
        for item_node in node.value:
            value, value_size, value_depth = self.build(item_node)
            out.append(value)
            size += value_size
            if value_depth > depth:
                depth = value_depth
        return out, size, depth + 1


def load_plain(text: str, *, max_documents: int, max_depth: int, max_nodes: int) -> list[Any] | None:
    """The documents of ``text``, or None when it needs the general loader (see the module
    docstring): also when it is invalid YAML or exceeds a bound, so the caller reports it.
    Raises ``BadScalar`` for a value its explicit tag does not fit.

    Merge keys (``<<``) resolve to their own tag, so they are caught at the key; ``=`` keys too.
    """
    loader = Loader(text)
    try:
        docs: list[Any] = []
        total = 0
        while loader.check_node():
            # Anchors belong to one document; a fresh builder per document also keeps node
            # identities meaningful (the document's root holds all its nodes alive meanwhile).
            node = loader.get_node()
            value, size, _ = _Builder(loader, max_depth).build(node)
            docs.append(value)
            total += size
            if len(docs) > max_documents or total > max_nodes:
                return None
        return docs
    except (_General, yaml.YAMLError, RecursionError, ValueError, KeyError):
        return None
    finally:
        loader.dispose()
