"""The fallback for kinds no check covers, as kstatus and the Kubernetes condition convention read
conditions (cli-utils ``pkg/kstatus`` README; API conventions, "Typical status properties")."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.health import assess
from exporter.health.generic import names_failure, reason_words
from exporter.model import Health


def widget(*conditions: dict[str, Any], generation: int = 1, observed: int | None = 1, **meta: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": list(conditions)}
    if observed is not None:
        status["observedGeneration"] = observed
    return {"apiVersion": "widgets.example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "generation": generation, **meta}, "status": status}


def ready(status: str, reason: str = "", message: str = "", **extra: Any) -> dict[str, Any]:
    return {"type": "Ready", "status": status, "reason": reason, "message": message, **extra}


@pytest.mark.parametrize("reason", ["Pending", "Progressing", "Reconciling", "NotReady", "WaitingForCluster",
                                    "DependencyNotReady", "Provisioning", ""])
def test_ready_false_while_work_is_under_way_is_progressing(reason):
    result = assess(widget(ready("False", reason, "waiting for the issuer")))
    assert result.status is Health.PROGRESSING


@pytest.mark.parametrize("reason", ["Failed", "ReconciliationFailed", "InstallFailed", "Error", "InternalError",
                                    "InvalidSpec", "Rejected", "AccessDenied", "Forbidden", "ProgressDeadlineExceeded",
                                    "TimedOut", "ImagePullBackOff", "CertificateExpired", "ChartNotFound"])
def test_ready_false_for_a_reason_that_names_a_failure_is_degraded(reason):
    result = assess(widget(ready("False", reason, "it broke")))
    assert result.status is Health.DEGRADED
    assert result.message == f"Ready=False ({reason}): it broke"


def test_ready_true_is_healthy_and_says_which_condition():
    assert assess(widget(ready("True", "Succeeded", "all good"))) == \
        type(assess(widget(ready("True"))))(Health.HEALTHY, "Ready=True (Succeeded): all good")


def test_a_ready_condition_for_an_older_generation_says_nothing_about_the_current_spec():
    result = assess(widget(ready("True", "Succeeded", observedGeneration=2), generation=3, observed=None))
    assert result.status is Health.PROGRESSING
    assert result.message == "Ready=True (Succeeded) (written for generation 2; the object is at generation 3)"


def test_an_observed_generation_behind_the_spec_is_progressing():
    assert assess(widget(ready("True"), generation=4, observed=3)).status is Health.PROGRESSING


def test_stalled_true_is_degraded_whatever_ready_says():
    result = assess(widget(ready("True"), {"type": "Stalled", "status": "True", "reason": "QuotaExceeded",
                                           "message": "cannot create volumes"}))
    assert (result.status, result.message) == (Health.DEGRADED, "Stalled=True (QuotaExceeded): cannot create volumes")


def test_reconciling_true_is_progressing():
    assert assess(widget(ready("True"), {"type": "Reconciling", "status": "True", "reason": "Progressing"})).status \
        is Health.PROGRESSING


@pytest.mark.parametrize("paused", ["Paused", "Suspended", "Cordoned"])
def test_a_condition_that_pauses_the_object_on_purpose_is_suspended(paused):
    result = assess(widget(ready("False", "Suspended"), {"type": paused, "status": "True", "reason": "ByUser"}))
    assert (result.status, result.message) == (Health.SUSPENDED, f"{paused}=True (ByUser)")


def test_an_object_being_deleted_is_progressing():
    assert assess(widget(ready("True"), deletionTimestamp="2026-01-01T00:00:00Z")).status is Health.PROGRESSING


@pytest.mark.parametrize(("conditions", "health"), [
    ([{"type": "Available", "status": "True"}], Health.HEALTHY),
    ([{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"}], Health.PROGRESSING),
    ([{"type": "Succeeded", "status": "True"}], Health.HEALTHY),
    ([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}], Health.DEGRADED),
])
def test_without_ready_other_common_conditions_give_a_verdict(conditions, health):
    assert assess(widget(*conditions)).status is health


def test_a_status_that_speaks_none_of_the_conventions_gets_no_verdict():
    assert assess({"apiVersion": "widgets.example.com/v1", "kind": "Widget", "status": {"phase": "Green"}}) is None
    assert assess({"apiVersion": "widgets.example.com/v1", "kind": "Widget"}) is None


def test_reasons_are_read_word_by_word():
    assert reason_words("ReconciliationFailed") == ["reconciliation", "failed"]
    assert reason_words("HTTPRouteNotAccepted") == ["http", "route", "not", "accepted"]
    assert names_failure("BackOff") and names_failure("timed_out") and not names_failure("Failover")


# --- every verdict says which check gave it -------------------------------------------------------

def test_a_verdict_names_its_source_so_users_know_when_to_write_their_own():
    from exporter.config_types import HealthCheckConfig
    from exporter.health import HealthEngine
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "generation": 1},
                  "spec": {"replicas": 1}, "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                                                      "availableReplicas": 1, "readyReplicas": 1}}
    assert assess(deployment).source == "specific"
    assert assess(widget(ready("True"))).source == "fallback"
    user = HealthEngine([HealthCheckConfig(group="widgets.example.com", kind="Widget",
                                           cel=[{"when": "true", "status": "Healthy"}])])
    assert user.assess(widget(ready("False", "Failed"))).source == "user"


def test_a_kind_whose_crd_declares_a_status_waits_for_it_and_one_without_gets_no_verdict():
    from exporter.health import HealthEngine
    engine = HealthEngine()
    fresh = {"apiVersion": "widgets.example.com/v1", "kind": "Widget", "metadata": {"name": "w", "generation": 1}}
    waiting = engine.assess(fresh, awaits_status=True)
    assert waiting is not None and (waiting.status, waiting.reason) == (Health.PROGRESSING, "noStatusYet")
    assert engine.assess(fresh) is None
    # an Argo CD Application has a status subresource and still no health (app of apps)
    assert engine.assess({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a"}},
                         awaits_status=True) is None
