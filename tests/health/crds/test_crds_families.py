"""Family rules: one rule for every kind of an operator's group with one status shape, so kinds the
operator adds later get a verdict too (and say it came from the family rule)."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.health import assess
from exporter.model import Health


def obj(api_version: str, kind: str, observed: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "generation": 1},
                           "spec": spec}
    if observed is not None:
        out["status"] = observed
    return out


def accepted(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": 1}, *extra]


# --- the Prometheus Operator ("Prometheus Operator API": ConditionStatus True, Degraded, False) ------

@pytest.mark.parametrize("kind", ["Alertmanager", "ThanosRuler", "PrometheusAgent"])
def test_prometheus_operator_kinds_share_the_available_condition(kind):
    good = assess(obj("monitoring.coreos.com/v1", kind, {"conditions": [
        {"type": "Available", "status": "True"}, {"type": "Reconciled", "status": "True"}]}))
    assert (good.status, good.source) == (Health.HEALTHY, "family")
    degraded = assess(obj("monitoring.coreos.com/v1", kind, {"conditions": [
        {"type": "Available", "status": "Degraded", "message": "1 of 2 replicas unavailable"}]}))
    assert (degraded.status, degraded.message) == (Health.DEGRADED, "1 of 2 replicas unavailable")


def test_prometheus_operator_configuration_kinds_report_nothing_and_get_no_verdict():
    assert assess(obj("monitoring.coreos.com/v1", "ServiceMonitor", endpoints=[{"port": "web"}])) is None


# --- Gateway API routes and listener sets (a controller must set Accepted on every parent) ---------

@pytest.mark.parametrize(("api_version", "kind", "source"), [
    ("gateway.networking.k8s.io/v1alpha2", "TLSRoute", "specific"),
    ("gateway.networking.k8s.io/v1alpha3", "QUICRoute", "family"),  # a route kind added later
    ("gateway.networking.x-k8s.io/v1alpha1", "XMeshRoute", "family")])
def test_every_route_kind_reads_like_httproute(api_version, kind, source):
    parent = {"parentRef": {"name": "edge"}, "conditions": accepted({"type": "ResolvedRefs", "status": "True",
                                                                     "observedGeneration": 1})}
    result = assess(obj(api_version, kind, {"parents": [parent]}))
    assert (result.status, result.source) == (Health.HEALTHY, source)


def test_a_route_that_no_controller_accepted_yet_is_not_healthy():
    parent = {"parentRef": {"name": "edge"}, "conditions": [{"type": "ResolvedRefs", "status": "True"}]}
    result = assess(obj("gateway.networking.k8s.io/v1", "HTTPRoute", {"parents": [parent]}))
    assert (result.status, result.message) == (Health.PROGRESSING, "Parent edge: waiting for the Accepted condition")


def test_a_listener_set_that_is_accepted_and_programmed_is_healthy():
    result = assess(obj("gateway.networking.x-k8s.io/v1alpha1", "XListenerSet",
                        {"conditions": accepted({"type": "Programmed", "status": "True", "observedGeneration": 1})}))
    assert (result.status, result.source) == (Health.HEALTHY, "family")


# --- Envoy Gateway policies attach like Gateway API policies ----------------------------------------

@pytest.mark.parametrize("kind", ["BackendTrafficPolicy", "ClientTrafficPolicy", "SecurityPolicy"])
def test_envoy_gateway_policies_must_be_accepted_by_every_ancestor(kind):
    ancestor = {"ancestorRef": {"name": "eg"}, "conditions": accepted()}
    assert assess(obj("gateway.envoyproxy.io/v1alpha1", kind, {"ancestors": [ancestor]})).status is Health.HEALTHY
    refused = {"ancestorRef": {"name": "eg"}, "conditions": [
        {"type": "Accepted", "status": "False", "reason": "Invalid", "message": "no such listener"}]}
    result = assess(obj("gateway.envoyproxy.io/v1alpha1", kind, {"ancestors": [refused]}))
    assert (result.status, result.message) == (Health.DEGRADED, "Ancestor eg: no such listener")


# --- Tekton runs (Tekton docs, "Monitoring execution status": the Succeeded condition) ---------------

@pytest.mark.parametrize(("succeeded", "reason", "health"), [
    ("True", "Succeeded", Health.HEALTHY), ("False", "Failed", Health.DEGRADED),
    ("False", "PipelineRunCancelled", Health.SUSPENDED), ("Unknown", "Running", Health.PROGRESSING)])
@pytest.mark.parametrize("kind", ["PipelineRun", "TaskRun", "CustomRun"])
def test_tekton_runs_follow_their_succeeded_condition(kind, succeeded, reason, health):
    result = assess(obj("tekton.dev/v1", kind, {"conditions": [
        {"type": "Succeeded", "status": succeeded, "reason": reason, "message": "step build"}]}))
    assert (result.status, result.source) == (health, "family")


def test_a_pending_pipeline_run_waits_on_purpose():
    assert assess(obj("tekton.dev/v1", "PipelineRun", {"startTime": None}, status="PipelineRunPending")).status \
        is Health.SUSPENDED
