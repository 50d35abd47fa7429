"""Custom resources whose status does not follow the common conventions, one behaviour per test.

The objects are written here, cut down to the fields the rule reads.
"""

from __future__ import annotations

from typing import Any

from exporter.health import assess
from exporter.model import Health, HealthResult


def obj(api_version: str, kind: str, status: Any = None, spec: Any = None, generation: int | None = None) -> dict:
    metadata: dict[str, Any] = {"name": "x", "namespace": "ns"}
    if generation is not None:
        metadata["generation"] = generation
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec or {}}
    if status is not None:
        out["status"] = status
    return out


def c(type_: str, status: str, **extra: Any) -> dict:
    return {"type": type_, "status": status, **extra}


# --- OpenShift DeploymentConfig ------------------------------------------------------------------

def dc(*conditions: dict) -> dict:
    return obj("apps.openshift.io/v1", "DeploymentConfig", {"conditions": list(conditions)})


ROLLED_OUT = c("Progressing", "True", reason="NewReplicationControllerAvailable")


def test_deployment_config_rolled_out_to_zero_replicas_is_healthy() -> None:
    assert assess(dc(ROLLED_OUT, c("Available", "False"))) == \
        HealthResult(Health.HEALTHY, "replication controller successfully rolled out")


def test_deployment_config_available_but_still_rolling_out_is_progressing() -> None:
    result = assess(dc(c("Available", "True"), c("Progressing", "True", reason="ReplicationControllerUpdated")))
    assert result == HealthResult(Health.PROGRESSING, "replication controller is waiting for pods to run")


def test_deployment_config_unavailable_during_a_rollout_is_degraded() -> None:
    assert assess(dc(c("Available", "False"), c("Progressing", "Unknown"))).status is Health.DEGRADED


# --- Camel K Integration -------------------------------------------------------------------------

UNUSED_STRATEGY = c("CronJobAvailable", "False", message="different controller strategy used (knative-service)")


def test_camel_integration_ignores_conditions_of_unused_deployment_strategies() -> None:
    status = {"phase": "Running", "conditions": [UNUSED_STRATEGY, c("Ready", "True")]}
    assert assess(obj("camel.apache.org/v1", "Integration", status)) == HealthResult(Health.HEALTHY, "")


def test_camel_integration_deploying_is_progressing() -> None:
    status = {"phase": "Deploying", "conditions": [UNUSED_STRATEGY]}
    assert assess(obj("camel.apache.org/v1", "Integration", status)) == \
        HealthResult(Health.PROGRESSING, "Waiting for Integration")


def test_camel_integration_in_error_carries_the_ready_message() -> None:
    status = {"phase": "Error", "conditions": [c("Ready", "False", reason="Error", message="back-off 40s")]}
    assert assess(obj("camel.apache.org/v1", "Integration", status)) == HealthResult(Health.DEGRADED, "back-off 40s")


# --- Rook Cassandra, 3scale ----------------------------------------------------------------------

def test_cassandra_cluster_is_healthy_when_every_rack_has_its_members_ready() -> None:
    racks = {"a": {"members": 3, "readyMembers": 3}, "b": {"members": 2, "readyMembers": 2}}
    assert assess(obj("cassandra.rook.io/v1alpha1", "Cluster", {"racks": racks})).status is Health.HEALTHY
    racks["b"]["readyMembers"] = 1
    assert assess(obj("cassandra.rook.io/v1alpha1", "Cluster", {"racks": racks})) == \
        HealthResult(Health.PROGRESSING, "Waiting for Cassandra Cluster")


def test_3scale_account_waiting_for_approval_is_suspended() -> None:
    status = {"conditions": [c("Waiting", "True", message="waiting for admin approval")]}
    assert assess(obj("capabilities.3scale.net/v1beta1", "DeveloperAccount", status)) == \
        HealthResult(Health.SUSPENDED, "waiting for admin approval")


def test_3scale_ready_kind_says_so_in_argo_cds_words() -> None:
    status = {"conditions": [c("Ready", "True")]}
    assert assess(obj("capabilities.3scale.net/v1beta1", "Tenant", status)) == \
        HealthResult(Health.HEALTHY, "3scale Tenant is ready")


# --- Cluster API ---------------------------------------------------------------------------------

def capi(phase: str, *conditions: dict) -> dict:
    return obj("cluster.x-k8s.io/v1beta1", "Cluster", {"phase": phase, "conditions": list(conditions)})


def test_capi_cluster_still_provisioning_is_progressing_although_ready() -> None:
    assert assess(capi("Provisioning", c("Ready", "True"))) == HealthResult(Health.PROGRESSING, "Waiting for clusters")


def test_capi_cluster_provisioned_and_ready_is_running() -> None:
    assert assess(capi("Provisioned", c("Ready", "True"))) == HealthResult(Health.HEALTHY, "Cluster is running")


def test_capi_cluster_not_ready_at_severity_error_is_degraded_and_at_info_progressing() -> None:
    failing = c("Ready", "False", severity="Error", message="quota exceeded")
    assert assess(capi("Provisioning", failing)) == HealthResult(Health.DEGRADED, "quota exceeded")
    assert assess(capi("Provisioning", c("Ready", "False", severity="Info"))).status is Health.PROGRESSING


def eks(ready: bool, *conditions: dict) -> dict:
    return obj("controlplane.cluster.x-k8s.io/v1beta2", "AWSManagedControlPlane",
               {"ready": ready, "conditions": list(conditions)})


def test_eks_control_plane_upgrading_is_progressing_while_ready() -> None:
    plane = eks(True, c("Ready", "True"), c("EKSControlPlaneUpdating", "True"))
    assert assess(plane) == HealthResult(Health.PROGRESSING, "EKS control plane is updating")


def test_eks_control_plane_ready_is_healthy() -> None:
    assert assess(eks(True, c("Ready", "True"))) == HealthResult(Health.HEALTHY, "Control plane is ready")


# --- Flink, OpenKruise Game, Keycloak, Koperator -------------------------------------------------

def test_flink_job_suspended_by_its_owner_is_suspended() -> None:
    flink = obj("flink.apache.org/v1beta1", "FlinkDeployment",
                {"jobManagerDeploymentStatus": "MISSING", "jobStatus": {"state": "SUSPENDED"}},
                spec={"job": {"state": "suspended"}})
    assert assess(flink) == HealthResult(Health.SUSPENDED, "Flink job is suspended")


def test_flink_reconciliation_error_is_degraded_with_the_error() -> None:
    flink = obj("flink.apache.org/v1beta1", "FlinkDeployment",
                {"jobManagerDeploymentStatus": "ERROR", "reconciliationStatus": {"error": "bad memory config"}})
    assert assess(flink) == HealthResult(Health.DEGRADED, "bad memory config")


def test_game_server_with_a_failing_pod_condition_is_degraded_whatever_its_state() -> None:
    server = obj("game.kruise.io/v1alpha1", "GameServer",
                 {"currentState": "Ready", "podStatus": {"conditions": [c("Ready", "True"), c("KruisePodReady", "False")]}})
    assert assess(server) == HealthResult(Health.DEGRADED, "Pod is not ready: KruisePodReady")


def test_keycloak_not_ready_during_a_rolling_update_is_progressing() -> None:
    status = {"conditions": [c("Ready", "False", message="Waiting for more replicas"), c("HasErrors", "False"),
                             c("RollingUpdate", "True")]}
    assert assess(obj("k8s.keycloak.org/v2alpha1", "Keycloak", status)).status is Health.PROGRESSING


def test_keycloak_with_errors_is_degraded() -> None:
    status = {"conditions": [c("Ready", "False"), c("HasErrors", "True", message="CrashLoopBackOff")]}
    assert assess(obj("k8s.keycloak.org/v2alpha1", "Keycloak", status)) == \
        HealthResult(Health.DEGRADED, "Has Errors: CrashLoopBackOff")


def kafka(config_state: str, topic: str = "CruiseControlTopicReady") -> dict:
    broker = {"configurationState": config_state, "gracefulActionState": {"cruiseControlState": "GracefulUpscaleSucceeded"}}
    return obj("kafka.banzaicloud.io/v1beta1", "KafkaCluster",
               {"state": "ClusterRunning", "brokersState": {"0": broker}, "cruiseControlTopicStatus": topic})


def test_banzai_kafka_running_with_a_broker_config_out_of_sync_is_degraded() -> None:
    assert assess(kafka("ConfigOutOfSync")).status is Health.DEGRADED
    assert assess(kafka("ConfigInSync")).status is Health.HEALTHY


def test_banzai_kafka_running_without_cruise_control_topic_is_progressing() -> None:
    assert assess(kafka("ConfigInSync", topic="ClusterRollingUpgrading")).status is Health.PROGRESSING


# --- Gateway API and policy attachment -----------------------------------------------------------

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


# --- GitOps Promoter -----------------------------------------------------------------------------

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


# --- wording of common operators -----------------------------------------------------------------

def test_analysis_run_prefers_the_controllers_message_over_the_phase_in_words() -> None:
    run = obj("argoproj.io/v1alpha1", "AnalysisRun", {"phase": "Failed"})
    assert assess(run) == HealthResult(Health.DEGRADED, "Analysis run failed")
    run["status"]["message"] = "error rate above 5%"
    assert assess(run) == HealthResult(Health.DEGRADED, "error rate above 5%")


def test_percona_xtradb_says_how_many_nodes_are_ready() -> None:
    cluster = obj("pxc.percona.com/v1", "PerconaXtraDBCluster", {"state": "stopping", "ready": 1, "size": 2})
    assert assess(cluster) == HealthResult(Health.DEGRADED, "Cluster is stopping (1/2 node(s) are ready)")


def test_flagger_canary_message_carries_phase_and_weight() -> None:
    canary = obj("flagger.app/v1beta1", "Canary",
                 {"phase": "Progressing", "canaryWeight": 10,
                  "conditions": [c("Promoted", "Unknown", reason="Progressing", message="analysing")]})
    assert assess(canary) == HealthResult(Health.PROGRESSING, "Progressing --- Canary Weight: 10 % --- analysing")


def test_backend_tls_policy_with_an_unresolved_reference_is_degraded() -> None:
    bad = c("ResolvedRefs", "False", message="CA ConfigMap missing")
    status = {"ancestors": [{"ancestorRef": {"name": "gw"}, "conditions": [c("Accepted", "True"), bad]}]}
    assert assess(obj("gateway.networking.k8s.io/v1", "BackendTLSPolicy", status)) == \
        HealthResult(Health.DEGRADED, "Ancestor gw: CA ConfigMap missing")


def test_backend_tls_policy_ancestor_without_conditions_is_still_judging() -> None:
    status = {"ancestors": [{"ancestorRef": {"name": "gw"}, "conditions": []}]}
    assert assess(obj("gateway.networking.k8s.io/v1", "BackendTLSPolicy", status)).status is Health.PROGRESSING


def test_promoter_readiness_unknown_keeps_the_case_of_names_in_the_noun() -> None:
    unknown = promoter("ArgoCDCommitStatus", {"conditions": [c("Ready", "Unknown", observedGeneration=2,
                                                               reason="Pending", message="querying")]})
    assert assess(unknown) == HealthResult(Health.PROGRESSING,
                                           "Argo CD commit status readiness unknown (Pending): querying")


def test_a_rule_registered_twice_raises() -> None:
    import pytest

    from exporter.health.crds import _Rules
    table = _Rules()
    table[("example.com", "Widget")] = []
    with pytest.raises(KeyError, match="health rule for example.com/Widget is registered twice"):
        table[("example.com", "Widget")] = []


def test_the_conventional_list_holds_only_kinds_that_use_it_alone() -> None:
    from exporter.health import core
    from exporter.health.crds import CONVENTIONAL, RULES, conventional
    for group, kinds in CONVENTIONAL.items():
        for kind in kinds:
            assert RULES[(group, kind)] == [conventional], (group, kind)
            assert (group, kind) not in core.CORE_CHECKS, (group, kind)
