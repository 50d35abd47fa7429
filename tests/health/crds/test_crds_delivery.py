"""Health of custom resources, argo, GitOps Promoter and other progressive-delivery operators. One behaviour per test."""

from __future__ import annotations

from typing import Any

from crd_objects import c, obj

from exporter.health import assess
from exporter.model import Health, HealthResult


def promoter(kind: str, status: Any, generation: int = 2) -> dict:
    return obj("promoter.argoproj.io/v1alpha1", kind, status, generation=generation)


READY_NOW = c("Ready", "True", observedGeneration=2)


def test_promoter_object_without_status_is_initializing() -> None:
    assert assess(promoter("PullRequest", None)) == HealthResult(Health.PROGRESSING, "Initializing pull request")


def test_promoter_ready_condition_from_an_older_generation_is_waiting() -> None:
    stale = promoter("GitRepository", {"conditions": [c("Ready", "True", observedGeneration=1)]})
    assert assess(stale) == HealthResult(Health.PROGRESSING, "Waiting for GitRepository spec update to be observed")


def test_promoter_reconciliation_error_is_degraded_with_the_kinds_words() -> None:
    failing = promoter("ScmProvider", {"conditions": [c("Ready", "False", observedGeneration=2,
                                                        reason="ReconciliationError", message="secret not found")]})
    assert assess(failing) == HealthResult(Health.DEGRADED, "SCM provider validation failed: secret not found")


def test_promoter_commit_gate_names_the_pending_branches() -> None:
    gate = promoter("TimedCommitStatus", {"conditions": [READY_NOW],
                                          "environments": [{"branch": "env/dev", "phase": "pending"},
                                                           {"branch": "env/prod", "phase": "success"}]})
    assert assess(gate) == HealthResult(Health.PROGRESSING, "Timed commit gate pending for branch(es): env/dev")


def test_promotion_strategy_mid_promotion_counts_the_proposed_commit_statuses() -> None:
    env = {"branch": "dev", "active": {"dry": {"sha": "aaaaaaa1"}},
           "proposed": {"dry": {"sha": "bbbbbbb2"}, "commitStatuses": [{"key": "e2e", "phase": "pending"}]}}
    result = assess(promoter("PromotionStrategy", {"conditions": [READY_NOW], "environments": [env]}))
    assert result == HealthResult(Health.PROGRESSING,
                                  "Promotion in progress for environment 'dev' from 'aaaaaaa' to 'bbbbbbb': "
                                  "1 pending, 0 successful, 0 failed. Pending commit statuses: e2e. "
                                  "Hydrator has processed dry commit 'bbbbbbb'. ")


def test_promotion_strategy_with_every_environment_promoted_is_healthy() -> None:
    env = {"branch": "dev", "active": {"dry": {"sha": "aaaaaaa1"}}, "proposed": {"dry": {"sha": "aaaaaaa1"}}}
    result = assess(promoter("PromotionStrategy", {"conditions": [READY_NOW], "environments": [env, dict(env, branch="prod")]}))
    assert result is not None and result.status is Health.HEALTHY and "up-to-date on commit 'aaaaaaa'" in result.message


def test_analysis_run_prefers_the_controllers_message_over_the_phase_in_words() -> None:
    run = obj("argoproj.io/v1alpha1", "AnalysisRun", {"phase": "Failed"})
    assert assess(run) == HealthResult(Health.DEGRADED, "Analysis run failed")
    run["status"]["message"] = "error rate above 5%"
    assert assess(run) == HealthResult(Health.DEGRADED, "error rate above 5%")


def test_flagger_canary_message_carries_phase_and_weight() -> None:
    canary = obj("flagger.app/v1beta1", "Canary",
                 {"phase": "Progressing", "canaryWeight": 10,
                  "conditions": [c("Promoted", "Unknown", reason="Progressing", message="analysing")]})
    assert assess(canary) == HealthResult(Health.PROGRESSING, "Progressing --- Canary Weight: 10 % --- analysing")


def test_promoter_readiness_unknown_keeps_the_case_of_names_in_the_noun() -> None:
    unknown = promoter("ArgoCDCommitStatus", {"conditions": [c("Ready", "Unknown", observedGeneration=2,
                                                               reason="Pending", message="querying")]})
    assert assess(unknown) == HealthResult(Health.PROGRESSING,
                                           "Argo CD commit status readiness unknown (Pending): querying")
