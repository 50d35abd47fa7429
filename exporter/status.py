"""From per-object verdicts to one app status.

Pure functions: the precedence of the seven states, Argo CD's two raw dimensions, a reason a human
can act on, and the since/bad-since clocks. Kept apart from the agent so the rules that decide what
people get paged for can be read (and tested) in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exporter.config_types import NotifyPolicy
from exporter.diff import unified_diff
from exporter.model import HEALTH_ORDER, AppState, AppStatus, DeployerState, Health, ObjectStatus, Sync

#: States that are not an incident unless an app's policy says otherwise.
DEFAULT_GOOD_STATES: frozenset[AppState] = frozenset({AppState.HEALTHY, AppState.SUSPENDED})


def is_bad(state: AppState | str, policy: NotifyPolicy) -> bool:
    """Whether an app in ``state`` is bad under its notification policy: the one rule alerts, the
    incident clock and ``check``'s exit code all follow."""
    return str(state) in policy.bad_states


def good_states(policy: NotifyPolicy) -> frozenset[AppState]:
    """The states that end an incident under ``policy`` (Healthy and Suspended if it names every
    state bad, so an incident can always end)."""
    good = frozenset(s for s in AppState if not is_bad(s, policy))
    return good or DEFAULT_GOOD_STATES

_HEALTH_TO_STATE = {
    Health.UNKNOWN: AppState.UNKNOWN,
    Health.DEGRADED: AppState.DEGRADED,
    Health.PROGRESSING: AppState.PROGRESSING,
    Health.SUSPENDED: AppState.SUSPENDED,
}

#: How many objects a reason names before it says "and N more".
_REASON_OBJECTS = 3


@dataclass(frozen=True)
class Verdict:
    state: AppState
    sync: Sync
    health: Health
    reason: str


def _counts_for_health(obj: ObjectStatus) -> bool:
    return obj.exists and not obj.health_excluded and obj.health is not None


def app_health(objects: Sequence[ObjectStatus]) -> Health:
    """Argo CD's app health: the worst health of the app's own objects.

    As in Argo CD 3.4+, the app is Missing only when none of its objects exist; an absent object
    among present ones does not make the *health* Missing (the combined state still says Missing,
    and the sync status says OutOfSync).
    """
    desired = [o for o in objects if not o.requires_pruning]
    if desired and not any(o.exists for o in desired):
        return Health.MISSING
    worst = Health.HEALTHY
    for obj in desired:
        if _counts_for_health(obj):
            assert obj.health is not None
            if HEALTH_ORDER[obj.health.status] > HEALTH_ORDER[worst]:
                worst = obj.health.status
    return worst


def app_sync(objects: Sequence[ObjectStatus]) -> Sync:
    """Argo CD's sync status: OutOfSync when anything is absent, differs or requires pruning."""
    for obj in objects:
        if obj.requires_pruning or not obj.exists or obj.sync is Sync.OUT_OF_SYNC:
            return Sync.OUT_OF_SYNC
    if any(obj.sync is Sync.UNKNOWN for obj in objects):
        return Sync.UNKNOWN
    return Sync.SYNCED


def _names(objs: Sequence[ObjectStatus]) -> str:
    shown = ", ".join(str(o.key) for o in objs[:_REASON_OBJECTS])
    more = len(objs) - _REASON_OBJECTS
    return f"{shown} and {more} more" if more > 0 else shown


def _with_message(objs: Sequence[ObjectStatus]) -> str:
    first = objs[0]
    message = first.health.message if first.health else ""
    text = f"{first.key}: {message}" if message else str(first.key)
    return text if len(objs) == 1 else f"{text} (and {len(objs) - 1} more)"


def _drift_reason(drifted: Sequence[ObjectStatus], deployer: DeployerState | None = None) -> str:
    prunes = "" if deployer is None or deployer.prunes is None else " (Flux prunes it)" if deployer.prunes \
        else " (Flux does not prune it: spec.prune is false)"
    parts = []
    for obj in drifted[:_REASON_OBJECTS]:
        if obj.requires_pruning:
            kept = f" (Flux does not prune it: {obj.kept})" if obj.kept else prunes
            parts.append(f"{obj.key} requires pruning{kept}")
            continue
        paths = [d.path for d in (obj.diff.differences if obj.diff else [])]
        if paths:
            fields = ", ".join(paths[:3]) + (f" +{len(paths) - 3}" if len(paths) > 3 else "")
            parts.append(f"{obj.key} differs at {fields}")
        else:
            parts.append(f"{obj.key} differs")
    more = len(drifted) - _REASON_OBJECTS
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def combine(objects: Sequence[ObjectStatus], error: str | None = None,
            deployer: DeployerState | None = None) -> Verdict:
    """The combined state, worst first: Unknown > Degraded > Missing > OutOfSync > Progressing >
    Suspended > Healthy; plus the two raw dimensions with Argo CD's rules and a reason.

    ``deployer`` is what the object that deploys the app (a Flux Kustomization) says of itself:
    failing is Degraded; suspended is Suspended above Missing and OutOfSync (nothing will undo the
    drift until someone resumes it, which is the point; the drift is still named); behind its
    source or reconciling is Progressing."""
    if error is not None:
        return Verdict(AppState.UNKNOWN, Sync.UNKNOWN, Health.UNKNOWN, error)
    health = app_health(objects)
    sync = app_sync(objects)
    desired = [o for o in objects if not o.requires_pruning]

    def with_health(h: Health) -> list[ObjectStatus]:
        return [o for o in desired if _counts_for_health(o) and o.health is not None and o.health.status is h]

    unknown = with_health(Health.UNKNOWN)
    if unknown:
        return Verdict(AppState.UNKNOWN, sync, health, "health unknown: " + _with_message(unknown))
    degraded = with_health(Health.DEGRADED)
    if degraded:
        return Verdict(AppState.DEGRADED, sync, health, _with_message(degraded))
    if deployer is not None and deployer.failed is not None:
        return Verdict(AppState.DEGRADED, sync, health, f"{deployer.what} failed: {deployer.failed}")
    missing = [o for o in desired if not o.exists]
    drifted = [o for o in objects if o.requires_pruning or o.sync is Sync.OUT_OF_SYNC]
    if deployer is not None and deployer.suspended:
        found = f"missing from the cluster: {_names(missing)}" if missing else \
            _drift_reason(drifted, deployer) if drifted else ""
        return Verdict(AppState.SUSPENDED, sync, health,
                       f"{deployer.what} is suspended" + (f"; {found}" if found else ""))
    behind = _behind(deployer)
    if missing:
        return Verdict(AppState.MISSING, sync, health, f"missing from the cluster: {_names(missing)}" + behind)
    if drifted:
        return Verdict(AppState.OUT_OF_SYNC, sync, health, _drift_reason(drifted, deployer) + behind)
    progressing = with_health(Health.PROGRESSING)
    if progressing:
        return Verdict(AppState.PROGRESSING, sync, health, _with_message(progressing))
    if deployer is not None and (deployer.reconciling is not None or behind):
        return Verdict(AppState.PROGRESSING, sync, health,
                       f"{deployer.what}: {deployer.reconciling}" if deployer.reconciling else behind.lstrip("; "))
    suspended = with_health(Health.SUSPENDED)
    if suspended:
        return Verdict(AppState.SUSPENDED, sync, health, _with_message(suspended))
    unjudged = [o for o in objects if o.sync is Sync.UNKNOWN and o.not_compared]
    return Verdict(AppState.HEALTHY, sync, health,
                   f"not compared: {_names(unjudged)} ({unjudged[0].not_compared})" if unjudged else "")


def _behind(deployer: DeployerState | None) -> str:
    """"; <what> has applied A, its source is at B" when the deployer is behind its source."""
    if deployer is None or not deployer.behind:
        return ""
    applied = deployer.applied_revision or "nothing yet"
    return f"; {deployer.what} has applied {applied}, its source is at {deployer.source_revision}"


def clocks(previous: AppStatus | None, state: AppState, now: float,
           good_states: Iterable[AppState] = DEFAULT_GOOD_STATES) -> tuple[float, float | None]:
    """``since`` (last change of the combined state) and ``bad_since`` (left the good set).

    Moving between bad states (Progressing -> Degraded) keeps ``bad_since``: it is one incident.
    """
    good = frozenset(good_states)
    if previous is None:
        return now, (None if state in good else now)
    since = previous.since if previous.state is state else now
    if state in good:
        return since, None
    bad_since = previous.bad_since if previous.bad_since is not None else now
    return since, bad_since


def app_diff(status: AppStatus) -> str:
    """The app's drift as one unified diff (``/api/v1/apps/NAME/diff``, ``diff``): each
    out-of-sync object's fields, then the objects Git declares that are absent, then the live
    objects that require pruning."""
    parts = [unified_diff(o.key, o.diff) for o in status.objects
             if o.diff is not None and o.diff.sync is Sync.OUT_OF_SYNC]
    parts += [f"--- {o.key} (absent from the cluster; Git declares it)\n" for o in status.objects if not o.exists]
    parts += [f"+++ {o.key} (requires pruning: live, tracked for this app, not in Git)\n"
              for o in status.objects if o.requires_pruning]
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts if p)
