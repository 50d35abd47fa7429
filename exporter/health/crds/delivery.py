"""Progressive delivery and GitOps promotion: Argo (Rollouts, Workflows, CD, GitOps Promoter), Numaplane,
Numaflow, Flagger, Spot and Keptn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exporter.health.crds.common import (
    Rules,
    cond,
    condition_status,
    conventional,
    default,
    is_current,
    no_status,
    numeric_behind,
)
from exporter.health.paths import as_int, condition, conditions, get, mapping, text
from exporter.health.rules import Step
from exporter.model import Health, HealthResult, KubeObject

RULES = Rules()
WILDCARDS: list[tuple[str, str, Sequence[Step]]] = []


def _digits(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None

def argo_rollout(obj: KubeObject) -> HealthResult:
    """Argo Rollouts: older controllers stored a hash in observedGeneration, so only a number
    is compared; the phase, when written, is authoritative."""
    status = obj.get("status")
    waiting = HealthResult(Health.PROGRESSING, "Waiting for rollout spec update to be observed")
    if not isinstance(status, dict) or not status:
        return waiting
    observed = _digits(status.get("observedGeneration"))
    # A legacy hash made only of digits reads as a number larger than any real generation.
    if observed is not None and observed < as_int(get(obj, "metadata.generation")):
        return waiting
    if get(obj, "spec.workloadRef") is not None:
        wanted = mapping(obj, "metadata.annotations").get("rollout.argoproj.io/workload-generation")
        if wanted is not None and text(status.get("workloadObservedGeneration")) != text(wanted):
            return waiting
    invalid = condition(obj, "InvalidSpec")
    if invalid is not None and invalid.get("status") == "True":
        return HealthResult(Health.DEGRADED, text(invalid.get("message")))
    phase = status.get("phase")
    if phase in ("Degraded", "Progressing", "Healthy"):
        return HealthResult(Health(phase), text(status.get("message")))
    if phase == "Paused":
        return HealthResult(Health.SUSPENDED, text(status.get("message")))
    if status.get("abort"):
        return HealthResult(Health.DEGRADED, "Rollout is aborted")
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return HealthResult(Health.DEGRADED, text(progressing.get("message")))
    pauses = status.get("pauseConditions")
    if isinstance(pauses, list) and pauses and isinstance(pauses[0], dict):
        return HealthResult(Health.SUSPENDED, text(pauses[0].get("reason")))
    if get(obj, "spec.paused") is True or status.get("controllerPause"):
        return HealthResult(Health.SUSPENDED, "Rollout is paused")
    replicas = as_int(get(obj, "spec.replicas"), 1) if get(obj, "spec.replicas") is not None else 1
    updated = as_int(status.get("updatedReplicas"))
    available = as_int(status.get("availableReplicas"))
    prefix = "Waiting for roll out to finish: "
    if updated < replicas:
        return HealthResult(Health.PROGRESSING, prefix + "More replicas need to be updated")
    if as_int(status.get("replicas")) > updated:
        return HealthResult(Health.PROGRESSING, prefix + "old replicas are pending termination")
    if available < updated:
        return HealthResult(Health.PROGRESSING, prefix + "updated replicas are still becoming available")
    if get(obj, "spec.strategy.blueGreen") is not None:
        active = get(obj, "status.blueGreen.activeSelector") or status.get("activeSelector")
        if active and active != status.get("currentPodHash"):
            return HealthResult(Health.PROGRESSING, prefix + "switching active service to updated service")
    elif get(obj, "spec.strategy.canary") is not None:
        stable = get(obj, "status.canary.stableRS") or status.get("stableRS")
        if stable and stable != status.get("currentPodHash"):
            return HealthResult(Health.PROGRESSING, prefix + "waiting for all steps to complete")
    return HealthResult(Health.HEALTHY, "")

RULES[("argoproj.io", "Rollout")] = [argo_rollout]

def numaplane_rollout(obj: KubeObject) -> HealthResult:
    status = obj.get("status")
    if not isinstance(status, dict) or not status or numeric_behind(obj):
        return HealthResult(Health.PROGRESSING, "Update in progress")
    if status.get("phase") == "Failed":
        return HealthResult(Health.DEGRADED, text(status.get("message")))
    if status.get("upgradeInProgress") or status.get("phase") == "Pending":
        return HealthResult(Health.PROGRESSING, "Update in progress")
    paused = next((c for c in conditions(obj) if text(c.get("type")).endswith("PausingOrPaused")
                   and condition_status(c) == "True"), None)
    if paused is not None:
        return HealthResult(Health.HEALTHY, text(paused.get("message")))
    upgrade = condition(obj, "ProgressiveUpgradeSucceeded")
    if upgrade is not None and condition_status(upgrade) == "False":
        return HealthResult(Health.DEGRADED, "Progressive upgrade failed")
    healthy = condition(obj, "ChildResourcesHealthy")
    if healthy is not None and condition_status(healthy) == "False":
        if healthy.get("reason") == "Progressing":
            return HealthResult(Health.PROGRESSING, "Child Progressing")
        return HealthResult(Health.DEGRADED, text(healthy.get("message")))
    if healthy is not None and condition_status(healthy) != "True":
        return HealthResult(Health.PROGRESSING, text(healthy.get("message")))
    return HealthResult(Health.HEALTHY, "")

for _k in ("ISBServiceRollout", "MonoVertexRollout", "NumaflowControllerRollout", "PipelineRollout"):
    RULES[("numaplane.numaproj.io", _k)] = [numaplane_rollout]

@dataclass(frozen=True)
class PromoterWords:
    """How GitOps Promoter's own health checks word one kind's states (Argo CD ships them)."""

    noun: str                  # "Initializing <noun>"
    spec_noun: str             # "Waiting for <spec_noun> spec update to be observed"
    failed: str                # "<failed>: <Ready message>" on a reconciliation error
    no_ready: str              # no Ready condition yet
    not_ready: str = ""        # "<not_ready> (<reason>): <message>" for Ready False with another reason
    unknown: str = ""          # "<unknown> (<reason>): <message>" for Ready Unknown
    branches: str = ""         # "<branches> pending|failed for branch(es): ..." (commit status gates)
    passed: str = ""           # "... <passed> for N environment(s)"

PROMOTER: dict[str, PromoterWords] = {
    "ArgoCDCommitStatus": PromoterWords("Argo CD commit status", "Argo CD commit status",
                                        "Argo CD commit status reconciliation failed", "Argo CD commit status is not ready yet"),
    "ChangeTransferPolicy": PromoterWords("change transfer policy", "change transfer policy",
                                          "Change transfer policy reconciliation failed",
                                          "Change transfer policy is not ready yet"),
    "ClusterScmProvider": PromoterWords("cluster SCM provider", "ClusterScmProvider", "Cluster SCM provider validation failed",
                                        "ClusterScmProvider Ready condition is missing",
                                        unknown="Cluster SCM provider readiness unknown"),
    "CommitStatus": PromoterWords("commit status", "commit status", "Commit status reconciliation failed",
                                  "Commit status is not ready yet"),
    "GitCommitStatus": PromoterWords("git commit validation", "GitCommitStatus", "Git commit validation failed",
                                     "GitCommitStatus Ready condition is missing",
                                     not_ready="Git commit validation not ready",
                                     unknown="Git commit validation status unknown",
                                     branches="Git commit validation", passed="Git commit validation passed"),
    "GitRepository": PromoterWords("Git repository", "GitRepository", "Git repository validation failed",
                                   "GitRepository Ready condition is missing", unknown="Git repository readiness unknown"),
    "PromotionStrategy": PromoterWords("promotion strategy", "promotion strategy",
                                       "Promotion strategy reconciliation failed", "Promotion strategy is not ready yet"),
    "PullRequest": PromoterWords("pull request", "pull request", "Pull request reconciliation failed",
                                 "Pull request is not ready yet"),
    "ScmProvider": PromoterWords("SCM provider", "ScmProvider", "SCM provider validation failed",
                                 "ScmProvider Ready condition is missing", unknown="SCM provider readiness unknown"),
    "TimedCommitStatus": PromoterWords("timed commit gate", "TimedCommitStatus", "Timed commit gate failed",
                                       "TimedCommitStatus Ready condition is missing",
                                       branches="Timed commit gate", passed="Timed commit gate satisfied"),
    "WebRequestCommitStatus": PromoterWords("web request commit validation", "WebRequestCommitStatus",
                                            "Web request commit validation failed",
                                            "WebRequestCommitStatus Ready condition is missing",
                                            not_ready="Web request commit validation not ready",
                                            branches="Web request validation", passed="Web request validation passed"),
}

def _commit_statuses(statuses: object) -> str:
    """``1 pending, 0 successful, 1 failed. Pending commit statuses: a. Failed commit statuses: b. ``"""
    items = [s for s in statuses or [] if isinstance(s, dict)] if isinstance(statuses, list) else []
    by_phase: dict[str, list[str]] = {"pending": [], "success": [], "failure": []}
    for item in items:
        by_phase.setdefault(text(item.get("phase")), []).append(text(item.get("key")))
    out = f"{len(by_phase['pending'])} pending, {len(by_phase['success'])} successful, {len(by_phase['failure'])} failed. "
    if by_phase["pending"]:
        out += f"Pending commit statuses: {', '.join(by_phase['pending'])}. "
    if by_phase["failure"]:
        out += f"Failed commit statuses: {', '.join(by_phase['failure'])}. "
    return out

def _promotion(envs: list[dict[str, object]], strategy: bool) -> HealthResult:
    """Environments of a PromotionStrategy, or the one a ChangeTransferPolicy manages."""
    proposed_shas = set()
    for env in envs:
        where = f" in environment '{text(env.get('branch'))}'" if strategy else ""
        active = text(get(env, "active.dry.sha"))
        proposed = text(get(env, "proposed.dry.sha"))
        if not active:
            return HealthResult(Health.PROGRESSING, f"The active commit DRY SHA is missing or empty{where}.")
        if not proposed:
            return HealthResult(Health.PROGRESSING, f"The proposed commit DRY SHA is missing or empty{where}.")
        proposed_shas.add(proposed)
        if proposed != active:
            hydrated = text(get(env, "proposed.note.drySha")) or proposed
            env_name = f" for environment '{text(env.get('branch'))}'" if strategy else ""
            message = (f"Promotion in progress{env_name} from '{active[:7]}' to '{proposed[:7]}': "
                       f"{_commit_statuses(get(env, 'proposed.commitStatuses'))}")
            if strategy:
                message += f"Hydrator has processed dry commit '{hydrated[:7]}'. "
            return HealthResult(Health.PROGRESSING, message)
    if len(proposed_shas) > 1:
        return HealthResult(Health.PROGRESSING, "Not all environments have the same proposed commit SHA. "
                               "This likely means the hydrator has not run for all environments yet.")
    first = envs[0]
    active = text(get(first, "active.dry.sha"))
    if strategy:
        hydrated = text(get(first, "proposed.note.drySha")) or text(get(first, "proposed.dry.sha"))
        return HealthResult(Health.HEALTHY, f"All environments are up-to-date on commit '{active[:7]}'. "
                               f"Hydrator has processed dry commit '{hydrated[:7]}'.")
    statuses = get(first, "active.commitStatuses")
    if any(isinstance(s, dict) and s.get("phase") != "success" for s in statuses or []):
        return HealthResult(Health.HEALTHY, "Environment is up-to-date, but there are non-successful active commit statuses: "
                               + _commit_statuses(statuses))
    return HealthResult(Health.HEALTHY, f"Environment is up-to-date on commit {active[:7]}.")

def promoter(obj: KubeObject) -> HealthResult:
    """GitOps Promoter (promoter.argoproj.io): the Ready condition, then what each kind promotes.

    A strategy or policy whose proposed dry commit differs from the active one is still being
    promoted, and a commit-status gate reports per environment branch.
    """
    kind = text(obj.get("kind"))
    words = PROMOTER[kind]
    # Upper-case the first letter only: the nouns carry names ("SCM", "Argo CD") that must keep their case.
    noun = words.noun[:1].upper() + words.noun[1:]
    status = obj.get("status")
    if not isinstance(status, dict):
        return HealthResult(Health.PROGRESSING, f"Initializing {words.noun}")
    generation = get(obj, "metadata.generation")
    if any(not is_current(c, generation) for c in conditions(obj)):
        return HealthResult(Health.PROGRESSING, f"Waiting for {words.spec_noun} spec update to be observed")
    ready = condition(obj, "Ready")
    if ready is None:
        return HealthResult(Health.PROGRESSING, words.no_ready)
    reason, message = text(ready.get("reason")), text(ready.get("message"))
    if condition_status(ready) == "False":
        if reason == "ReconciliationError" or not reason:
            return HealthResult(Health.DEGRADED, f"{words.failed}: {message}")
        return HealthResult(Health.DEGRADED, f"{words.not_ready or words.failed} ({reason}): {message}")
    if condition_status(ready) != "True":
        return HealthResult(Health.PROGRESSING, f"{words.unknown or noun + ' readiness unknown'} ({reason}): {message}")
    if kind == "ArgoCDCommitStatus":
        apps = status.get("applicationsSelected")
        if isinstance(apps, list) and not apps:
            return HealthResult(Health.DEGRADED, "Argo CD commit status has no applications configured")
        count = len(apps) if isinstance(apps, list) else 0
        return HealthResult(Health.HEALTHY, f"Argo CD commit status is healthy and is tracking {count} applications")
    if kind == "PromotionStrategy":
        envs = [e for e in status.get("environments") or [] if isinstance(e, dict)]
        if not envs:
            return HealthResult(Health.DEGRADED, "Promotion strategy has no environments configured")
        return _promotion(envs, strategy=True)
    if kind == "ChangeTransferPolicy":
        return _promotion([status], strategy=False)
    if kind == "CommitStatus":
        return HealthResult(Health.HEALTHY, f"Commit status for commit {text(status.get('sha'))} reports {text(status.get('phase'))}")
    if kind == "PullRequest":
        if status.get("id") and status.get("state"):
            return HealthResult(Health.HEALTHY, f"Pull request is {text(status['state'])} as PR {text(status['id'])}")
        return HealthResult(Health.HEALTHY, "Pull request is healthy")
    if words.branches:
        envs = [e for e in status.get("environments") or [] if isinstance(e, dict)]
        for phase, health, verb in (("failure", Health.DEGRADED, "failed"), ("pending", Health.PROGRESSING, "pending")):
            branches = [text(e.get("branch")) for e in envs if e.get("phase") == phase]
            if branches:
                return HealthResult(health, f"{words.branches} {verb} for branch(es): {', '.join(branches)}")
        if not envs:
            return HealthResult(Health.HEALTHY, f"{noun} reconciled")
        return HealthResult(Health.HEALTHY, f"{words.passed} for {len(envs)} environment(s)")
    return HealthResult(Health.HEALTHY, f"{noun} is ready")

for _k in PROMOTER:
    RULES[("promoter.argoproj.io", _k)] = [promoter]

RULES[("metrics.keptn.sh", "KeptnMetric")] = [
    {"field": "status.errMsg", "health": "Degraded", "message": "KeptnMetric is degraded"},
    {"field": "status.value", "health": "Healthy", "message": "KeptnMetric is healthy"},
    default("Progressing", "KeptnMetric is progressing"),
]

_ANALYSIS_PHASES = {
    "Successful": (Health.HEALTHY, "Analysis run completed successfully"), "Failed": (Health.DEGRADED, "Analysis run failed"),
    "Error": (Health.DEGRADED, "Analysis run had an error"), "Inconclusive": (Health.UNKNOWN, "Analysis run was inconclusive"),
    "Running": (Health.PROGRESSING, "Analysis run is running"), "Pending": (Health.PROGRESSING, "Analysis run is running"),
}

def analysis_run(obj: KubeObject) -> HealthResult | None:
    """Argo Rollouts AnalysisRun: the phase, in words, unless the controller wrote why."""
    verdict = _ANALYSIS_PHASES.get(text(get(obj, "status.phase")))
    if verdict is None:
        return None
    return HealthResult(verdict[0], text(get(obj, "status.message")) or verdict[1])

RULES[("argoproj.io", "AnalysisRun")] = [
    no_status("Progressing", "Waiting for analysis run to finish: status has not been reconciled."),
    analysis_run,
    default("Progressing", "Analysis run is running"),
]

RULES[("argoproj.io", "Experiment")] = [
    no_status("Progressing", "Waiting for experiment to finish: status has not been reconciled."),
    {"field": "status.phase", "equals": "Successful", "health": "Healthy", "message": "Experiment is successful"},
    {"field": "status.phase", "equals": "Failed", "health": "Degraded", "message": "Experiment has failed"},
    {"field": "status.phase", "equals": "Error", "health": "Degraded", "message": "Experiment had an error"},
    {"field": "status.phase", "equals": "Running", "health": "Progressing", "message": "Experiment is running"},
    {"field": "status.phase", "equals": "Pending", "health": "Progressing", "message": "Experiment is pending"},
    default("Progressing", "Experiment is running"),
]

RULES[("argoproj.io", "CronWorkflow")] = [
    cond("SpecError", "True", "Degraded"),
    cond("SubmissionError", "True", "Degraded"),
    cond("Completed", "True", "Healthy"),
    default("Healthy", "CronWorkflow is healthy."),
]

RULES[("argoproj.io", "ApplicationSet")] = [
    no_status("Progressing", "Waiting for the status to be reported"),
    cond("ErrorOccurred", "True", "Degraded"),
    cond("ResourcesUpToDate", "False", "Degraded"),
    cond("RolloutProgressing", "True", "Progressing"),
    cond("ResourcesUpToDate", "True", "Healthy"),
    default("Progressing", "Waiting for the status to be reported"),
]

RULES[("spot.io", "SpotDeployment")] = [argo_rollout]

def numaflow(obj: KubeObject) -> HealthResult | None:
    labels = mapping(obj, "metadata.labels")
    if labels.get("numaplane.numaproj.io/progressive-result-state") == "failed":
        return HealthResult(Health.DEGRADED, "Failed progressive upgrade")
    if get(obj, "status.phase") == "Paused":
        return None
    for c in conditions(obj):
        if text(c.get("type")).endswith("Healthy") and condition_status(c) == "False":
            return HealthResult(Health.DEGRADED, "Subresources are unhealthy")
    return None

for _k in ("InterStepBufferService", "MonoVertex", "Pipeline", "Vertex"):
    RULES[("numaflow.numaproj.io", _k)] = [numaflow, conventional]

RULES[("metrics.keptn.sh", "Analysis")] = [
    {"field": "status.pass", "equals": "true", "health": "Healthy", "message": "Analysis is healthy"},
    {"field": "status.warning", "equals": "true", "health": "Healthy", "message": "Analysis is healthy with warnings"},
    {"field": "status.state", "equals": "Completed", "health": "Degraded", "message": "Analysis is degraded"},
    default("Progressing", "Analysis is progressing"),
]

def flagger_canary(obj: KubeObject) -> HealthResult:
    """Flagger Canary: the phase, the traffic weight while analysing, and the Promoted condition's words."""
    verdict = conventional(obj)
    phase = text(get(obj, "status.phase"))
    promoted = condition(obj, "Promoted")
    if not phase or promoted is None:
        return verdict
    weight = f"Canary Weight: {text(get(obj, 'status.canaryWeight'))} % --- " if phase == "Progressing" else ""
    return HealthResult(verdict.status, f"{phase} --- {weight}{text(promoted.get('message'))}")

RULES[("flagger.app", "Canary")] = [flagger_canary]


def tekton_run(obj: KubeObject) -> HealthResult:
    """Tekton's runs (``PipelineRun``, ``TaskRun``, ``CustomRun`` and runs added later) report one
    ``Succeeded`` condition: True when done, False when failed or cancelled, Unknown while running.
    Tekton docs, "PipelineRuns: Monitoring execution status"."""
    succeeded = next((c for c in conditions(obj) if c.get("type") == "Succeeded"), None)
    kind = text(obj.get("kind"))
    if succeeded is None:
        pending = get(obj, "spec.status") in ("PipelineRunPending", "TaskRunPending")
        return HealthResult(Health.SUSPENDED if pending else Health.PROGRESSING, f"{kind} is pending" if pending else f"Waiting for {kind} to start")
    message = text(succeeded.get("message")) or text(succeeded.get("reason"))
    if succeeded.get("status") == "True":
        return HealthResult(Health.HEALTHY, message)
    if succeeded.get("status") == "False":
        cancelled = "cancel" in text(succeeded.get("reason")).lower()
        return HealthResult(Health.SUSPENDED if cancelled else Health.DEGRADED, message)
    return HealthResult(Health.PROGRESSING, message)


WILDCARDS.append(("tekton.dev", "*Run", [tekton_run]))
