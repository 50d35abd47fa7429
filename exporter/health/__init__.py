"""Per-object health: Healthy, Progressing, Degraded, Suspended, Missing or Unknown.

Order of precedence for one object:

1. an object being deleted (``metadata.deletionTimestamp``) is Progressing, "Pending deletion";
2. a user's check for its group/kind (Lua, CEL or declarative rules, from ``healthChecks``; group
   and kind may be globs such as ``*.example.com``), when it gives a verdict;
3. the built-in check for a core kind (:mod:`exporter.health.core`);
4. the built-in rule for a custom resource (:mod:`exporter.health.crds`, exact group/kind first,
   then wildcard entries such as ``*.crossplane.io``);
5. the kstatus-style fallback (:mod:`exporter.health.generic`), which may give no verdict.

Argo's own ``Application`` kind has no built-in check, as in Argo CD: an app-of-apps parent
should not take the health of its children twice.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import yaml

from exporter.config_types import HealthCheckConfig
from exporter.health import core, crds, generic, rules
from exporter.health.cel_check import CelCheck
from exporter.health.lua_check import LuaCheck
from exporter.instruments import internal_error
from exporter.model import Health, HealthResult, KubeObject

__all__ = ["HealthEngine", "assess", "classify_documents", "classify_file", "load_first_document"]

Check = Callable[[KubeObject], HealthResult | None]

#: Kinds that get no health at all, as in Argo CD: an app-of-apps parent would otherwise take its
#: children's health twice.
NO_HEALTH = frozenset({("argoproj.io", "Application")})


def _group_kind(obj: KubeObject) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion") or "")
    return (api_version.rpartition("/")[0] if "/" in api_version else "", str(obj.get("kind") or ""))


def _compile(check: HealthCheckConfig) -> tuple[Check | None, list[str]]:
    where = check.origin or f"healthChecks[{check.group}/{check.kind}]"
    given = [name for name in ("lua", "cel", "rules") if getattr(check, name) is not None]
    if len(given) != 1:
        return None, [f"{where}: set exactly one of lua, cel or rules (got {', '.join(given) or 'none'})"]
    if check.lua is not None:
        lua = LuaCheck(str(check.lua), where)
        error = lua.compile_error()
        return (None, [f"{where}: {error}"]) if error else (lua, [])
    if check.cel is not None:
        return CelCheck.parse(check.cel, where)
    steps, errors = rules.parse(check.rules, where)
    if errors:
        return None, errors
    return (lambda obj: rules.evaluate(steps, obj)), []


def _invalid(message: str) -> Check:
    def check(obj: KubeObject) -> HealthResult:
        return HealthResult(Health.UNKNOWN, message, reason="invalidCheck")
    return check


class HealthEngine:
    """Built-in checks plus a user's own. ``assess`` never raises."""

    def __init__(self, checks: Sequence[HealthCheckConfig] = ()) -> None:
        self._user: list[tuple[str, str, Check]] = []
        self._user_errors: dict[tuple[str, str], str] = {}
        for check in checks:
            compiled, errors = _compile(check)
            if compiled is not None:
                self._user.append((check.group, check.kind, compiled))
            else:
                # An invalid check still claims its kind, so a typo is visible as Unknown rather
                # than silently replaced by a built-in verdict.
                self._user.append((check.group, check.kind, _invalid("; ".join(errors))))

    @staticmethod
    def validate(checks: Sequence[HealthCheckConfig]) -> list[str]:
        """Compile every check and return "origin: problem" lines; empty when all are good."""
        errors: list[str] = []
        for check in checks:
            errors.extend(_compile(check)[1])
        return errors

    def _user_check(self, group: str, kind: str) -> Check | None:
        for g, k, check in self._user:
            if (g == group or fnmatch.fnmatchcase(group, g)) and (k == kind or fnmatch.fnmatchcase(kind, k)):
                return check
        return None

    def assess(self, obj: KubeObject, *, awaits_status: bool = False) -> HealthResult | None:
        """``awaits_status``: the kind's CRD declares a status subresource, so a controller will
        write one; an object of a kind no rule covers without it yet is Progressing."""
        try:
            return self._assess(obj, awaits_status)
        except Exception as exc:  # a check must never take the agent down with it
            internal_error("health", obj, exc)
            return HealthResult(Health.UNKNOWN, f"health check failed: {type(exc).__name__}: {exc}",
                                reason="checkFailed")

    def _assess(self, obj: KubeObject, awaits_status: bool = False) -> HealthResult | None:
        """The first of: deletion in progress, a user's check, the built-in check for the kind, the
        rule of its operator's family, the generic condition reader; each verdict says which."""
        if not isinstance(obj, dict):
            return None
        meta = obj.get("metadata")
        if isinstance(meta, dict) and meta.get("deletionTimestamp"):
            return HealthResult(Health.PROGRESSING, "Pending deletion", "fallback", reason="deleting")
        group, kind = _group_kind(obj)
        if self._user:
            user = self._user_check(group, kind)
            if user is not None:
                result = user(obj)
                if result is not None:
                    return _from(result, "user")
        builtin = core.CORE_CHECKS.get((group, kind))
        if builtin is not None:
            return _from(builtin(obj), "specific")
        found = crds.rule_for(group, kind)
        if found is not None:
            steps, family = found
            result = rules.evaluate(steps, obj)
            if result is not None:
                return _from(result, "family" if family else "specific")
        if (group, kind) in NO_HEALTH:
            return None
        if awaits_status and not obj.get("status"):
            return HealthResult(Health.PROGRESSING, "Waiting for the controller to write a status (the CRD "
                                "declares a status subresource)", "fallback", reason="noStatusYet")
        return _from(generic.assess(obj), "fallback")



def _from(result: HealthResult | None, source: str) -> HealthResult | None:
    return None if result is None else replace(result, source=source)


_BUILTIN = HealthEngine()


def assess(obj: KubeObject) -> HealthResult | None:
    """Health from the built-in checks only; None when no check applies."""
    return _BUILTIN.assess(obj)


class _Loader(yaml.CSafeLoader):
    """Safe YAML that keeps timestamps as the strings the API server sends."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def load_first_document(text: str) -> Any:
    """The first non-empty YAML document, as Kubernetes tooling reads a manifest file."""
    for document in yaml.load_all(text, Loader=_Loader):
        if document is not None:
            return document
    return None


def classify_file(path: str, engine: HealthEngine | None = None) -> dict[str, Any]:
    """Classify the object in ``path`` as if it were live (the ``health`` command).

    Never raises: a file that cannot be read or parsed gives status "Unknown" with the reason
    (for YAML errors, the line and column) in ``message``; a file whose first document is not a
    Kubernetes object gives "Unknown" too. ``status`` is None when no check applies to the kind.
    """
    out: dict[str, Any] = {"file": path, "apiVersion": None, "kind": None, "name": None,
                           "status": None, "message": ""}
    try:
        with open(path, encoding="utf-8") as fh:
            document = load_first_document(fh.read())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
        out.update(status=Health.UNKNOWN.value, message=f"{where}: invalid YAML: {problem}")
        return out
    except (OSError, UnicodeDecodeError) as exc:
        out.update(status=Health.UNKNOWN.value, message=f"{path}: cannot read: {exc}")
        return out
    if not isinstance(document, dict):
        kind = "empty" if document is None else type(document).__name__
        out.update(status=Health.UNKNOWN.value, message=f"{path}: expected a Kubernetes object, got {kind}")
        return out
    meta = document.get("metadata")
    out.update(apiVersion=document.get("apiVersion"), kind=document.get("kind"),
               name=meta.get("name") if isinstance(meta, dict) else None)
    result = (engine or _BUILTIN).assess(document)
    if result is not None:
        out.update(status=result.status.value, message=result.message)
    return out


def _objects_of(document: Any) -> list[Any]:
    """A document's objects: the items of a ``List`` (``kind: List`` or any ``*List`` with items),
    else the document itself."""
    if isinstance(document, dict) and str(document.get("kind", "")).endswith("List") \
            and isinstance(document.get("items"), list):
        return list(document["items"])
    return [document]


def classify_documents(path: str, engine: HealthEngine | None = None) -> list[dict[str, Any]]:
    """Classify every object in ``path`` (every YAML document, and the items of a List), as the
    ``health`` command does. Never raises; problems are Unknown results naming the file, and the
    document (or line and column) they are in."""
    def unknown(message: str) -> dict[str, Any]:
        return {"file": path, "apiVersion": None, "kind": None, "name": None,
                "status": Health.UNKNOWN.value, "message": message}
    try:
        with open(path, encoding="utf-8") as fh:
            documents = [d for d in yaml.load_all(fh.read(), Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else path
        return [unknown(f"{where}: invalid YAML: {problem}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [unknown(f"{path}: cannot read: {exc}")]
    if not documents:
        return [unknown(f"{path}: expected a Kubernetes object, got empty")]
    results = []
    for number, document in enumerate(documents, 1):
        for obj in _objects_of(document):
            if not isinstance(obj, dict):
                where = f"{path}: document {number}" if len(documents) > 1 else path
                results.append(unknown(f"{where}: expected a Kubernetes object, got {type(obj).__name__}"))
                continue
            meta = obj.get("metadata")
            out: dict[str, Any] = {"file": path, "apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                                   "name": meta.get("name") if isinstance(meta, dict) else None,
                                   "status": None, "message": "", "source": None}
            result = (engine or _BUILTIN).assess(obj)
            if result is not None:
                out.update(status=result.status.value, message=result.message, source=result.source or None)
            results.append(out)
    return results
