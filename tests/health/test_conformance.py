"""Agreement with Argo CD's own health test cases (see the corpus README for the format).

The corpus lives outside the project (``../shared/conformance/argocd-health`` from the repository
root, or ``$GITOPS_CONFORMANCE_DIR``). Cases we deliberately answer differently are listed, with the
reason, in ``exporter.health.deviations`` and printed here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.health import classify_file
from exporter.health.core import CORE_CHECKS
from exporter.health.deviations import DELIBERATE

CRD_THRESHOLD = 0.97


def corpus_dir() -> Path:
    override = os.environ.get("GITOPS_CONFORMANCE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "argocd-health"


@pytest.fixture(scope="module")
def corpus() -> Path:
    root = corpus_dir()
    if not (root / "builtin" / "cases.yaml").is_file():
        message = f"Argo CD health conformance corpus not found at {root} (set GITOPS_CONFORMANCE_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


def _cases(root: Path, folder: str) -> list[dict[str, Any]]:
    with open(root / folder / "cases.yaml", encoding="utf-8") as fh:
        return list(yaml.load(fh, Loader=yaml.CSafeLoader))


def _run(root: Path, folder: str) -> tuple[int, int, int, list[str], list[str]]:
    """(checked, status agreements, exact message matches, disagreements, deliberate ones)."""
    checked = agree = messages = 0
    wrong: list[str] = []
    deliberate: list[str] = []
    for case in _cases(root, folder):
        if case.get("skip"):
            continue
        key = f"{folder}/{case['input']}"
        got = classify_file(str(root / folder / case["input"]))
        checked += 1
        if case.get("expect_no_health"):
            # Argo CD's core checks alone give no health here; the CRD layer may (see the README).
            gk = (str(case.get("apiVersion") or "").rpartition("/")[0], case["kind"])
            if gk in CORE_CHECKS:
                wrong.append(f"{key}: expected no core check for {gk}")
            else:
                agree += 1
            continue
        if key in DELIBERATE and got["status"] == DELIBERATE[key][0]:
            deliberate.append(f"{key}: Argo CD {case['status']}, ours {got['status']}: {DELIBERATE[key][1]}")
            continue
        if got["status"] == case["status"]:
            agree += 1
            messages += case.get("message") is not None and got["message"] == case["message"]
        else:
            wrong.append(f"{key}: expected {case['status']} {case.get('message')!r}, "
                         f"got {got['status']} {got['message']!r}")
    return checked, agree, messages, wrong, deliberate


def test_every_builtin_case_agrees_on_status(corpus: Path) -> None:
    checked, agree, messages, wrong, deliberate = _run(corpus, "builtin")
    print(f"\nbuiltin: {agree}/{checked} agree on status, {messages} exact messages")
    print("\n".join(deliberate))
    assert not wrong, "builtin disagreements:\n" + "\n".join(wrong)


def test_every_crd_case_agrees_on_status_or_is_a_listed_deliberate_difference(corpus: Path) -> None:
    checked, agree, messages, wrong, deliberate = _run(corpus, "crd")
    counted = checked - len(deliberate)
    ratio = agree / counted
    summary = (f"crd: {agree}/{counted} agree on status ({ratio:.1%}), {messages} exact messages, "
               f"{len(deliberate)} deliberate differences")
    print("\n" + summary)
    print("\n".join(deliberate))
    assert ratio >= CRD_THRESHOLD, summary + "\n" + "\n".join(wrong)
    # Every case agrees today; a rule change that breaks one must be fixed or listed with its reason.
    assert not wrong, summary + "\n" + "\n".join(wrong)
