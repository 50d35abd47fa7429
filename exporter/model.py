"""Data that flows between the stages of the agent.

Every stage (git, render, kube, diff, health, status, metrics, notify, windows, server) takes and
returns these plain dataclasses, so a stage can be read, tested and replaced without the others.
Kubernetes objects themselves stay plain ``dict``s as the API server sent them: at fleet scale
deserialising them into model classes costs more CPU and memory than the whole comparison.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

KubeObject = dict[str, Any]

#: Annotations that make an object a hook: created by its tool around a sync or a test, never part
#: of the app's health and never extraneous.
HOOK_ANNOTATIONS: tuple[str, ...] = ("helm.sh/hook", "argocd.argoproj.io/hook")


class Health(enum.StrEnum):
    """Per-object and per-app health, with Argo CD's names."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    SUSPENDED = "Suspended"
    MISSING = "Missing"
    UNKNOWN = "Unknown"


#: Argo CD's order for aggregating health: an app takes the worst of its objects.
HEALTH_ORDER: dict[Health, int] = {
    Health.HEALTHY: 0,
    Health.SUSPENDED: 1,
    Health.PROGRESSING: 2,
    Health.MISSING: 3,
    Health.DEGRADED: 4,
    Health.UNKNOWN: 5,
}


class Sync(enum.StrEnum):
    """Per-object and per-app sync status, with Argo CD's names."""

    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class AppState(enum.StrEnum):
    """The combined status: one word that answers "is this app as Git says, and healthy?"."""

    UNKNOWN = "Unknown"
    DEGRADED = "Degraded"
    MISSING = "Missing"
    OUT_OF_SYNC = "OutOfSync"
    PROGRESSING = "Progressing"
    SUSPENDED = "Suspended"
    HEALTHY = "Healthy"


#: Worst first. The combined state is the first of these that applies.
STATE_PRECEDENCE: tuple[AppState, ...] = (
    AppState.UNKNOWN,
    AppState.DEGRADED,
    AppState.MISSING,
    AppState.OUT_OF_SYNC,
    AppState.PROGRESSING,
    AppState.SUSPENDED,
    AppState.HEALTHY,
)


@dataclass(frozen=True, slots=True)
class HealthResult:
    """What a health check says about one object."""

    status: Health
    message: str = ""
    #: Which check gave the verdict: "specific" (a built-in check for this kind), "family" (a rule
    #: for every kind of an operator's group), "fallback" (the generic condition reader) or "user".
    #: Not part of equality: two checks that agree give the same verdict.
    source: str = field(default="", compare=False)
    #: A short code for why, beside the message, as kstatus has (``tooFewReady``,
    #: ``progressDeadlineExceeded``, a condition's own reason such as ``CrashLoopBackOff``): what a
    #: dashboard groups by and a rule matches on. Empty where the check names no cause.
    reason: str = field(default="", compare=False)


@dataclass(frozen=True, order=True, slots=True)
class ObjectKey:
    """Identity of an object across Git and the cluster: group (not version), kind, namespace, name.

    The version is left out on purpose: Git may say ``autoscaling/v2`` while the cache holds the
    object read as ``autoscaling/v1``; it is still the same object. ``namespace`` is ``""`` for
    cluster-scoped objects.
    """

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: KubeObject, default_namespace: str = "") -> ObjectKey:
        api_version = str(obj.get("apiVersion") or "")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        return cls(group, str(obj.get("kind") or ""), str(meta.get("namespace") or default_namespace),
                   str(meta.get("name") or ""))

    def __str__(self) -> str:
        gk = f"{self.group}/{self.kind}" if self.group else self.kind
        return f"{gk} {self.namespace}/{self.name}" if self.namespace else f"{gk} {self.name}"


REDACTED = "<redacted>"
#: A top-level key a render sets on an object whose fields must not be compared (its value says
#: why, e.g. it holds a value substituted from a Secret); never part of what is applied.
NOT_COMPARED_KEY = "x-gitops-drift-exporter-not-compared"


@dataclass(slots=True)
class FieldDiff:
    """One differing field. ``path`` is a JSON pointer (``/spec/template/spec/containers/0/image``).

    For Secret data the values are ``REDACTED`` and ``changed`` still tells whether they differ.
    ``ignored_by`` names the ignore rule that hid this difference (then it does not count as drift).
    ``reason`` says why a field Git does not set still counts (e.g. ``"added live by kubectl-edit"``).
    """

    path: str
    desired: Any
    live: Any
    ignored_by: str | None = None
    reason: str = ""
    #: ``"git"``: live is what the deployer last applied and Git has moved on (not deployed yet);
    #: ``"live"``: live was changed after the last apply (``reason`` names who changed it); ``""``
    #: where no record tells.
    direction: str = ""


@dataclass(slots=True)
class ObjectDiff:
    """The comparison of one desired object with its live counterpart.

    ``desired_view`` and ``live_view`` are the two normalised, redacted documents a human diff is
    drawn from; they contain only the fields that take part in the comparison.
    """

    sync: Sync
    differences: list[FieldDiff] = field(default_factory=list)
    ignored: list[FieldDiff] = field(default_factory=list)
    desired_view: KubeObject | None = None
    live_view: KubeObject | None = None


@dataclass(slots=True)
class ObjectStatus:
    """Everything the agent knows about one object of an app."""

    key: ObjectKey
    api_version: str
    exists: bool
    sync: Sync
    health: HealthResult | None
    diff: ObjectDiff | None = None
    requires_pruning: bool = False
    #: True for objects that do not count towards app health (hooks, children with ownerReferences).
    health_excluded: bool = False
    #: Why the object's fields were not compared, when they were not (a Secret SOPS-encrypted in
    #: Git, an object its deployer only creates when absent); "" when they were.
    not_compared: str = ""
    #: Why its deployer leaves an object that requires pruning in place (Flux's ``prune:
    #: disabled``), which the reason says instead of the deployer's own setting; "" otherwise.
    kept: str = ""


@dataclass
class DeployerState:
    """What the object that deploys an app (a Flux Kustomization) says of itself. Its word counts
    in the app's verdict: a deployer that is suspended will not undo drift, one that fails has not
    applied Git, and one behind its source has not applied the newest revision yet."""

    #: "Flux Kustomization NAMESPACE/NAME", as reasons name it.
    what: str
    #: The revision it last applied, and the revision its source has ready ("main@sha1:...").
    applied_revision: str = ""
    source_revision: str = ""
    suspended: bool = False
    #: Its reason and message when it failed (``Ready=False``, ``Stalled=True``); None otherwise.
    failed: str | None = None
    #: Its message while it reconciles (``Ready=Unknown``); None otherwise.
    reconciling: str | None = None
    #: Whether it deletes what it applied and Git no longer has (a Kustomization's ``prune``);
    #: None when it does not say.
    prunes: bool | None = None

    @property
    def behind(self) -> bool:
        return bool(self.source_revision) and self.applied_revision != self.source_revision


class Blind(str):
    """An evaluation error saying the agent could not see (a cluster, a repository or a registry
    it cannot read, a watch gone stale), not that the app is wrong. ``check`` exits 2 ("could not
    run") for it and 1 for a bad app, so a CI gate tells a broken pipeline from a bad deploy."""

    __slots__ = ()


@dataclass(frozen=True)
class Commit:
    """The commit an app's revision names, as people know it: what it says and who wrote it."""

    sha: str
    subject: str
    author: str
    #: Unix time of the commit (the committer's date).
    committed_at: float = 0.0


@dataclass
class AppStatus:
    """The verdict for one app at one evaluation."""

    name: str
    state: AppState
    sync: Sync
    health: Health
    reason: str
    revision: str | None = None
    target_revision: str = ""
    objects: list[ObjectStatus] = field(default_factory=list)
    #: Unix time the combined state last changed.
    since: float = 0.0
    #: Unix time the app left the good set; None while good.
    bad_since: float | None = None
    evaluated_at: float = 0.0
    #: Set when the app could not be evaluated (state Unknown): git, render, cluster or RBAC errors.
    error: str | None = None
    #: The error is the agent's blindness (:class:`Blind`), not the app's fault.
    blind: bool = False
    frozen: bool = False
    #: (from, to, count) of the app's state changes so far (``gitops_app_state_changes_total``).
    state_changes: tuple[tuple[str, str, int], ...] = ()
    #: What the object that deploys the app says of itself (apps read from Flux); None otherwise.
    deployer: DeployerState | None = None
    #: The commit ``revision`` names, for an app of one Git source; None until it is read.
    commit: Commit | None = None
