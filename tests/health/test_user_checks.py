"""Users' own health checks from config: Lua, CEL and the declarative rule form."""

from __future__ import annotations

import time

import pytest

from exporter.config_types import HealthCheckConfig
from exporter.health import HealthEngine
from exporter.model import Health, HealthResult

WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
          "spec": {"items": list(range(300))},
          "status": {"phase": "Broken", "conditions": [{"type": "Ready", "status": "False", "reason": "VolumeFailed",
                                                         "message": "disk full"}]}}

LUA_OK = """
hs = {}
if obj.status ~= nil and obj.status.phase == "Broken" then
  hs.status = "Degraded"
  hs.message = "phase is " .. obj.status.phase .. ", " .. obj.status.conditions[1].message
  return hs
end
hs.status = "Healthy"
return hs
"""

CEL_OK = [
    {"when": 'obj.status.conditions.exists(c, c.type == "Ready" && c.status == "False")',
     "status": "Degraded", "message": '="ready: " + obj.status.conditions[0].message'},
    {"when": "true", "status": "Healthy", "message": "fine"},
]

RULES_OK = {"checks": [
    {"condition": "Ready", "status": "False", "health": "Degraded", "message": "not ready: {message}"},
    {"default": "Healthy"},
]}


def engine(**check: object) -> HealthEngine:
    return HealthEngine([HealthCheckConfig(group="example.com", kind="Widget", origin="config.yaml:12", **check)])


def timed(eng: HealthEngine) -> tuple[HealthResult | None, float]:
    start = time.monotonic()
    result = eng.assess(WIDGET)
    return result, time.monotonic() - start


# --- Lua ---------------------------------------------------------------------------------------

def test_lua_check_classifies_from_the_obj_table() -> None:
    assert engine(lua=LUA_OK).assess(WIDGET) == HealthResult(Health.DEGRADED, "phase is Broken, disk full")


def test_lua_check_that_errors_is_unknown_with_the_error() -> None:
    result = engine(lua="return {status = obj.nothing.here}").assess(WIDGET)
    assert result is not None and result.status is Health.UNKNOWN
    assert "config.yaml:12" in result.message and "nothing" in result.message


def test_lua_infinite_loop_is_unknown_within_two_seconds() -> None:
    result, elapsed = timed(engine(lua="while true do end"))
    assert result is not None and result.status is Health.UNKNOWN and "time limit" in result.message
    assert elapsed < 2


def test_lua_memory_hog_is_unknown_with_not_enough_memory() -> None:
    result, elapsed = timed(engine(lua="local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1048576) .. i end"))
    assert result is not None and result.status is Health.UNKNOWN and "memory" in result.message
    assert elapsed < 2


def test_lua_check_keeps_working_after_a_runaway_run() -> None:
    eng = engine(lua="if obj.spec.items[1] == 0 then while true do end end return {status='Healthy'}")
    assert eng.assess(WIDGET).status is Health.UNKNOWN
    calm = dict(WIDGET, spec={"items": [1]})
    assert eng.assess(calm) == HealthResult(Health.HEALTHY, "")


def test_lua_has_no_os_io_or_require() -> None:
    result = engine(lua='os.execute("touch /tmp/pwned") return {status="Healthy"}').assess(WIDGET)
    assert result is not None and result.status is Health.UNKNOWN
    for name in ("io", "require", "load", "debug", "coroutine", "pcall", "setmetatable"):
        probe = engine(lua=f'return {{status = {name} == nil and "Healthy" or "Degraded"}}').assess(WIDGET)
        assert probe == HealthResult(Health.HEALTHY, ""), name


def test_malformed_lua_is_reported_by_validate_with_its_origin() -> None:
    errors = HealthEngine.validate([HealthCheckConfig("example.com", "Widget", lua="return {", origin="cfg.yaml:7")])
    assert len(errors) == 1 and errors[0].startswith("cfg.yaml:7: ")


# --- CEL ---------------------------------------------------------------------------------------

def test_cel_check_first_true_entry_wins_and_message_may_be_an_expression() -> None:
    assert engine(cel=CEL_OK).assess(WIDGET) == HealthResult(Health.DEGRADED, "ready: disk full")


def test_cel_check_that_errors_is_unknown_with_the_error() -> None:
    result = engine(cel=[{"when": "obj.status.missing == 1", "status": "Healthy"}]).assess(WIDGET)
    assert result is not None and result.status is Health.UNKNOWN and "missing" in result.message


def test_cel_slow_expression_is_unknown_within_two_seconds() -> None:
    slow = "obj.spec.items.map(a, obj.spec.items.map(b, obj.spec.items.map(c, c))).size() > 0"
    result, elapsed = timed(engine(cel=[{"when": slow, "status": "Healthy"}]))
    assert result is not None and result.status is Health.UNKNOWN and "time limit" in result.message
    assert elapsed < 2


def test_cel_memory_hog_is_stopped_by_the_same_bound() -> None:
    hog = "obj.spec.items.map(a, obj.spec.items.map(b, string(a) + string(b) + 'x')).size() > 0 && " \
          "obj.spec.items.map(a, obj.spec.items.map(b, obj.spec.items)).size() > 0"
    result, elapsed = timed(engine(cel=[{"when": hog, "status": "Healthy"}]))
    assert result is not None and result.status is Health.UNKNOWN
    assert elapsed < 2


def test_malformed_cel_is_reported_by_validate_with_its_origin() -> None:
    bad = HealthCheckConfig("example.com", "Widget", cel=[{"when": "obj.status.(", "status": "Healthy"}],
                            origin="cfg.yaml:9")
    errors = HealthEngine.validate([bad])
    assert len(errors) == 1 and errors[0].startswith("cfg.yaml:9: cel[0].when: ")


def test_cel_entry_with_unknown_status_is_reported() -> None:
    bad = HealthCheckConfig("example.com", "Widget", cel=[{"when": "true", "status": "Fine"}], origin="c:1")
    assert "status 'Fine'" in HealthEngine.validate([bad])[0]


# --- declarative rules -------------------------------------------------------------------------

def test_declarative_rules_fill_the_message_from_the_condition() -> None:
    assert engine(rules=RULES_OK).assess(WIDGET) == HealthResult(Health.DEGRADED, "not ready: disk full")


def test_declarative_rule_template_reads_object_fields() -> None:
    rules = {"checks": [{"field": "status.phase", "equals": "Broken", "health": "Degraded",
                         "message": "{.metadata.name} is {value}"}]}
    assert engine(rules=rules).assess(WIDGET) == HealthResult(Health.DEGRADED, "w is Broken")


def test_declarative_rules_stay_fast_on_a_huge_object() -> None:
    huge = dict(WIDGET, status={"conditions": [{"type": f"T{i}", "status": "True"} for i in range(100_000)]})
    eng = engine(rules={"checks": [{"condition": "Ready", "health": "Healthy"}, {"default": "Progressing"}]})
    start = time.monotonic()
    assert eng.assess(huge) == HealthResult(Health.PROGRESSING, "")
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("rules, fragment", [
    ({"checks": [{"condition": "Ready"}]}, "needs 'health'"),
    ({"checks": [{"default": "Fine"}]}, "health 'Fine'"),
    ({"checks": [{"bogus": 1}]}, "needs one of"),
    ({"steps": []}, "one key, 'checks'"),
])
def test_malformed_rules_are_reported_with_origin_and_step(rules: dict, fragment: str) -> None:
    errors = HealthEngine.validate([HealthCheckConfig("example.com", "Widget", rules=rules, origin="cfg.yaml:3")])
    assert errors and errors[0].startswith("cfg.yaml:3: ") and fragment in errors[0]


def test_invalid_check_makes_its_kind_unknown_instead_of_silently_falling_back() -> None:
    result = engine(rules={"checks": [{"default": "Fine"}]}).assess(WIDGET)
    assert result is not None and result.status is Health.UNKNOWN and "config.yaml:12" in result.message


def test_check_with_two_languages_is_rejected() -> None:
    errors = HealthEngine.validate([HealthCheckConfig("example.com", "Widget", lua="return nil", rules=RULES_OK,
                                                      origin="c:5")])
    assert errors == ["c:5: set exactly one of lua, cel or rules (got lua, rules)"]


# --- precedence ---------------------------------------------------------------------------------

def test_user_check_overrides_a_builtin_one() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"paused": True}, "status": {}}
    assert HealthEngine().assess(deployment).status is Health.SUSPENDED
    custom = HealthEngine([HealthCheckConfig("apps", "Deployment", lua='return {status="Healthy", message="ours"}')])
    assert custom.assess(deployment) == HealthResult(Health.HEALTHY, "ours")


def test_user_check_applies_only_to_its_group_and_kind() -> None:
    other = dict(WIDGET, kind="Gadget")
    assert engine(lua='return {status="Healthy"}').assess(other).status is Health.DEGRADED  # generic fallback
