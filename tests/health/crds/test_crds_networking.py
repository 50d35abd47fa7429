"""Health of custom resources, gateway API routes and policies, and other networking operators. One behaviour per test."""

from __future__ import annotations

from typing import Any

from crd_objects import c, obj

from exporter.health import assess
from exporter.model import Health, HealthResult


def route(*parents: tuple[str, list[dict]], generation: int = 2) -> dict:
    return obj("gateway.networking.k8s.io/v1", "HTTPRoute",
               {"parents": [{"parentRef": {"name": n}, "conditions": cs} for n, cs in parents]}, generation=generation)


def test_route_ignores_a_parent_entry_left_from_an_older_generation() -> None:
    stale = ("old", [c("Accepted", "False", observedGeneration=1, reason="NoMatchingParent")])
    current = ("gw", [c("Accepted", "True", observedGeneration=2), c("ResolvedRefs", "True", observedGeneration=2)])
    assert assess(route(stale, current)) == HealthResult(Health.HEALTHY, "HTTPRoute is healthy")


def test_route_rejected_by_a_parent_is_degraded_naming_the_parent() -> None:
    rejected = ("gw", [c("Accepted", "False", observedGeneration=2, reason="Invalid", message="bad config")])
    assert assess(route(rejected)) == HealthResult(Health.DEGRADED, "Parent gw: bad config")


def test_route_whose_every_parent_entry_is_stale_is_progressing() -> None:
    assert assess(route(("gw", [c("Accepted", "True", observedGeneration=1)]))).status is Health.PROGRESSING


def policy(*ancestors: tuple[str, list[dict]]) -> dict:
    return obj("microgateway.airlock.com/v1alpha1", "RateLimitPolicy",
               {"ancestors": [{"ancestorRef": {"name": n}, "conditions": cs} for n, cs in ancestors]})


def test_airlock_policy_must_be_accepted_by_every_ancestor_that_judged_it() -> None:
    assert assess(policy(("a", [c("Accepted", "True")]), ("b", [c("Bar", "True")]))) == \
        HealthResult(Health.DEGRADED, "Ancestor b: RateLimitPolicy is not accepted")


def test_airlock_policy_ancestor_without_conditions_does_not_count_against_it() -> None:
    assert assess(policy(("a", []))) == HealthResult(Health.HEALTHY, "RateLimitPolicy is healthy")


def proxy(errors: list[dict], includes: bool) -> dict:
    spec: dict[str, Any] = {"virtualhost": {"fqdn": "x.example.com"}}
    if includes:
        spec["includes"] = [{"name": "child"}]
    valid = c("Valid", "False", reason="ErrorPresent", message="At least one error present", errors=errors)
    return obj("projectcontour.io/v1", "HTTPProxy", {"conditions": [valid]}, spec=spec)


def test_contour_parent_proxy_with_only_inclusion_errors_is_healthy() -> None:
    include_error = {"type": "IncludeError", "status": "True", "message": "include child not found"}
    assert assess(proxy([include_error], includes=True)) == \
        HealthResult(Health.HEALTHY, "HTTPProxy inclusions cannot be health checked")


def test_contour_proxy_with_a_service_error_is_degraded() -> None:
    service_error = {"type": "ServiceError", "status": "True", "message": "service not found"}
    assert assess(proxy([service_error], includes=True)).status is Health.DEGRADED


def test_backend_tls_policy_with_an_unresolved_reference_is_degraded() -> None:
    bad = c("ResolvedRefs", "False", message="CA ConfigMap missing")
    status = {"ancestors": [{"ancestorRef": {"name": "gw"}, "conditions": [c("Accepted", "True"), bad]}]}
    assert assess(obj("gateway.networking.k8s.io/v1", "BackendTLSPolicy", status)) == \
        HealthResult(Health.DEGRADED, "Ancestor gw: CA ConfigMap missing")


def test_backend_tls_policy_ancestor_without_conditions_is_still_judging() -> None:
    status = {"ancestors": [{"ancestorRef": {"name": "gw"}, "conditions": []}]}
    assert assess(obj("gateway.networking.k8s.io/v1", "BackendTLSPolicy", status)).status is Health.PROGRESSING
