"""Which apps a watch event concerns: the pure core of a cluster's event path.

Every event of every watched object (a quarter of a million at 10,000 apps) comes through
:func:`apply_event`. It keeps one cluster's indexes current (objects tracked by their mark, the
apps that declare each object, CRD schemas) and answers with the apps to evaluate again. It
does no I/O and reads no clock, so it is tested as a function of the event, the indexes and the
apps' tracking settings, without an event loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from exporter import diff as compare_mod
from exporter.config_types import AppConfig, CompareOptions
from exporter.model import KubeObject, ObjectKey

#: The kinds apps are read from (Argo CD's, Flux's and the sources Flux builds from): a change of
#: one is a change of the list of apps.
APP_SOURCE_KINDS = frozenset({("argoproj.io", "Application"), ("argoproj.io", "AppProject"),
                              ("kustomize.toolkit.fluxcd.io", "Kustomization"),
                              ("helm.toolkit.fluxcd.io", "HelmRelease"),
                              *(("source.toolkit.fluxcd.io", kind) for kind in (
                                  "GitRepository", "HelmRepository", "HelmChart", "OCIRepository"))})
CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")


def _tracking_of(options: CompareOptions) -> tuple[str, str, str]:
    return options.tracking_label, options.tracking_annotation, options.tracking_namespace_label


@dataclass(frozen=True)
class Tracking:
    """What the apps of the agent mark their objects with, worked out once when the apps change.

    Apps may use different labels or annotations, so each setting in use is tried, and a name
    counts only for the app whose settings it was read with.
    """

    #: The distinct settings in use (the defaults when there are no apps).
    settings: tuple[CompareOptions, ...] = (CompareOptions(),)
    #: Each app's own setting, by name.
    apps: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    #: Whether apps are read from Argo CD's or Flux's objects (their change re-lists the apps).
    from_sources: bool = False
    #: Objects apps are built from beside those kinds (the ConfigMaps and Secrets Flux takes
    #: variables from): their change re-lists the apps too.
    inputs: frozenset[ObjectKey] = frozenset()
    #: The app each mark that is not an app's own name stands for.
    marks: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, apps: Iterable[AppConfig], *, from_sources: bool = False) -> Tracking:
        settings: dict[tuple[str, str, str], CompareOptions] = {}
        own: dict[str, tuple[str, str, str]] = {}
        inputs: set[ObjectKey] = set()
        marks: dict[str, str] = {}
        for app in apps:
            settings.setdefault(_tracking_of(app.compare), app.compare)
            own[app.name] = _tracking_of(app.compare)
            if app.deployer is not None:
                inputs.update(ObjectKey("", kind, ns, name) for kind, ns, name in app.deployer.inputs)
            if app.mark is not None and app.mark != app.name:
                marks[app.mark] = app.name
        return cls(tuple(settings.values()) or (CompareOptions(),), own, from_sources, frozenset(inputs), marks)

    def marked_for(self, obj: KubeObject) -> str | None:
        """The app ``obj`` carries the mark of, or None."""
        first: str | None = None
        for options in self.settings:
            name = compare_mod.tracked_app(obj, options)
            if name is None:
                continue
            name = self.marks.get(name, name)
            if self.apps.get(name) == _tracking_of(options):
                return name
            first = first or name
        return first


@dataclass(eq=False)
class EventIndex:
    """One cluster's indexes, kept current by :func:`apply_event`."""

    #: Tracked objects by the app their mark names.
    tracked: dict[str, dict[ObjectKey, KubeObject]] = field(default_factory=lambda: defaultdict(dict))
    tracked_owner: dict[ObjectKey, str] = field(default_factory=dict)
    #: The apps that declare each object: tuples, as nearly every object has one app, and a set
    #: per object is some 50 MB more at a quarter of a million objects.
    declared_by: dict[ObjectKey, tuple[str, ...]] = field(default_factory=dict)
    #: Schema hints of custom resources, by (group, kind), from their CRDs.
    schemas: dict[tuple[str, str], Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Marks:
    """What an event asks of the agent: evaluate ``apps`` again, and list the apps again."""

    apps: tuple[str, ...] = ()
    apps_changed: bool = False

    def __bool__(self) -> bool:
        return bool(self.apps) or self.apps_changed


NOTHING = Marks()


def track(index: EventIndex, key: ObjectKey, obj: KubeObject | None, tracking: Tracking) -> str | None:
    """Keep the tracked-objects index current; the app the object is (or was) marked for."""
    previous = index.tracked_owner.get(key)
    owner = tracking.marked_for(obj) if obj is not None else None
    if previous is not None and previous != owner:
        index.tracked[previous].pop(key, None)
        del index.tracked_owner[key]
    if owner is not None and obj is not None:
        index.tracked[owner][key] = obj
        index.tracked_owner[key] = owner
    return owner or previous


def learn_schema(index: EventIndex, key: ObjectKey, obj: KubeObject | None) -> None:
    if obj is not None and (key.group, key.kind) == CRD:
        index.schemas.update(compare_mod.SchemaHints.from_crd(obj))


def apply_event(index: EventIndex, key: ObjectKey, obj: KubeObject | None, tracking: Tracking) -> Marks:
    """A watch event (``obj`` None: deleted): update ``index``; the apps that declare the object or
    whose mark it carries (now or before), among the apps ``tracking`` knows."""
    learn_schema(index, key, obj)
    tracked_by = track(index, key, obj, tracking)
    names = set(index.declared_by.get(key, ()))
    if tracked_by is not None:
        names.add(tracked_by)
    apps = tuple(sorted(n for n in names if n in tracking.apps))
    changed = tracking.from_sources and ((key.group, key.kind) in APP_SOURCE_KINDS or key in tracking.inputs)
    return Marks(apps, changed) if apps or changed else NOTHING


def index_listed(index: EventIndex, objects: Iterable[KubeObject], tracking: Tracking) -> None:
    """Objects of a type just listed (a new watch): indexed as their events would have been,
    without marking any app (the apps that read this type are being evaluated already)."""
    for obj in objects:
        key = ObjectKey.of(obj)
        learn_schema(index, key, obj)
        track(index, key, obj, tracking)


def declare(index: EventIndex, app: str, old: frozenset[ObjectKey], new: frozenset[ObjectKey]) -> None:
    """``app`` now declares the objects ``new`` (it declared ``old``)."""
    for key in old - new:
        rest = tuple(n for n in index.declared_by.get(key, ()) if n != app)
        if rest:
            index.declared_by[key] = rest
        else:
            index.declared_by.pop(key, None)
    for key in new - old:
        have = index.declared_by.get(key, ())
        if app not in have:
            index.declared_by[key] = (*have, app)


__all__ = ["EventIndex", "Marks", "Tracking", "apply_event", "declare", "index_listed", "track"]
