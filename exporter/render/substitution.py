"""Flux's post-build variable substitution: ``${var}`` expressions in the YAML of each object built,
as kustomize-controller evaluates them (fluxcd/pkg ``envsubst``, a fork of drone/envsubst).

Only the braced form is an expression; ``$var`` stays as written and ``$$`` is a literal ``$`` (so
``$${var}`` gives ``${var}``). As in the controller's
default (non-strict) mode, an undefined variable is the empty string, so ``${var=default}`` and
``${var-default}`` never take their default while ``${var:=default}`` and ``${var:-default}`` do
when the value is empty. Removals (``#``, ``##``, ``%``, ``%%``) match glob patterns as bash does;
replacements take literal patterns, and a glob there is refused by name rather than matched
differently from bash.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

__all__ = ["SubstitutionError", "substitute"]

_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_SUBSTRING = re.compile(r"^:(-?\d+)(?::(\d+))?$")
_GLOB = set("*?[")


class SubstitutionError(ValueError):
    """An expression Flux would refuse (or this agent does not evaluate), named."""


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` closing the expression that starts at ``start`` (after ``${``)."""
    depth, i = 1, start
    while i < len(text):
        if text.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise SubstitutionError(f"missing closing brace in '${{{text[start:start + 40]}'")


def _literal(pattern: str, expression: str) -> str:
    if _GLOB & set(pattern):
        raise SubstitutionError(f"'${{{expression}}}': glob patterns are not supported; use a literal text")
    return pattern


def _remove(value: str, pattern: str, *, from_start: bool, longest: bool) -> str:
    """``value`` without the shortest (or longest) start or end matching the glob ``pattern``."""
    sizes = range(len(value), -1, -1) if longest else range(len(value) + 1)
    for size in sizes:
        part = value[:size] if from_start else value[len(value) - size:]
        if fnmatch.fnmatchcase(part, pattern):
            return value[size:] if from_start else value[:len(value) - size]
    return value


def _apply(name: str, rest: str, value: str, variables: Mapping[str, str], used: set[str],
           expression: str) -> str:
    """``rest`` (what follows the name inside the braces) applied to ``value``."""
    if not rest:
        return value
    if rest[:2] in (":=", ":-"):
        return value if value else substitute(rest[2:], variables, used)
    if rest[0] in "=-":
        return value  # non-strict: every variable is set, if only to ""
    if m := _SUBSTRING.match(rest):
        offset = int(m.group(1))
        part = value[offset:] if offset >= 0 else value[max(len(value) + offset, 0):]
        return part[:int(m.group(2))] if m.group(2) is not None else part
    casing = {"^^": str.upper, ",,": str.lower}
    if rest in casing:
        return casing[rest](value)
    if rest in ("^", ","):
        return (value[:1].upper() if rest == "^" else value[:1].lower()) + value[1:]
    if rest[0] == "/":
        body = rest[1:]
        mode = body[:1] if body[:1] in "/#%" else ""
        pattern, _, replacement = body[len(mode):].partition("/")
        pattern = _literal(pattern, expression)
        replacement = substitute(replacement, variables, used)
        if mode == "/":
            return value.replace(pattern, replacement) if pattern else value
        if mode == "#":
            return replacement + value[len(pattern):] if value.startswith(pattern) else value
        if mode == "%":
            return value[:len(value) - len(pattern)] + replacement if value.endswith(pattern) else value
        return value.replace(pattern, replacement, 1) if pattern else value
    for op in ("##", "#", "%%", "%"):
        if rest.startswith(op):
            return _remove(value, rest[len(op):], from_start=op[0] == "#", longest=len(op) == 2)
    raise SubstitutionError(f"'${{{expression}}}' is not an expression Flux evaluates")


def _expression(expression: str, variables: Mapping[str, str], used: set[str]) -> str:
    if expression.startswith("#"):
        name = expression[1:]
        if not _IDENT.fullmatch(name):
            raise SubstitutionError(f"'${{{expression}}}': unable to parse variable name")
        used.add(name)
        return str(len(variables.get(name, "")))
    m = _IDENT.match(expression)
    if m is None:
        raise SubstitutionError(f"'${{{expression}}}': unable to parse variable name")
    name = m.group(0)
    used.add(name)
    return _apply(name, expression[m.end():], variables.get(name, ""), variables, used, expression)


def substitute(text: str, variables: Mapping[str, str], used: set[str] | None = None) -> str:
    """``text`` with every ``${...}`` expression evaluated; the names read are added to ``used``.
    Raises ``SubstitutionError``."""
    used = used if used is not None else set()
    out: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        if text.startswith("$$", j):
            out.append("$")
            i = j + 2
        elif text.startswith("${", j):
            end = _closing(text, j + 2)
            out.append(_expression(text[j + 2:end], variables, used))
            i = end + 1
        else:
            out.append("$")
            i = j + 1
