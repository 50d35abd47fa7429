"""Health of core Kubernetes kinds, with Argo CD's semantics.

Argo CD users already alert on these verdicts and messages, so the checks follow Argo CD's
behaviour (including its quirks, such as a Pod without a restart policy being Unknown while
running) rather than re-deciding what healthy means.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from exporter.health.paths import as_int, condition, condition_code, conditions, get, mapping, text
from exporter.model import HOOK_ANNOTATIONS, Health, HealthResult, KubeObject

IGNORE_RESTART_POLICY = "argocd.argoproj.io/ignore-restart-policy"



def _status(obj: KubeObject) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _spec_replicas(obj: KubeObject) -> int | None:
    value = get(obj, "spec.replicas")
    return None if value is None else as_int(value)


def deployment(obj: KubeObject) -> HealthResult:
    if get(obj, "spec.paused") is True:
        return HealthResult(Health.SUSPENDED, "Deployment is paused", reason="paused")
    status = _status(obj)
    if as_int(get(obj, "metadata.generation")) > as_int(status.get("observedGeneration")):
        return HealthResult(Health.PROGRESSING, "Waiting for rollout to finish: observed deployment generation less than "
                               "desired generation", reason="generationNotObserved")
    progressing = condition(obj, "Progressing")
    replicas = _spec_replicas(obj)
    updated = as_int(status.get("updatedReplicas"))
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        name = text(get(obj, "metadata.name"))
        return HealthResult(Health.DEGRADED, f'Deployment "{name}" exceeded its progress deadline', reason="progressDeadlineExceeded")
    if replicas is not None and updated < replicas:
        return HealthResult(Health.PROGRESSING, f"Waiting for rollout to finish: {updated} out of {replicas} new replicas "
                               "have been updated...", reason="tooFewUpdated")
    if as_int(status.get("replicas")) > updated:
        old = as_int(status.get("replicas")) - updated
        return HealthResult(Health.PROGRESSING, f"Waiting for rollout to finish: {old} old replicas are pending termination...", reason="oldReplicasPending")
    if as_int(status.get("availableReplicas")) < updated:
        return HealthResult(Health.PROGRESSING, f"Waiting for rollout to finish: {as_int(status.get('availableReplicas'))} of "
                               f"{updated} updated replicas are available...", reason="tooFewAvailable")
    return HealthResult(Health.HEALTHY, "", reason="rolledOut")


def statefulset(obj: KubeObject) -> HealthResult:
    status = _status(obj)
    observed = as_int(status.get("observedGeneration"))
    if observed == 0 or as_int(get(obj, "metadata.generation")) > observed:
        return HealthResult(Health.PROGRESSING, "Waiting for statefulset spec update to be observed...", reason="generationNotObserved")
    replicas = _spec_replicas(obj)
    ready = as_int(status.get("readyReplicas"))
    if replicas is not None and ready < replicas:
        return HealthResult(Health.PROGRESSING, f"Waiting for {replicas - ready} pods to be ready...", reason="tooFewReady")
    strategy = get(obj, "spec.updateStrategy.type")
    partition = get(obj, "spec.updateStrategy.rollingUpdate.partition")
    updated = as_int(status.get("updatedReplicas"))
    if strategy == "RollingUpdate" and replicas is not None and partition is not None:
        target = replicas - as_int(partition)
        if updated < target:
            return HealthResult(Health.PROGRESSING, f"Waiting for partitioned roll out to finish: {updated} out of {target} "
                                   "new pods have been updated...", reason="partitionRollingOut")
        return HealthResult(Health.HEALTHY, f"partitioned roll out complete: {updated} new pods have been updated...", reason="partitionRolledOut")
    if strategy == "OnDelete":
        return HealthResult(Health.HEALTHY, f"statefulset has {ready} ready pods", reason="onDelete")
    if status.get("updateRevision") != status.get("currentRevision"):
        return HealthResult(Health.PROGRESSING, f"waiting for statefulset rolling update to complete {updated} pods at "
                               f"revision {text(status.get('updateRevision'))}...", reason="updateRevisionPending")
    return HealthResult(Health.HEALTHY, f"statefulset rolling update complete {as_int(status.get('currentReplicas'))} "
                           f"pods at revision {text(status.get('currentRevision'))}...", reason="rolledOut")


def daemonset(obj: KubeObject) -> HealthResult:
    status = _status(obj)
    if as_int(get(obj, "metadata.generation")) > as_int(status.get("observedGeneration")):
        return HealthResult(Health.PROGRESSING, "Waiting for rollout to finish: observed daemon set generation less than "
                               "desired generation", reason="generationNotObserved")
    updated = as_int(status.get("updatedNumberScheduled"))
    desired = as_int(status.get("desiredNumberScheduled"))
    if get(obj, "spec.updateStrategy.type") == "OnDelete":
        return HealthResult(Health.HEALTHY, f"daemon set {updated} out of {desired} new pods have been updated", reason="onDelete")
    name = text(get(obj, "metadata.name"))
    if updated < desired:
        return HealthResult(Health.PROGRESSING, f'Waiting for daemon set "{name}" rollout to finish: {updated} out of '
                               f"{desired} new pods have been updated...", reason="tooFewUpdated")
    available = as_int(status.get("numberAvailable"))
    if available < desired:
        return HealthResult(Health.PROGRESSING, f'Waiting for daemon set "{name}" rollout to finish: {available} of '
                               f"{desired} updated pods are available...", reason="tooFewAvailable")
    return HealthResult(Health.HEALTHY, "", reason="rolledOut")


def replicaset(obj: KubeObject) -> HealthResult:
    status = _status(obj)
    if as_int(get(obj, "metadata.generation")) > as_int(status.get("observedGeneration")):
        return HealthResult(Health.PROGRESSING, "Waiting for rollout to finish: observed replica set generation less than "
                               "desired generation", reason="generationNotObserved")
    failure = condition(obj, "ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return HealthResult(Health.DEGRADED, text(failure.get("message")), reason=condition_code(failure))
    replicas = _spec_replicas(obj)
    available = as_int(status.get("availableReplicas"))
    if replicas is not None and available < replicas:
        return HealthResult(Health.PROGRESSING, f"Waiting for rollout to finish: {available} out of {replicas} new replicas "
                               "are available...", reason="tooFewAvailable")
    return HealthResult(Health.HEALTHY, "", reason="available")


def _container_statuses(obj: KubeObject, key: str) -> list[dict[str, Any]]:
    value = get(obj, f"status.{key}")
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def _fail_message(ctr: dict[str, Any]) -> str:
    term = get(ctr, "state.terminated")
    if isinstance(term, dict):
        if term.get("message"):
            return text(term["message"])
        if term.get("reason") == "OOMKilled":
            return "OOMKilled"
        if as_int(term.get("exitCode")):
            return f'container "{text(ctr.get("name"))}" failed with exit code {as_int(term.get("exitCode"))}'
    return ""


def pod(obj: KubeObject) -> HealthResult:
    annotations = mapping(obj, "metadata.annotations")
    is_hook = any(a in annotations for a in HOOK_ANNOTATIONS)
    ignore_policy = text(annotations.get(IGNORE_RESTART_POLICY)).lower() == "true" and not is_hook
    policy = get(obj, "spec.restartPolicy") or ""
    restarts_forever = policy == "Always" or ignore_policy
    message = text(get(obj, "status.message"))
    if restarts_forever:
        # A container stuck in an image pull or crash loop never becomes ready by waiting. Pods
        # that run once (hooks) are left alone: marking them Degraded would fail a hook that a
        # retry of the pull could still rescue.
        waiting, codes = [], []
        for ctr in _container_statuses(obj, "containerStatuses"):
            state = get(ctr, "state.waiting")
            reason = text(get(state, "reason")) if isinstance(state, dict) else ""
            if isinstance(state, dict) and (reason.startswith("Err") or reason.endswith("Error")
                                            or reason.endswith("BackOff")):
                waiting.append(text(state.get("message")))
                codes.append(reason)
        if waiting:
            return HealthResult(Health.DEGRADED, ", ".join(waiting), reason=codes[0])
    phase = get(obj, "status.phase")
    if phase == "Pending":
        return HealthResult(Health.PROGRESSING, message, reason="podPending")
    if phase == "Succeeded":
        return HealthResult(Health.HEALTHY, message, reason="podSucceeded")
    if phase == "Failed":
        if message:
            return HealthResult(Health.DEGRADED, message, reason="podFailed")
        for ctr in _container_statuses(obj, "initContainerStatuses") + _container_statuses(obj, "containerStatuses"):
            fail = _fail_message(ctr)
            if fail:
                return HealthResult(Health.DEGRADED, fail, reason="containerFailed")
        return HealthResult(Health.DEGRADED, "", reason="podFailed")
    if phase == "Running":
        if restarts_forever:
            ready = condition(obj, "Ready")
            if ready is not None and ready.get("status") == "True":
                return HealthResult(Health.HEALTHY, message, reason="podReady")
            if any(isinstance(get(c, "lastState.terminated"), dict)
                   for c in _container_statuses(obj, "containerStatuses")):
                return HealthResult(Health.DEGRADED, message, reason="containerRestarted")
            return HealthResult(Health.PROGRESSING, message, reason="podNotReady")
        if policy in ("OnFailure", "Never"):
            # Run-to-completion pods (typically hooks) are not done while running.
            return HealthResult(Health.PROGRESSING, message, reason="podRunning")
    return HealthResult(Health.UNKNOWN, message, reason="podPhaseUnknown")


def pvc(obj: KubeObject) -> HealthResult:
    phase = get(obj, "status.phase")
    if phase == "Lost":
        return HealthResult(Health.DEGRADED, "", reason="claimLost")
    if phase == "Pending":
        return HealthResult(Health.PROGRESSING, "", reason="claimPending")
    if phase == "Bound":
        return HealthResult(Health.HEALTHY, "", reason="claimBound")
    return HealthResult(Health.UNKNOWN, "", reason="claimPhaseUnknown")


def _load_balanced(obj: KubeObject) -> bool:
    ingress = get(obj, "status.loadBalancer.ingress")
    return isinstance(ingress, list) and len(ingress) > 0


def service(obj: KubeObject) -> HealthResult:
    if get(obj, "spec.type") == "LoadBalancer" and not _load_balanced(obj):
        return HealthResult(Health.PROGRESSING, "", reason="loadBalancerPending")
    return HealthResult(Health.HEALTHY, "", reason="ready")


def ingress(obj: KubeObject) -> HealthResult:
    return HealthResult(Health.HEALTHY if _load_balanced(obj) else Health.PROGRESSING, "", reason="loadBalanced" if _load_balanced(obj) else "loadBalancerPending")


def job(obj: KubeObject) -> HealthResult:
    """Failed, Complete or Suspended conditions that are True (a ``Failed=False`` condition is not
    a failure: see ``deviations.OUTSIDE_CONFORMANCE``); malformed conditions are Unknown, not a
    guess of Progressing."""
    raw = get(obj, "status.conditions")
    if raw is not None and (not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw)):
        return HealthResult(Health.UNKNOWN, "status.conditions is not a list of conditions", reason="malformedConditions")
    failed = complete = suspended = False
    fail_message = message = ""
    for cond in conditions(obj):
        kind = cond.get("type")
        if kind == "Failed" and cond.get("status") == "True":
            failed = complete = True
            fail_message = text(cond.get("message"))
        elif kind == "Complete" and cond.get("status") == "True":
            complete = True
            message = text(cond.get("message"))
        elif kind == "Suspended" and cond.get("status") == "True":
            complete = suspended = True
            message = text(cond.get("message"))
    if not complete:
        return HealthResult(Health.PROGRESSING, message, reason="jobRunning")
    if failed:
        return HealthResult(Health.DEGRADED, fail_message, reason="jobFailed")
    if suspended:
        return HealthResult(Health.SUSPENDED, message, reason="jobSuspended")
    return HealthResult(Health.HEALTHY, message, reason="jobComplete")


def cronjob(obj: KubeObject) -> HealthResult:
    """A CronJob fails only through its Jobs: a run scheduled after the last success that is no
    longer active did not succeed. Suspension is reported as Suspended (Argo CD says Healthy)."""
    if get(obj, "spec.suspend") is True:
        return HealthResult(Health.SUSPENDED, "CronJob is Suspended", reason="suspended")
    last_schedule = text(get(obj, "status.lastScheduleTime"))
    last_success = text(get(obj, "status.lastSuccessfulTime"))
    if not last_schedule:
        return HealthResult(Health.HEALTHY, "CronJob has not been scheduled yet", reason="notScheduledYet")
    if not last_success:
        return HealthResult(Health.HEALTHY, "The CronJob never completed successfully. It may not be healthy", reason="neverSucceeded")
    if get(obj, "status.active"):
        return HealthResult(Health.HEALTHY, "The job is running. Its last execution may not have been successful", reason="jobActive")
    if last_schedule > last_success:
        return HealthResult(Health.DEGRADED, "CronJob has not completed its last execution successfully", reason="lastRunFailed")
    return HealthResult(Health.HEALTHY, "CronJob has completed its last execution successfully", reason="lastRunSucceeded")


_HPA_DEGRADED = {
    ("AbleToScale", "FailedGetScale"), ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"), ("ScalingActive", "InvalidSelector"),
    ("ScalingActive", "FailedGetObjectMetric"), ("ScalingActive", "FailedGetPodsMetric"),
    ("ScalingActive", "FailedGetExternalMetric"), ("ScalingActive", "FailedGetContainerResourceMetric"),
    ("ScalingActive", "InvalidMetricSourceType"),
}
_HPA_HEALTHY = {
    ("AbleToScale", "SucceededRescale"), ("AbleToScale", "ReadyForNewScale"),
    ("ScalingLimited", "TooFewReplicas"), ("ScalingLimited", "TooManyReplicas"),
}


def _hpa_failing(cond: dict[str, Any]) -> bool:
    key = (cond.get("type"), cond.get("reason"))
    return key in _HPA_DEGRADED or (cond.get("type") in ("AbleToScale", "ScalingActive")
                                    and cond.get("status") == "False"
                                    and text(cond.get("reason")).startswith(("Failed", "Invalid")))


def hpa(obj: KubeObject) -> HealthResult:
    """A failing condition anywhere wins over a healthy one; among healthy ones, the first in the
    order the controller wrote them gives the message. Conditions of ``autoscaling/v1`` objects live
    in an annotation as JSON."""
    if str(obj.get("apiVersion")) == "autoscaling/v1":
        raw = mapping(obj, "metadata.annotations")
        try:
            conds = json.loads(raw.get("autoscaling.alpha.kubernetes.io/conditions") or "[]")
        except ValueError:
            conds = []
        conds = [c for c in conds if isinstance(c, dict)] if isinstance(conds, list) else []
    else:
        conds = conditions(obj)
    for cond in conds:
        if _hpa_failing(cond):
            return HealthResult(Health.DEGRADED, text(cond.get("message")), reason=condition_code(cond))
    for cond in conds:
        key = (cond.get("type"), cond.get("reason"))
        if key in _HPA_HEALTHY or (cond.get("type") == "AbleToScale" and cond.get("status") == "True"):
            return HealthResult(Health.HEALTHY, text(cond.get("message")), reason=condition_code(cond))
    return HealthResult(Health.PROGRESSING, "Waiting to Autoscale", reason="waitingToAutoscale")


def apiservice(obj: KubeObject) -> HealthResult:
    for cond in conditions(obj):
        if cond.get("type") == "Available":
            message = f"{text(cond.get('reason'))}: {text(cond.get('message'))}"
            return HealthResult(Health.HEALTHY if cond.get("status") == "True" else Health.PROGRESSING, message, reason=condition_code(cond))
    return HealthResult(Health.PROGRESSING, "Waiting to be processed", reason="notProcessedYet")


#: (group, kind) -> check. The group is the API group without version ("" for the core group).
CORE_CHECKS: dict[tuple[str, str], Callable[[KubeObject], HealthResult]] = {
    ("apps", "Deployment"): deployment,
    ("extensions", "Deployment"): deployment,
    ("apps", "StatefulSet"): statefulset,
    ("apps", "DaemonSet"): daemonset,
    ("extensions", "DaemonSet"): daemonset,
    ("apps", "ReplicaSet"): replicaset,
    ("extensions", "ReplicaSet"): replicaset,
    ("", "Pod"): pod,
    ("", "PersistentVolumeClaim"): pvc,
    ("", "Service"): service,
    ("networking.k8s.io", "Ingress"): ingress,
    ("extensions", "Ingress"): ingress,
    ("batch", "Job"): job,
    ("batch", "CronJob"): cronjob,
    ("autoscaling", "HorizontalPodAutoscaler"): hpa,
    ("apiregistration.k8s.io", "APIService"): apiservice,
}
