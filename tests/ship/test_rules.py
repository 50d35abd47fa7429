"""Prometheus alerting and recording rules: valid, tested case by case, and documented.

Every alert must be exercised by ``rules/tests`` both where it fires and where it must stay quiet,
carry what routing and on-call need (severity, summary, description, runbook), and select only
metrics the agent exposes.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO
from .promql import referenced_metrics, rule_queries

RULES = REPO / "rules"
RULE_FILES = [RULES / "alerts.yaml", RULES / "recording.yaml"]
TEST_FILES = sorted((RULES / "tests").glob("*.yaml"))
RUNBOOKS = REPO / "docs" / "runbooks"
RUNBOOK_BASE = "https://github.com/gitops-drift-exporter/gitops-drift-exporter/blob/main/docs/runbooks/"
SEVERITIES = {"critical", "warning", "info"}


def _load(path: Path) -> Any:
    with path.open() as f:
        return yaml.load(f, Loader=yaml.CSafeLoader)


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in _load(RULES / "alerts.yaml")["groups"] for rule in group["rules"]]


ALERTS = _alerts()
ALERT_NAMES = [alert["alert"] for alert in ALERTS]


def _alert_cases() -> dict[str, dict[str, int]]:
    """For each alert name: how many test evaluations expect it firing and how many expect silence."""
    cases: dict[str, dict[str, int]] = {}
    for path in TEST_FILES:
        for test in _load(path)["tests"]:
            for case in test.get("alert_rule_test", []):
                counts = cases.setdefault(case["alertname"], {"firing": 0, "quiet": 0})
                counts["firing" if case.get("exp_alerts") else "quiet"] += 1
    return cases


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=REPO)


def test_rule_files_pass_promtool_check(promtool: str) -> None:
    result = _run(promtool, "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass_promtool_test(promtool: str) -> None:
    assert TEST_FILES, "rules/tests holds no test files"
    result = _run(promtool, "test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_catch_a_wrong_expectation(promtool: str, tmp_path: Path) -> None:
    """Guards the guard: flipping one expected label must make promtool fail."""
    source = (RULES / "tests" / "app_alerts_test.yaml").read_text()
    broken = source.replace("severity: critical", "severity: info", 1)
    assert broken != source
    (tmp_path / "tests").mkdir()
    (tmp_path / "alerts.yaml").write_text((RULES / "alerts.yaml").read_text())
    (tmp_path / "tests" / "broken_test.yaml").write_text(broken)
    result = _run(promtool, "test", "rules", str(tmp_path / "tests" / "broken_test.yaml"))
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_every_alert_has_a_case_where_it_fires_and_one_where_it_must_not(name: str) -> None:
    counts = _alert_cases().get(name, {"firing": 0, "quiet": 0})
    assert counts["firing"] >= 1, f"{name}: no rules/tests case expects it to fire"
    assert counts["quiet"] >= 1, f"{name}: no rules/tests case expects it to stay quiet"


def test_tests_only_name_alerts_that_exist() -> None:
    assert set(_alert_cases()) <= set(ALERT_NAMES)


def test_alert_names_are_unique_and_camel_case() -> None:
    assert len(ALERT_NAMES) == len(set(ALERT_NAMES))
    for name in ALERT_NAMES:
        assert re.fullmatch(r"GitOps[A-Z][A-Za-z0-9]+", name), name


@pytest.mark.parametrize("alert", ALERTS, ids=ALERT_NAMES)
def test_every_alert_has_severity_summary_description_and_runbook(alert: dict[str, Any]) -> None:
    assert alert.get("labels", {}).get("severity") in SEVERITIES
    annotations = alert.get("annotations", {})
    for key in ("summary", "description", "runbook_url"):
        assert annotations.get(key, "").strip(), f"{alert['alert']}: annotation {key} is missing"
    assert annotations["runbook_url"] == f"{RUNBOOK_BASE}{alert['alert']}.md"


@pytest.mark.parametrize("name", ALERT_NAMES)
def test_every_alert_has_a_runbook_page(name: str) -> None:
    page = RUNBOOKS / f"{name}.md"
    assert page.is_file(), f"{page.relative_to(REPO)} is missing"
    text = page.read_text()
    assert text.startswith(f"# {name}\n")
    for section in ("## Meaning", "## Diagnosis", "## Mitigation"):
        assert section in text, f"{page.name}: no {section!r} section"


def test_no_runbook_page_without_an_alert() -> None:
    pages = {p.stem for p in RUNBOOKS.glob("*.md")} - {"README"}
    assert pages == set(ALERT_NAMES)


def test_runbook_index_lists_every_alert() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for name in ALERT_NAMES:
        assert f"[{name}.md]({name}.md)" in index, name


def test_rules_select_only_metrics_the_agent_exposes(agent_sample_names: set[str]) -> None:
    unknown = {
        name: missing
        for path in RULE_FILES
        for name, expr in rule_queries(_load(path))
        if (missing := referenced_metrics(expr) - agent_sample_names)
    }
    assert not unknown, f"rules select metrics the agent does not expose: {unknown}"


def test_recording_rules_follow_the_level_metric_operation_naming() -> None:
    for group in _load(RULES / "recording.yaml")["groups"]:
        for rule in group["rules"]:
            assert re.fullmatch(r"[a-z_]+:gitops_[a-z_]+:[a-z_]+", rule["record"]), rule["record"]
