"""Reading config nodes: every value checked against its expected shape, every problem kept with
its ``file:line: field.path``, so a user fixes a broken config in one round."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from exporter import humanize
from exporter.config_types import (
    ChannelType,
    SourceType,
    WindowKind,
)
from exporter.model import AppState

try:
    ConfigLoader: Any = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    ConfigLoader = yaml.SafeLoader

#: Allowed values, taken from the types themselves so the two cannot disagree.
SOURCE_TYPES: tuple[SourceType, ...] = get_args(SourceType)

CHANNEL_TYPES: tuple[ChannelType, ...] = get_args(ChannelType)

WINDOW_KINDS: tuple[WindowKind, ...] = get_args(WindowKind)

APP_STATES: tuple[str, ...] = tuple(state.value for state in AppState)

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:")

_INLINE_SECRET = "inline secrets are not accepted; use {hint}"

class ConfigError(Exception):
    """The configuration is invalid. ``errors`` holds every problem, each ``file:line: field: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(self.errors)

def parse_duration(value: Any) -> float:
    """Seconds from ``90s``, ``10m``, ``4h``, ``1d``, ``1h30m`` or a plain number of seconds.

    Raises ``ValueError`` with a message fit to show a user.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"must not be negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        return humanize.parse_duration(value)
    raise ValueError(f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not a {kind_name(value)}")

def is_local_path(url: str) -> bool:
    """A repository given as a path on this machine (not a URL and not ``user@host:path``)."""
    return "://" not in url and not _SCP_LIKE.match(url)

def kind_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__

def node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "string", "int": "number", "float": "number", "bool": "boolean"}.get(tag, tag)

@dataclass
class Context:
    """Where errors go, and how locations are named."""

    file: str
    base_dir: Path
    errors: list[str] = field(default_factory=list)
    #: Location for nodes that carry no position (data that did not come from the file).
    fallback: str | None = None
    #: Applied to every string value read (generator templates); raises ValueError on a bad template.
    subst: Callable[[str], str] | None = None

    def loc(self, node: yaml.Node | None) -> str:
        if node is not None and node.start_mark is not None:
            return f"{self.file}:{node.start_mark.line + 1}"
        return self.fallback or self.file

    def error(self, node: yaml.Node | None, path: str, message: str) -> None:
        self.errors.append(f"{self.loc(node)}: {path}: {message}")

    def path(self, value: str) -> str:
        """Relative file names in the config are relative to the config file, not the working dir."""
        expanded = os.path.expanduser(value)
        return expanded if os.path.isabs(expanded) else str(self.base_dir / expanded)

def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

def read_mapping(ctx: Context, node: yaml.Node, path: str, allowed: Iterable[str],
             secrets: Mapping[str, str] | None = None,
             required: Iterable[str] = ()) -> dict[str, yaml.Node] | None:
    """The fields of a mapping node by key, after reporting unknown, duplicate and secret keys.

    Keys whose value is ``null`` are left out, so they take their default.
    """
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, path or "(top level)", f"must be a mapping, not a {node_kind(node)}")
        return None
    allowed = list(allowed)
    secrets = secrets or {}
    out: dict[str, yaml.Node] = {}
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        sub = f"{path}.{key}" if path else str(key)
        if key is None:
            ctx.error(key_node, path, "keys must be strings")
            continue
        if key in seen:
            ctx.error(key_node, sub, f"duplicate key '{key}'")
            continue
        seen.add(key)
        if key in secrets:
            ctx.error(key_node, sub, _INLINE_SECRET.format(hint=secrets[key]))
            continue
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(allowed)}"
            ctx.error(key_node, path or "(top level)", f"unknown field '{key}'{hint}")
            continue
        if not _is_null(value_node):
            out[key] = value_node
    for key in required:
        if key not in out and key not in secrets:
            ctx.error(node, f"{path}.{key}" if path else key, "is required")
    return out

def read_sequence(ctx: Context, node: yaml.Node, path: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, path, f"must be a list, not a {node_kind(node)}")
        return []
    return list(node.value)

def read_data(ctx: Context, node: yaml.Node, path: str) -> Any:
    """Plain Python data from a node (for free-form blocks such as Helm values)."""
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except ConstructorError as exc:
        ctx.error(node, path, str(exc.problem or exc))
        return None

def read_str(ctx: Context, node: yaml.Node, path: str, choices: Collection[str] | None = None) -> str | None:
    """A string field. Plain scalars are taken as written, so ``targetRevision: 1.10`` stays ``1.10``."""
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, path, f"must be a string, not a {node_kind(node)}")
        return None
    value = str(node.value)
    if ctx.subst is not None:
        try:
            value = ctx.subst(value)
        except ValueError as exc:
            ctx.error(node, path, str(exc))
            return None
    if choices is not None and value not in choices:
        ctx.error(node, path, f"must be one of {', '.join(choices)}, not '{value}'")
        return None
    return value

_Choice = TypeVar("_Choice", bound=str)

def read_choice(ctx: Context, node: yaml.Node, path: str, choices: tuple[_Choice, ...]) -> _Choice | None:
    """One of ``choices``, typed as the choices are (a ``Literal`` of the config types)."""
    value = read_str(ctx, node, path, choices)
    return next((c for c in choices if c == value), None)

def read_bool(ctx: Context, node: yaml.Node, path: str) -> bool | None:
    value = read_data(ctx, node, path)
    if not isinstance(value, bool):
        ctx.error(node, path, f"must be true or false, not a {node_kind(node)}")
        return None
    return value

def read_count(ctx: Context, node: yaml.Node, path: str) -> int | None:
    """A whole number of at least 1."""
    value = read_data(ctx, node, path)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        ctx.error(node, path, "must be a whole number of at least 1")
        return None
    return value

def read_duration(ctx: Context, node: yaml.Node, path: str, positive: bool = False) -> float | None:
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, path, f"must be a duration like 90s, 10m, 4h, 1d or 1h30m, not a {node_kind(node)}")
        return None
    try:
        seconds = parse_duration(read_data(ctx, node, path))
    except ValueError as exc:
        ctx.error(node, path, str(exc))
        return None
    if positive and seconds <= 0:
        ctx.error(node, path, "must be greater than zero")
        return None
    return seconds

def read_str_list(ctx: Context, node: yaml.Node, path: str, choices: Collection[str] | None = None) -> list[str]:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str" and choices is None:
        # A single string where a list is expected is a common slip; accept it as a list of one.
        value = read_str(ctx, node, path)
        return [value] if value is not None else []
    out = []
    for i, item in enumerate(read_sequence(ctx, node, path)):
        value = read_str(ctx, item, f"{path}[{i}]", choices)
        if value is not None:
            out.append(value)
    return out

def read_str_map(ctx: Context, node: yaml.Node, path: str) -> dict[str, str]:
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, path, f"must be a mapping of strings, not a {node_kind(node)}")
        return {}
    out: dict[str, str] = {}
    for key_node, value_node in node.value:
        key = read_str(ctx, key_node, path)
        if key is None:
            continue
        value = read_str(ctx, value_node, f"{path}.{key}")
        if value is not None:
            out[key] = value
    return out

def unknown_name(what: str, name: str, known: Collection[str]) -> str:
    if not known:
        return f"unknown {what} '{name}'; none are configured"
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(sorted(known))}"
    return f"unknown {what} '{name}'{hint}"
