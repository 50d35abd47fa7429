"""The configuration, as typed data. ``exporter.config`` reads YAML into these.

YAML keys are camelCase (as in Argo CD, so blocks paste in); fields here are their snake_case twins.
Durations in YAML are strings like ``90s``, ``10m``, ``4h``, ``1d`` (or plain seconds) and are
stored here as float seconds. Secrets (Git tokens, Slack tokens, webhook URLs) are never values in
the config: only the *names* of files or environment variables that hold them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SourceType = Literal["directory", "kustomize", "helm"]
ChannelType = Literal["slack", "apprise"]
WindowKind = Literal["allow", "deny"]


@dataclass
class ClusterConfig:
    """``clusters[]``: where live objects are read from. Only read verbs are ever used."""

    name: str
    kubeconfig: str | None = None  # path; None with in_cluster=False means $KUBECONFIG / ~/.kube/config
    context: str | None = None
    in_cluster: bool = False


@dataclass
class RepoCredentials:
    """``repositories[]``: credentials for a Git URL prefix. Values come from files or env only."""

    url: str  # prefix match against an app's repoURL
    username: str | None = None
    token_file: str | None = None
    token_env: str | None = None
    ssh_key_file: str | None = None
    known_hosts_file: str | None = None
    #: Chart repositories and OCI registries: talk plain HTTP (a registry on loopback), or skip
    #: TLS verification.
    plain_http: bool = False
    insecure_skip_tls_verify: bool = False
    #: Credentials read from a Flux source's ``secretRef`` (``appSources[].flux.readSourceSecrets``):
    #: the secret itself, held in memory only, and the Secret it came from.
    token: str | None = field(default=None, repr=False)
    secret: str = ""


@dataclass
class DirectoryOptions:
    recurse: bool = False
    include: str | None = None  # glob, or "{a.yaml,b.yaml}"
    exclude: str | None = None


@dataclass
class HelmOptions:
    release_name: str | None = None  # default: the app name
    value_files: list[str] = field(default_factory=list)  # relative to source.path
    #: Inline (``values`` as mapping or YAML string). Not shown in ``repr``: values often hold secrets.
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    skip_crds: bool = False
    #: Where Helm keeps the release's record when not in the release's namespace (a HelmRelease's
    #: ``storageNamespace``, by default the HelmRelease's own namespace).
    storage_namespace: str | None = None


@dataclass
class ArtifactOptions:
    """An OCI artifact source (a Flux ``OCIRepository``): ``repo_url`` is ``oci://host/path`` and
    ``target_revision`` a tag, a semver range or a ``sha256:`` digest."""

    #: The layer to unpack (``spec.layerSelector.mediaType``); empty takes the first layer.
    media_type: str = ""
    #: ``target_revision`` is a semver range (``ref.semver``) picking the newest matching tag,
    #: not a tag: Flux says which, and a tag such as ``v1`` also reads as a range.
    semver: bool = False
    #: A regular expression tags must match before the range picks one (``ref.semverFilter``).
    semver_filter: str = ""
    #: Talk plain HTTP to the registry (``spec.insecure``), as ``repositories[].plainHttp`` does.
    plain_http: bool = False


@dataclass
class FluxBuild:
    """What a Flux ``Kustomization`` adds to ``kustomize build`` of its path (or a ``HelmRelease``
    to Helm's render, as post-renderers), in Flux's order:
    ``targetNamespace``, ``namePrefix``/``nameSuffix``, ``patches``, ``components`` and ``images``
    go into the path's kustomization, ``commonMetadata`` onto every object built (Flux's owner
    labels are apply-time marks, like Argo CD's tracking label)."""

    target_namespace: str | None = None
    name_prefix: str | None = None
    name_suffix: str | None = None
    patches: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    ignore_missing_components: bool = False
    common_labels: dict[str, str] = field(default_factory=dict)
    common_annotations: dict[str, str] = field(default_factory=dict)
    #: ``buildMetadata``: what kustomize records on the objects it builds (``originAnnotations``, ...).
    build_metadata: list[str] = field(default_factory=list)
    #: ``postBuild``: substitute ``${var}`` in what is built (with ``variables``, or always).
    substitution: bool = False
    substitute_always: bool = False
    #: The variables, in Flux's precedence (``substituteFrom`` in order, then ``substitute``). Some
    #: come from Secrets, so they are never shown (``repr``) ...
    variables: dict[str, str] = field(default_factory=dict, repr=False)
    #: ... and these names are the ones whose value did: an object built with one is not compared.
    secret_variables: list[str] = field(default_factory=list)
    #: Labels set on every object after the rest (helm-controller's origin labels, which its
    #: release manifest holds); Kustomizations' owner labels are apply-time marks instead.
    owner_labels: dict[str, str] = field(default_factory=dict)
    #: Values a HelmRelease took from Secrets: an object other than a Secret that holds one is
    #: not compared. Never shown.
    secret_values: list[str] = field(default_factory=list, repr=False)


@dataclass
class SourceConfig:
    repo_url: str  # https://, ssh://, git@, file:// or a local path
    target_revision: str = "HEAD"  # branch, tag or commit SHA
    path: str = "."
    type: SourceType = "directory"
    directory: DirectoryOptions = field(default_factory=DirectoryOptions)
    helm: HelmOptions = field(default_factory=HelmOptions)
    #: A chart in a Helm repository (``repo_url`` http(s)://) or an OCI registry (``oci://``);
    #: ``target_revision`` is then a chart version or a semver range, and ``path`` is unused.
    chart: str | None = None
    #: The name other sources of the app use for this one's checkout (``$ref/path`` value files).
    ref: str | None = None
    #: ``kustomize build`` options for this source; None takes the config's ``kustomize.buildOptions``.
    kustomize_build_options: list[str] | None = None
    #: Built as Flux's kustomize-controller builds a Kustomization (a ``kustomization.yaml``
    #: generated where the path has none, the Kustomization's overlay fields, its owner labels).
    flux: FluxBuild | None = None
    #: Set for an OCI artifact (Flux's ``OCIRepository``) rather than a Git repository or a chart.
    artifact: ArtifactOptions | None = None

    @property
    def from_git(self) -> bool:
        """Whether the source is a Git repository (not a chart, not an OCI artifact)."""
        return self.chart is None and self.artifact is None

    @property
    def renders(self) -> bool:
        """Whether the source contributes objects: a ``ref`` source with no path only lends files."""
        return self.chart is not None or self.ref is None or self.path not in ("", ".")


@dataclass
class Destination:
    cluster: str  # a ClusterConfig.name
    namespace: str = ""  # default namespace for namespaced objects without one


@dataclass
class IgnoreRule:
    """One entry of Argo CD's ``ignoreDifferences`` schema. Matching fields are globs."""

    group: str = "*"
    kind: str = "*"
    name: str = "*"
    namespace: str = "*"
    json_pointers: list[str] = field(default_factory=list)
    jq_path_expressions: list[str] = field(default_factory=list)
    managed_fields_managers: list[str] = field(default_factory=list)
    #: Where it came from, for explanations: e.g. "config.yaml:40" or "default:status".
    origin: str = ""


@dataclass
class CompareOptions:
    """``compare`` under ``defaults`` (global) or an app. Defaults are the shipped behaviour."""

    ignore_differences: list[IgnoreRule] = field(default_factory=list)
    #: Turn off the shipped default ignore rules (status, generation, last-applied, HPA replicas ...).
    default_ignores: bool = True
    #: Field managers whose live additions (fields Git does not set) count as drift.
    human_managers: list[str] = field(default_factory=lambda: [
        "kubectl-edit", "kubectl-patch", "kubectl-set", "kubectl-label", "kubectl-annotate",
        "kubectl-scale", "kubectl",  # kubectl 1.24 records `kubectl scale` as manager "kubectl"
    ])
    #: Field managers that deploy from Git, beside the ones found from evidence (any server-side
    #: apply manager owning fields Git sets, client-side apply, Helm, Argo CD): what they own and
    #: Git no longer sets is drift ("not deployed yet").
    apply_managers: list[str] = field(default_factory=list)
    #: Label that marks an object as belonging to an app (Argo CD's default) ...
    tracking_label: str = "app.kubernetes.io/instance"
    #: ... and the annotation Argo CD's annotation tracking writes ("" reads no annotation).
    tracking_annotation: str = "argocd.argoproj.io/tracking-id"
    #: A second label holding the namespace of the object that deployed it (Flux marks objects
    #: with ``<group>/name`` and ``<group>/namespace``); when set, an object belongs to the app
    #: named ``<namespace>/<name>`` of the two labels.
    tracking_namespace_label: str = ""


@dataclass
class HealthCheckConfig:
    """``healthChecks[]``: a user's own health check for a group/kind. Wins over built-ins.

    Exactly one of ``lua`` (Argo CD's ``health.lua`` contract), ``cel`` (a list of
    ``{when: <CEL expression>, status: ..., message: ...}`` evaluated in order) or ``rules``
    (the declarative form the built-in CRD rules use) is set.
    """

    group: str
    kind: str
    lua: str | None = None
    cel: list[dict[str, Any]] | None = None
    rules: dict[str, Any] | None = None
    origin: str = ""


@dataclass
class NotifyPolicy:
    """``notifications`` under ``defaults`` or an app: when an app is bad long enough to tell people."""

    bad_states: list[str] = field(default_factory=lambda: [
        "Unknown", "Degraded", "Missing", "OutOfSync", "Progressing"])
    threshold: float = 600.0
    #: Per-state thresholds override ``threshold``: {"Degraded": 300, "Progressing": 1200}.
    state_thresholds: dict[str, float] = field(default_factory=dict)
    repeat: float = 4 * 3600.0
    channels: list[str] = field(default_factory=list)  # explicit channels; else routes decide


@dataclass
class ChannelConfig:
    """``notifications.channels[]``. Secrets by file or env name only.

    type ``slack``: ``webhook_url_file``/``webhook_url_env`` (incoming webhook) or
    ``token_file``/``token_env`` with ``channel`` (bot token, chat.postMessage, threads resolved
    under firing). type ``apprise``: ``url_file``/``url_env`` holding an apprise URL, e.g.
    ``workflows://...`` for Teams Workflows. ``base_url`` points Slack at another API host (tests).
    """

    name: str
    type: ChannelType
    channel: str | None = None
    webhook_url_file: str | None = None
    webhook_url_env: str | None = None
    token_file: str | None = None
    token_env: str | None = None
    url_file: str | None = None
    url_env: str | None = None
    base_url: str | None = None
    #: Seconds to wait for the service's answer (Slack 15, apprise 60 when unset). A request that
    #: times out may still have been delivered, so it is tried at most once more, after a long pause.
    timeout: float | None = None


@dataclass
class RouteConfig:
    """``notifications.routes[]``: apps matching all given globs go to ``channels``."""

    channels: list[str]
    apps: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class NotificationsConfig:
    channels: list[ChannelConfig] = field(default_factory=list)
    routes: list[RouteConfig] = field(default_factory=list)
    #: Channel that gets freeze violations immediately.
    freeze_channel: str | None = None
    #: File that keeps what fired (survives restarts); None keeps it in memory.
    state_path: str | None = None
    #: URL templates with {app}, {project}, {cluster}, {revision}, {repo}.
    links: dict[str, str] = field(default_factory=dict)
    #: Mute alerts for apps inside an active allow window marked ``maintenance: true``.
    mute_in_maintenance: bool = False


@dataclass
class SyncWindowConfig:
    """``windows[]`` in Argo CD's form, plus cluster and label selectors."""

    kind: WindowKind
    schedule: str  # cron, five fields
    duration: float  # seconds
    name: str = ""
    time_zone: str = "UTC"
    applications: list[str] = field(default_factory=list)  # globs
    namespaces: list[str] = field(default_factory=list)
    clusters: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    maintenance: bool = False
    #: When set, the window only covers apps of these projects (an Argo CD AppProject's windows).
    projects: list[str] = field(default_factory=list)


@dataclass
class ArgoCDAppSource:
    """``appSources[]``: Argo CD ``Application`` objects read (never written) from a cluster."""

    cluster: str  #: the configured cluster where Argo CD keeps its Applications
    namespace: str = "argocd"
    label_selector: str = ""
    #: Argo CD destination (server URL or cluster name) -> configured cluster name.
    destinations: dict[str, str] = field(default_factory=dict)
    origin: str = ""


@dataclass
class FluxAppSource:
    """``appSources[].flux``: Flux ``Kustomization`` objects (and the sources they build from)
    read (never written) from a cluster; each one is an app named ``NAMESPACE/NAME``."""

    cluster: str  #: the configured cluster where Flux runs and keeps its objects
    namespace: str = ""  #: "" reads every namespace
    label_selector: str = ""
    #: ``NAMESPACE/NAME`` of a Kustomization or HelmRelease -> the name its app goes by.
    names: dict[str, str] = field(default_factory=dict)
    #: Read the Secret each source's ``spec.secretRef`` names for that source's credentials (an
    #: opt-in: it needs ``get``/``list``/``watch`` on Secrets in the sources' namespaces).
    read_source_secrets: bool = False
    origin: str = ""


AppSource = ArgoCDAppSource | FluxAppSource


@dataclass(frozen=True)
class DeployerRef:
    """The object that deploys an app (a Flux Kustomization) and the source it builds from: their
    own state (suspended, failing, behind its source) counts in the app's verdict."""

    group: str
    kind: str
    namespace: str
    name: str
    source_group: str = ""
    source_kind: str = ""
    source_namespace: str = ""
    source_name: str = ""
    #: (kind, namespace, name) of the ConfigMaps and Secrets it reads variables from: a change of
    #: one changes what it builds.
    inputs: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class ArgoCDOrigin:
    """Where an app read from an Argo CD Application came from, as Argo CD's own metrics name it:
    the Application's namespace, its ``destination.server`` and whether it syncs automatically."""

    namespace: str
    server: str = ""
    autosync: bool = False


@dataclass
class AppConfig:
    """``apps[]`` (or one app made by a generator)."""

    name: str
    source: SourceConfig
    destination: Destination
    project: str = "default"
    labels: dict[str, str] = field(default_factory=dict)
    compare: CompareOptions = field(default_factory=CompareOptions)
    notifications: NotifyPolicy = field(default_factory=NotifyPolicy)
    #: "file:line" of the app's entry, for messages.
    origin: str = ""
    #: Further sources of a multi-source app (Argo CD's ``sources:``); ``source`` is the first.
    more_sources: list[SourceConfig] = field(default_factory=list)
    #: Why the app cannot be evaluated as defined (an Argo CD Application the agent cannot
    #: render); it stays Unknown with this reason.
    invalid: str | None = None
    #: The object that deploys the app, when it is read from one (a Flux Kustomization).
    deployer: DeployerRef | None = None
    #: What the app's objects are marked with, when not its name (a Flux app given another name
    #: keeps ``NAMESPACE/NAME`` in its objects' labels).
    mark: str | None = None
    #: The Application the app was read from (``appSources[].argocd``).
    argocd: ArgoCDOrigin | None = None

    @property
    def sources(self) -> list[SourceConfig]:
        """Every source of the app, the first one first."""
        return [self.source, *self.more_sources]


@dataclass
class GitDirectoryGenerator:
    """``appGenerators[].git``: one app per directory matching a glob, like Argo CD's ApplicationSet
    Git directory generator. ``template`` is an app mapping whose strings may use ``{{path}}``,
    ``{{path.basename}}``, ``{{path[N]}}`` and ``{{path.basenameNormalized}}``."""

    repo_url: str
    revision: str
    directories: list[str]  # globs
    exclude: list[str] = field(default_factory=list)
    template: dict[str, Any] = field(default_factory=dict)
    origin: str = ""


@dataclass
class Config:
    path: str
    clusters: list[ClusterConfig] = field(default_factory=list)
    repositories: list[RepoCredentials] = field(default_factory=list)
    apps: list[AppConfig] = field(default_factory=list)
    generators: list[GitDirectoryGenerator] = field(default_factory=list)
    health_checks: list[HealthCheckConfig] = field(default_factory=list)
    windows: list[SyncWindowConfig] = field(default_factory=list)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    #: Seconds between full evaluations (the fallback; events drive evaluation).
    interval: float = 60.0
    git_poll_interval: float = 180.0
    git_timeout: float = 60.0
    render_timeout: float = 60.0
    app_sources: list[AppSource] = field(default_factory=list)
    #: Where each app's clocks and state history are kept across restarts; default: in cacheDir.
    state_file: str | None = None
    #: ``kustomize.buildOptions``: options for every kustomize source that sets none of its own.
    kustomize_build_options: list[str] = field(default_factory=list)
    #: How long a cluster watch may fail (or stay silent) before its apps are Unknown.
    stale_after: float = 30.0
    #: Where Git clones and rendered trees are cached.
    cache_dir: str | None = None
    webhook_secret_env: str | None = None
    webhook_secret_file: str | None = None
    #: Largest webhook body read, in bytes (pushes are a few KiB; GitHub's own cap is 25 MB).
    webhook_max_body: int = 5 * 1024 * 1024
    #: Webhook requests read at the same time; more get 429.
    webhook_max_concurrent: int = 4
    #: JSON-lines file where freeze violations are kept for ``report freeze`` (``freezeLog``).
    freeze_log: str | None = None
    #: ``metrics.argocdAppInfo``: also export ``argocd_app_info`` with Argo CD's labels.
    argocd_metrics: bool = False
    #: ``metrics.argocdNamespace``: its ``namespace`` label for apps not read from an Application.
    argocd_namespace: str = "argocd"
