"""Networking and certificates: Gateway API, Gloo, Contour, Airlock and cert-manager."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.health.crds.common import (
    Rules,
    condition_status,
    conventional,
    is_current,
    is_progress_condition,
)
from exporter.health.paths import condition, conditions, get, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


def gloo(obj: KubeObject) -> HealthResult:
    """Solo.io resources report per-namespace statuses, states as names or enum numbers."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Update in progress")
    nested = status.get("statuses")
    reports: dict[str, object] = nested if isinstance(nested, dict) else {"": status}
    worst: tuple[int, str] = (-1, "")
    for report in reports.values():
        if not isinstance(report, dict):
            continue
        state = {"0": "Pending", "1": "Accepted", "2": "Rejected", "3": "Warning"}.get(
            text(report.get("state")), text(report.get("state")))
        rank = {"Accepted": 0, "Pending": 1, "Warning": 2, "Rejected": 3}.get(state, 1)
        if rank > worst[0]:
            worst = (rank, text(report.get("reason")))
    rank, reason = worst
    if rank >= 2:
        return HealthResult(Health.DEGRADED, reason)
    if rank == 1 or rank < 0:
        return HealthResult(Health.SUSPENDED, "The resource has not yet been validated")
    return HealthResult(Health.HEALTHY, "The resource has been validated")

GLOO_KINDS = [("gateway.solo.io", k) for k in ("Gateway", "MatchableHttpGateway", "RouteOption", "RouteTable",
                                              "VirtualHostOption", "VirtualService")] + \
             [("gloo.solo.io", k) for k in ("Proxy", "Settings", "Upstream", "UpstreamGroup")]

for _gk in GLOO_KINDS:
    RULES[_gk] = [gloo]

def contour_http_proxy(obj: KubeObject) -> HealthResult:
    """Contour HTTPProxy: a parent proxy whose only errors are about its inclusions is healthy,
    because each included proxy is an object of its own, health-checked on its own."""
    status = obj.get("status")
    if not isinstance(status, dict) or not status:
        return HealthResult(Health.PROGRESSING, "Waiting for status")
    if status.get("currentStatus") == "NotReconciled":
        return HealthResult(Health.PROGRESSING, text(status.get("description")) or "Waiting for controller")
    valid = condition(obj, "Valid")
    generation = get(obj, "metadata.generation")
    if valid is None:
        return HealthResult(Health.PROGRESSING, "Waiting for status")
    if not is_current(valid, generation):
        return HealthResult(Health.PROGRESSING, "Waiting for status")
    if condition_status(valid) == "True":
        return HealthResult(Health.HEALTHY, text(valid.get("message")) or "Valid HTTPProxy")
    errors = [e for e in valid.get("errors") or [] if isinstance(e, dict)]
    if get(obj, "spec.includes") and errors and all(e.get("type") == "IncludeError" for e in errors):
        return HealthResult(Health.HEALTHY, "HTTPProxy inclusions cannot be health checked")
    return HealthResult(Health.DEGRADED, text(valid.get("message") or valid.get("reason")))

def gateway_route(obj: KubeObject) -> HealthResult:
    """Gateway API routes: one status entry per parent. An entry whose conditions describe an older
    generation belongs to a parentRef since removed from the spec (controllers leave it behind),
    so it is ignored as long as a current one exists."""
    kind = text(obj.get("kind"))
    parents = [p for p in get(obj, "status.parents") or [] if isinstance(p, dict)]
    if not parents:
        return HealthResult(Health.PROGRESSING, f"Waiting for {kind} status")
    generation = get(obj, "metadata.generation")
    current = [(text(get(p, "parentRef.name")), [c for c in conditions(p, "conditions") if is_current(c, generation)])
               for p in parents]
    current = [(name, conds) for name, conds in current if conds]
    if not current:
        return HealthResult(Health.PROGRESSING, "Waiting for the latest generation to be observed")
    for name, conds in current:
        for c in conds:
            if condition_status(c) == "False" and not is_progress_condition(c):
                return HealthResult(Health.DEGRADED, f"Parent {name}: {text(c.get('message')) or 'Failed condition: ' + text(c.get('type'))}")
    for name, conds in current:
        for c in conds:
            if condition_status(c) != "True":
                return HealthResult(Health.PROGRESSING, f"Parent {name}: {text(c.get('message') or c.get('reason'))}")
        # The Gateway API requires a controller to set Accepted on every parent it handles: until
        # it does, the route is not known to be attached.
        if not any(c.get("type") == "Accepted" for c in conds):
            return HealthResult(Health.PROGRESSING, f"Parent {name}: waiting for the Accepted condition")
    return HealthResult(Health.HEALTHY, f"{kind} is healthy")

def policy_attachment(*, judged_by_every_ancestor: bool) -> Step:
    """Gateway API policy attachment: one status per ancestor gateway, each of which must accept
    the policy, and any condition an ancestor reports False is a failure.

    ``judged_by_every_ancestor`` (Gateway API's own BackendTLSPolicy): an ancestor listed with no
    conditions has yet to judge the policy, so it is still progressing. Airlock's controllers list
    ancestors that never report conditions, which therefore do not count.
    """

    def check(obj: KubeObject) -> HealthResult:
        kind = text(obj.get("kind"))
        ancestors = [a for a in get(obj, "status.ancestors") or [] if isinstance(a, dict)]
        if not ancestors:
            return HealthResult(Health.PROGRESSING, f"Waiting for {kind} status")
        generation = get(obj, "metadata.generation")
        for ancestor in ancestors:
            name = text(get(ancestor, "ancestorRef.name"))
            conds = conditions(ancestor, "conditions")
            if not conds and judged_by_every_ancestor:
                return HealthResult(Health.PROGRESSING, f"Waiting for {kind} status")
            if any(not is_current(c, generation) for c in conds):
                return HealthResult(Health.PROGRESSING, f"Waiting for Ancestor {name} to update {kind} status")
            failed = next((c for c in conds if condition_status(c) == "False"), None)
            if failed is not None:
                return HealthResult(Health.DEGRADED, f"Ancestor {name}: {text(failed.get('message') or failed.get('reason'))}")
            accepted = next((c for c in conds if c.get("type") == "Accepted"), None)
            if conds and (accepted is None or condition_status(accepted) != "True"):
                return HealthResult(Health.DEGRADED, f"Ancestor {name}: {kind} is not accepted")
        return HealthResult(Health.HEALTHY, f"{kind} is healthy")

    return check

RULES[("projectcontour.io", "HTTPProxy")] = [contour_http_proxy]

for _k in ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"):
    RULES[("gateway.networking.k8s.io", _k)] = [gateway_route]

RULES[("gateway.networking.k8s.io", "BackendTLSPolicy")] = [policy_attachment(judged_by_every_ancestor=True)]

WILDCARDS.append(("microgateway.airlock.com", "*", [policy_attachment(judged_by_every_ancestor=False)]))

# Families, by group: every Gateway API route kind (TLSRoute and routes added later, standard or
# experimental) reads like HTTPRoute; listener sets report Accepted/Programmed like a Gateway;
# Envoy Gateway's policies attach like Gateway API policies, one status per ancestor.
for _group in ("gateway.networking.k8s.io", "gateway.networking.x-k8s.io"):
    WILDCARDS.append((_group, "*Route", [gateway_route]))
    WILDCARDS.append((_group, "*ListenerSet", [conventional]))
WILDCARDS.append(("gateway.envoyproxy.io", "*Policy", [policy_attachment(judged_by_every_ancestor=True)]))
WILDCARDS.append(("gateway.envoyproxy.io", "Backend", [conventional]))
