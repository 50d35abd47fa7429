"""Flux's own word on an app (its Kustomization failing, suspended, reconciling or behind its
source) in the combined state, beside what the agent sees of the objects."""

from __future__ import annotations

from test_precedence import obj

from exporter.model import AppState, DeployerState, Health, Sync
from exporter.status import combine

WHAT = "Flux Kustomization flux-system/shop"
AT = "main@sha1:" + "1" * 40
OLD = "main@sha1:" + "0" * 40


def flux(**fields) -> DeployerState:
    return DeployerState(WHAT, fields.pop("applied", AT), source_revision=fields.pop("source", AT), **fields)


def test_a_failing_kustomization_makes_a_healthy_app_degraded_with_flux_reason() -> None:
    v = combine([obj("web")], deployer=flux(failed="HealthCheckFailed: timeout waiting for Deployment/web"))
    assert v.state is AppState.DEGRADED
    assert v.reason == f"{WHAT} failed: HealthCheckFailed: timeout waiting for Deployment/web"


def test_a_degraded_object_is_named_before_the_failing_kustomization() -> None:
    v = combine([obj("web", Health.DEGRADED, message="CrashLoopBackOff")], deployer=flux(failed="HealthCheckFailed"))
    assert v.state is AppState.DEGRADED and "CrashLoopBackOff" in v.reason


def test_a_suspended_kustomization_is_suspended_and_still_names_its_drift() -> None:
    v = combine([obj("web", sync=Sync.OUT_OF_SYNC, paths=("spec.replicas",))], deployer=flux(suspended=True))
    assert (v.state, v.sync) == (AppState.SUSPENDED, Sync.OUT_OF_SYNC)
    assert v.reason == f"{WHAT} is suspended; apps/Deployment ns/web differs at spec.replicas"


def test_a_suspended_kustomization_with_nothing_wrong_just_says_so() -> None:
    assert combine([obj("web")], deployer=flux(suspended=True)).reason == f"{WHAT} is suspended"


def test_suspension_does_not_hide_a_degraded_object() -> None:
    v = combine([obj("web", Health.DEGRADED, message="OOMKilled")], deployer=flux(suspended=True))
    assert v.state is AppState.DEGRADED


def test_a_kustomization_behind_its_source_is_progressing_with_both_revisions() -> None:
    v = combine([obj("web")], deployer=flux(applied=OLD))
    assert v.state is AppState.PROGRESSING
    assert v.reason == f"{WHAT} has applied {OLD}, its source is at {AT}"


def test_drift_while_behind_is_out_of_sync_and_says_flux_is_behind() -> None:
    v = combine([obj("web", sync=Sync.OUT_OF_SYNC, paths=("data.mode",))], deployer=flux(applied=OLD))
    assert v.state is AppState.OUT_OF_SYNC
    assert v.reason.endswith(f"; {WHAT} has applied {OLD}, its source is at {AT}")


def test_a_reconciling_kustomization_is_progressing_with_flux_message() -> None:
    v = combine([obj("web")], deployer=flux(reconciling="Progressing: Reconciliation in progress"))
    assert (v.state, v.reason) == (AppState.PROGRESSING, f"{WHAT}: Progressing: Reconciliation in progress")


def test_a_ready_kustomization_at_its_source_leaves_the_app_healthy() -> None:
    assert combine([obj("web")], deployer=flux()).state is AppState.HEALTHY


def test_an_evaluation_error_stays_unknown_whatever_flux_says() -> None:
    assert combine([], "git fetch failed", deployer=flux(suspended=True)).state is AppState.UNKNOWN


def test_an_object_not_compared_is_named_on_an_otherwise_healthy_app() -> None:
    secret = obj("db", None, sync=Sync.UNKNOWN)
    secret.not_compared = "SOPS-encrypted in Git"
    v = combine([obj("web"), secret])
    assert (v.state, v.sync) == (AppState.HEALTHY, Sync.UNKNOWN)
    assert v.reason == "not compared: apps/Deployment ns/db (SOPS-encrypted in Git)"


def test_an_object_to_prune_says_whether_flux_will_prune_it() -> None:
    extra = obj("old", prune=True, sync=Sync.OUT_OF_SYNC)
    assert combine([obj("web"), extra], deployer=flux(prunes=True)).reason == \
        "apps/Deployment ns/old requires pruning (Flux prunes it)"
    assert combine([obj("web"), extra], deployer=flux(prunes=False)).reason == \
        "apps/Deployment ns/old requires pruning (Flux does not prune it: spec.prune is false)"


def test_an_object_marked_prune_disabled_says_so_whatever_the_kustomization_says() -> None:
    extra = obj("old", prune=True, sync=Sync.OUT_OF_SYNC)
    extra.kept = "annotation kustomize.toolkit.fluxcd.io/prune: disabled"
    assert combine([obj("web"), extra], deployer=flux(prunes=True)).reason == (
        "apps/Deployment ns/old requires pruning (Flux does not prune it: "
        "annotation kustomize.toolkit.fluxcd.io/prune: disabled)")
