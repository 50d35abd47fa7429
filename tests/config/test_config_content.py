"""Content the stages judge (Lua, CEL, jq, cron) is checked when the config loads, not at first use."""

from __future__ import annotations

import pytest

from exporter.config import ConfigError
from exporter.wiring import parse_config

BASE = """\
clusters: [{name: c, inCluster: true}]
apps:
  - name: a
    source: {repoURL: /tmp/repo, path: a}
    destination: {cluster: c, namespace: ns}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "config.yaml")
    return caught.value.errors


def test_a_lua_health_check_that_does_not_compile_is_refused_with_its_line():
    errors = errors_of(BASE + "healthChecks:\n  - group: example.com\n    kind: Widget\n"
                              "    lua: |\n      if obj.status then\n")
    assert len(errors) == 1 and errors[0].startswith("config.yaml:7") and "'end' expected" in errors[0], errors


def test_a_cel_health_check_that_does_not_parse_is_refused():
    errors = errors_of(BASE + "healthChecks:\n  - group: example.com\n    kind: Widget\n"
                              "    cel:\n      - when: 'object.status.ready &&'\n        status: Healthy\n")
    assert len(errors) == 1 and errors[0].startswith("config.yaml:7: cel[0].when"), errors


def test_a_jq_ignore_rule_that_does_not_compile_is_refused():
    errors = errors_of(BASE.replace("destination:", "ignoreDifferences:\n      - kind: Deployment\n"
                                    "        jqPathExpressions: ['.spec.template | select(']\n    destination:"))
    assert len(errors) == 1 and errors[0].startswith("config.yaml:6") and "syntax error" in errors[0], errors


def test_a_window_with_a_bad_cron_schedule_is_refused():
    errors = errors_of(BASE + "windows:\n  - kind: deny\n    schedule: '61 * * * *'\n    duration: 1h\n"
                              "    applications: ['*']\n")
    assert len(errors) == 1 and errors[0].startswith("config.yaml:8: windows[0].schedule"), errors


def test_valid_checks_rules_and_windows_load():
    config = parse_config(BASE + "healthChecks:\n  - group: example.com\n    kind: Widget\n"
                                 "    lua: |\n      return {status = 'Healthy', message = ''}\n"
                                 "windows:\n  - kind: deny\n    schedule: '0 22 * * *'\n    duration: 8h\n"
                                 "    timeZone: Europe/Berlin\n    applications: ['*']\n")
    assert config.health_checks[0].lua is not None and config.windows[0].time_zone == "Europe/Berlin"
