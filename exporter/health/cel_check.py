"""Users' CEL health checks.

A check is a list of ``{when, status, message}`` entries evaluated in order; the first whose
``when`` (a CEL expression over ``obj``, the live object) is true gives the verdict::

    cel:
      - when: 'obj.status.conditions.exists(c, c.type == "Ready" && c.status == "False")'
        status: Degraded
        message: '=obj.status.conditions.filter(c, c.type == "Ready")[0].message'
      - when: 'has(obj.status.readyReplicas)'
        status: Healthy
        message: All replicas ready

``message`` is plain text, or a CEL expression producing a string when it starts with ``=``
(so ordinary messages need no quoting). Reading a field that is absent is an error in CEL: guard
with ``has(...)``. When no entry matches, the check gives no verdict. An expression that errors
yields Unknown with the error; evaluation is bounded in time (CEL has no loops, but comprehensions
over large lists can still be slow), and memory is bounded by that time and the input's size.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

import celpy

from exporter.clock import monotonic
from exporter.model import Health, HealthResult, KubeObject

#: Per evaluation. Checks run on the agent's event loop, so a runaway one may hold it only briefly.
DEFAULT_TIMEOUT = 0.25
_ENV = celpy.Environment()


class CelTimeout(BaseException):
    """Evaluation exceeded its budget.

    A BaseException on purpose: the evaluator turns ordinary exceptions inside an expression into
    CEL error values and carries on, and Python drops a trace function that raised, so an
    ``Exception`` here could be swallowed and leave the rest of the evaluation unbounded.
    """


@dataclass
class _Entry:
    when: Any
    status: Health
    message: Any  # str or a compiled program


def _compile(expr: str) -> Any:
    return _ENV.program(_ENV.compile(expr))


def _bounded(program: Any, activation: dict[str, Any], timeout: float) -> Any:
    """Evaluate with a deadline checked on every Python call the evaluator makes."""
    deadline = monotonic() + timeout

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        # Raise only in the evaluator's own frames: a call made by the garbage collector (a
        # ``__del__``, a weakref callback) would swallow the exception, and Python drops a trace
        # function that raised, which would leave the rest of the evaluation unbounded.
        if monotonic() > deadline and frame.f_globals.get("__name__", "").startswith("celpy"):
            raise CelTimeout(f"expression exceeded its time limit of {timeout:g}s")
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)  # type: ignore[arg-type]
    try:
        return program.evaluate(activation)
    finally:
        sys.settrace(previous)


class CelCheck:
    """A compiled list of CEL entries. Build with :meth:`parse`, which reports problems."""

    def __init__(self, entries: list[_Entry], origin: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.entries = entries
        self.origin = origin or "cel"
        self.timeout = timeout

    @classmethod
    def parse(cls, spec: Any, origin: str = "", timeout: float = DEFAULT_TIMEOUT) -> tuple[CelCheck | None, list[str]]:
        where = origin or "cel"
        if not isinstance(spec, list) or not spec:
            return None, [f"{where}: cel must be a non-empty list of {{when, status, message}}"]
        entries: list[_Entry] = []
        errors: list[str] = []
        for i, item in enumerate(spec):
            at = f"{where}: cel[{i}]"
            if not isinstance(item, Mapping) or "when" not in item or "status" not in item:
                errors.append(f"{at}: needs 'when' and 'status'")
                continue
            extra = set(item) - {"when", "status", "message"}
            if extra:
                errors.append(f"{at}: unknown key(s) {', '.join(sorted(map(str, extra)))}")
            try:
                status = Health(str(item["status"]))
            except ValueError:
                errors.append(f"{at}: status {item['status']!r} is not one of {', '.join(h.value for h in Health)}")
                continue
            try:
                when = _compile(str(item["when"]))
            except Exception as exc:  # celpy raises its own parse error types
                errors.append(f"{at}.when: {_first_line(exc)}")
                continue
            message: Any = str(item.get("message") or "")
            if message.startswith("="):
                try:
                    message = _compile(message[1:])
                except Exception as exc:
                    errors.append(f"{at}.message: {_first_line(exc)}")
                    continue
            entries.append(_Entry(when, status, message))
        if errors:
            return None, errors
        return cls(entries, where, timeout), []

    def __call__(self, obj: KubeObject) -> HealthResult | None:
        try:
            activation = {"obj": celpy.json_to_cel(obj)}
            for entry in self.entries:
                if bool(_bounded(entry.when, activation, self.timeout)):
                    message = entry.message
                    if not isinstance(message, str):
                        message = str(_bounded(message, activation, self.timeout))
                    return HealthResult(entry.status, message)
        except (Exception, CelTimeout) as exc:  # the check's verdict, never the agent's crash
            return HealthResult(Health.UNKNOWN, f"{self.origin}: {_first_line(exc)}", reason="checkFailed")
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
