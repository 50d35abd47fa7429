"""The declarative rule form shared by the built-in CRD checks and users' own checks.

Most custom resources report health the same few ways, so a check is an ordered list of steps and
the first step that matches gives the verdict. In YAML (``healthChecks[].rules``)::

    rules:
      checks:
        - suspended: spec.suspend                  # field is true  -> Suspended
          message: Paused by the operator
        - generation: true                         # observedGeneration < generation -> Progressing
        - condition: Ready                         # first condition of this type ...
          status: "False"                          # ... with this status (optional)
          reason: [Failed, Error]                  # ... and one of these reasons (optional)
          health: Degraded
          message: "{message}"                     # the condition's message
        - field: status.phase                      # a field ...
          in: [Running, Succeeded]                 # ... equal to one of these (or ``equals: x``,
          health: Healthy                          #     ``present: true/false``)
        - phase: {Failed: Degraded, Pending: Progressing}   # status.phase -> health
          message: "{.status.message}"
        - noStatus: Progressing                    # no status written yet
          message: Waiting for the controller
        - default: Progressing                     # always matches

Keys shared by all steps: ``health`` (where the step does not imply it) and ``message``. Messages
are templates: ``{message}``, ``{reason}``, ``{type}``, ``{status}`` name the matched condition's
fields, ``{value}`` the matched field's value, and ``{.a.b}`` any field of the object (absent fields
render empty). ``in: <path>`` on a condition step reads conditions from another list
(``status.agentStatus.conditions``). When no step matches, the check gives no verdict and the
generic fallback applies.

The form has no loops and no expressions on purpose: a step costs a few dict lookups, so a rule
cannot hang or exhaust the agent, and a contributor reads a rule at a glance. What does not fit
is a small Python function in ``exporter.health.crds`` (built-ins) or a CEL/Lua check (users).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from exporter.health.paths import condition_code, conditions, generation_behind, get, text, value_code
from exporter.model import Health, HealthResult, KubeObject

#: A step in Python: either the mapping form above or a function that may give a verdict.
Step = Mapping[str, Any] | Callable[[KubeObject], HealthResult | None]

_HEALTH = {h.value: h for h in Health}
_SELECTORS = ("condition", "field", "phase", "suspended", "generation", "noStatus", "default")
_STEP_KEYS = {
    "condition": {"status", "reason", "health", "message", "in"},
    "field": {"equals", "in", "present", "health", "message"},
    "phase": {"field", "message"},
    "suspended": {"message"},
    "generation": {"message"},
    "noStatus": {"message"},
    "default": {"message"},
}
_TEMPLATE = re.compile(r"\{(\.?[A-Za-z0-9_.\-]+)\}")


class RuleError(ValueError):
    """A rule that cannot be evaluated; the message names the step and the field."""


def render(template: str, obj: KubeObject, scope: Mapping[str, Any]) -> str:
    """Fill ``{name}`` from the matched condition/field and ``{.path}`` from the object."""
    if "{" not in template:
        return template

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.startswith("."):
            return text(get(obj, key[1:]))
        return text(scope.get(key))

    return _TEMPLATE.sub(sub, template)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _match_condition(step: Mapping[str, Any], obj: KubeObject) -> dict[str, Any] | None:
    wanted = step["condition"]
    status = step.get("status")
    reasons = _as_list(step["reason"]) if "reason" in step else None
    for cond in conditions(obj, step.get("in", "status.conditions")):
        if cond.get("type") != wanted:
            continue
        if status is not None and text(cond.get("status")) != text(status):
            continue
        if reasons is not None and cond.get("reason") not in reasons:
            continue
        return cond
    return None


def _result(step: Mapping[str, Any], health: Any, obj: KubeObject, scope: Mapping[str, Any],
            reason: str) -> HealthResult:
    message = step.get("message")
    if message is None:
        message = "{message}" if "condition" in step else ""
    return HealthResult(_HEALTH[str(health)], render(str(message), obj, scope), reason=reason)


def evaluate_step(step: Step, obj: KubeObject) -> HealthResult | None:
    """The verdict of one step, or None when it does not match."""
    if callable(step):
        return step(obj)
    if "condition" in step:
        cond = _match_condition(step, obj)
        if cond is None:
            return None
        return _result(step, step["health"], obj, cond, condition_code(cond))
    if "field" in step and "phase" not in step:
        value = get(obj, step["field"])
        if "equals" in step:
            hit = value is not None and text(value) == text(step["equals"])
        elif "in" in step:
            hit = value is not None and text(value) in {text(v) for v in step["in"]}
        elif "present" in step:
            hit = (value not in (None, "", [], {})) == bool(step["present"])
        else:
            hit = value not in (None, "", [], {}, False)
        leaf = str(step["field"]).rsplit(".", 1)[-1]
        return _result(step, step["health"], obj, {"value": value}, value_code(leaf, value)) if hit else None
    if "phase" in step:
        value = get(obj, step.get("field", "status.phase"))
        mapping = step["phase"]
        if value is None or text(value) not in mapping:
            return None
        leaf = str(step.get("field", "status.phase")).rsplit(".", 1)[-1]
        return _result(step, mapping[text(value)], obj, {"value": value}, value_code(leaf, value))
    if "suspended" in step:
        value = get(obj, step["suspended"])
        if value is True or text(value).lower() == "true":
            return _result(step, "Suspended", obj, {"value": value}, "suspended")
        return None
    if "generation" in step:
        if step["generation"] and generation_behind(obj):
            return _result(step, "Progressing", obj, {}, "generationNotObserved")
        return None
    if "noStatus" in step:
        if not obj.get("status"):
            return _result(step, step["noStatus"], obj, {}, "noStatus")
        return None
    if "default" in step:
        return _result(step, step["default"], obj, {}, "")
    raise RuleError(f"step has none of {', '.join(_SELECTORS)}")


def evaluate(steps: Sequence[Step], obj: KubeObject) -> HealthResult | None:
    """The verdict of the first matching step, or None when none matches."""
    for step in steps:
        result = evaluate_step(step, obj)
        if result is not None:
            return result
    return None


def validate_step(step: Any, where: str) -> list[str]:
    """Problems with one step in the mapping form, each naming ``where`` and the key."""
    if callable(step):
        return []
    if not isinstance(step, Mapping):
        return [f"{where}: a step must be a mapping, got {type(step).__name__}"]
    selectors = [k for k in _SELECTORS if k in step]
    if not selectors:
        return [f"{where}: a step needs one of {', '.join(_SELECTORS)}"]
    selector = "phase" if "phase" in selectors else selectors[0]
    errors: list[str] = []
    extra = set(step) - {selector} - _STEP_KEYS[selector]
    if len([s for s in selectors if s != selector]) > (1 if selector == "phase" and "field" in step else 0):
        errors.append(f"{where}: a step has exactly one of {', '.join(_SELECTORS)}, got {', '.join(selectors)}")
    elif extra:
        errors.append(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))} in a {selector} step")
    healths: list[Any] = []
    if selector in ("condition", "field"):
        if "health" not in step:
            errors.append(f"{where}: a {selector} step needs 'health'")
        else:
            healths.append(step["health"])
    elif selector == "phase":
        if not isinstance(step["phase"], Mapping):
            errors.append(f"{where}: 'phase' must map values to health, e.g. {{Failed: Degraded}}")
        else:
            healths.extend(step["phase"].values())
    elif selector in ("noStatus", "default"):
        healths.append(step[selector])
    for health in healths:
        if str(health) not in _HEALTH:
            errors.append(f"{where}: health {health!r} is not one of {', '.join(_HEALTH)}")
    for key in ("condition", "field", "suspended", "in" if selector == "condition" else ""):
        if key and key in step and not isinstance(step[key], str):
            errors.append(f"{where}: '{key}' must be a string")
    if "message" in step and not isinstance(step["message"], str):
        errors.append(f"{where}: 'message' must be a string")
    return errors


def parse(rules: Any, where: str) -> tuple[list[Step], list[str]]:
    """Steps from a user's ``rules`` mapping (``{checks: [...]}``) and the problems found."""
    if not isinstance(rules, Mapping) or set(rules) != {"checks"}:
        return [], [f"{where}: rules must be a mapping with one key, 'checks' (a list of steps)"]
    checks = rules["checks"]
    if not isinstance(checks, list) or not checks:
        return [], [f"{where}: rules.checks must be a non-empty list of steps"]
    errors: list[str] = []
    for i, step in enumerate(checks):
        errors.extend(validate_step(step, f"{where}: rules.checks[{i}]"))
    return (list(checks) if not errors else []), errors
