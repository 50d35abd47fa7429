"""Glob patterns as Argo CD writes them: ``*``, ``?``, ``[abc]``, ``**`` and ``{a,b}`` alternatives.

Two flavours, because Argo CD itself has two: directory ``include``/``exclude`` patterns match the
whole relative path and their ``*`` crosses ``/`` (``*.yaml`` matches ``sub/x.yaml``), while the
ApplicationSet Git directory generator matches like Go's ``path.Match``, where ``*`` stays within one
path segment (``apps/*`` matches ``apps/web`` but not ``apps/web/base``).
"""

from __future__ import annotations

import functools
import re


class GlobError(ValueError):
    """A pattern that cannot be compiled (unbalanced braces or brackets)."""


@functools.lru_cache(maxsize=512)
def compile_glob(pattern: str, separator_aware: bool = False) -> re.Pattern[str]:
    """A regular expression matching exactly what ``pattern`` matches."""
    star = "[^/]*" if separator_aware else ".*"
    one = "[^/]" if separator_aware else "."
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                # "**/" also matches no directory at all, as in most glob dialects.
                if pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                else:
                    out.append(".*")
                    i += 2
                continue
            out.append(star)
        elif c == "?":
            out.append(one)
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern.startswith("[!", i) or pattern.startswith("[^", i) else i + 1)
            if end < 0:
                raise GlobError(f"unclosed '[' in pattern '{pattern}'")
            body = pattern[i + 1:end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise GlobError(f"unclosed '{{' in pattern '{pattern}'")
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def glob_match(pattern: str, path: str, separator_aware: bool = False) -> bool:
    """Whether ``path`` (with ``/`` separators, no leading ``./``) matches ``pattern``."""
    pattern = pattern.removeprefix("./")
    path = path.removeprefix("./")
    return compile_glob(pattern, separator_aware).match(path) is not None
