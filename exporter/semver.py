"""Which version a ``targetRevision`` names: an exact version, or a semver range (chart versions,
and the tags of a Git repository).

Helm reads ranges with the Masterminds constraint syntax (``^1.2``, ``~1.2.3``, ``1.x``,
``>= 1.2, < 2``, ``1.2 - 1.4``, ``*``, alternatives with ``||``); npm's syntax is the same but for
the comma meaning "and", which :func:`pick_version` turns into npm's space. The newest matching
version wins. Pre-releases follow Helm, not npm: a range without a pre-release matches none, and
one that names a pre-release compares them like any other version.
"""

from __future__ import annotations

import re
from typing import Any

import semantic_version
from semantic_version.base import AllOf, AnyOf, Range

__all__ = ["VersionNotFound", "is_range", "pick_version"]

_OPERATOR_SPACE = re.compile(r"(>=|<=|!=|>|<|=|\^|~)\s+")


class VersionNotFound(ValueError):
    """No version of the chart satisfies the constraint; the message lists what there is."""


def is_range(constraint: str) -> bool:
    """Whether ``constraint`` can match more than one version (so new releases move it)."""
    text = constraint.strip().lstrip("v")
    try:
        semantic_version.Version(text)
    except ValueError:
        return True
    return False


_PRERELEASE = re.compile(r"\d-[0-9A-Za-z]")


def _admit_prereleases(clause: Any) -> Any:
    """The same clause with pre-releases compared like any version (Helm's rule once a constraint
    names a pre-release; npm would admit only those of the same patch)."""
    if isinstance(clause, Range):
        return Range(clause.operator, clause.target, prerelease_policy=Range.PRERELEASE_ALWAYS)
    if isinstance(clause, AllOf | AnyOf):
        return type(clause)(*(_admit_prereleases(c) for c in clause.clauses))
    return clause


def _spec(constraint: str) -> Any:
    """The matcher for ``constraint``: something with ``match(Version) -> bool``."""
    text = constraint.strip() or "*"
    text = _OPERATOR_SPACE.sub(r"\1", text)
    text = re.sub(r"(?<![\w.-])v(?=\d)", "", text)  # Helm accepts a leading v
    clause = semantic_version.NpmSpec(" ".join(text.replace(",", " ").split())).clause
    return _admit_prereleases(clause) if _PRERELEASE.search(text) else clause


def _parse(version: str) -> semantic_version.Version | None:
    try:
        return semantic_version.Version(version.lstrip("v"))
    except ValueError:
        return None


def pick_version(versions: list[str], constraint: str, where: str) -> str:
    """The version of ``versions`` (as the repository spells it) that ``constraint`` selects.

    Raises ``VersionNotFound`` naming ``where`` and the newest versions there are, and
    ``ValueError`` for a constraint that is not a version or a range."""
    try:
        spec = _spec(constraint)
    except ValueError:
        raise ValueError(f"'{constraint}' is neither a chart version nor a semver range") from None
    parsed = {v: p for v in versions if (p := _parse(v)) is not None}
    exact = _parse(constraint.strip())
    if exact is not None:
        match = [v for v, p in parsed.items() if p == exact]
    else:
        match = [v for v, p in parsed.items() if spec.match(p)]
    if match:
        return max(match, key=lambda v: parsed[v])
    newest = sorted(parsed, key=lambda v: parsed[v], reverse=True)[:10]
    have = ", ".join(newest) if newest else "no versions"
    more = f" (and {len(parsed) - len(newest)} older)" if len(parsed) > len(newest) else ""
    raise VersionNotFound(f"no version matches '{constraint}' in {where}; it has {have}{more}")
