"""The apps being evaluated: what is remembered about each between evaluations, and the status
each last published.

The server, the metrics and the notifier read the published side through :meth:`AppTable.snapshot`,
one immutable picture; the evaluation writes the runtime side. Both live here so that adding or
forgetting an app changes both at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from types import MappingProxyType

from exporter.config_types import AppConfig
from exporter.model import AppStatus
from exporter.pipeline.desired import AppRuntime

Published = tuple[AppConfig, AppStatus]


class AppTable:
    """Every app by name: its :class:`AppRuntime`, and its latest published status."""

    def __init__(self) -> None:
        self._runtimes: dict[str, AppRuntime] = {}
        self._latest: dict[str, Published] = {}
        self._snapshot: Mapping[str, Published] | None = None

    def __contains__(self, name: object) -> bool:
        return name in self._runtimes

    def __iter__(self) -> Iterator[str]:
        return iter(self._runtimes)

    def __len__(self) -> int:
        return len(self._runtimes)

    def get(self, name: str) -> AppRuntime | None:
        return self._runtimes.get(name)

    def __getitem__(self, name: str) -> AppRuntime:
        return self._runtimes[name]

    def runtimes(self) -> list[AppRuntime]:
        """A copy, so the caller may add or forget apps while it walks the list."""
        return list(self._runtimes.values())

    def reading(self, cluster: str, group: str, kind: str) -> list[str]:
        """The apps on ``cluster`` that declare objects of the kind ``group``/``kind``."""
        return [rt.config.name for rt in self._runtimes.values() if rt.config.destination.cluster == cluster
                and any(k.group == group and k.kind == kind for k in rt.desired_keys)]

    def freeze_changed(self, is_frozen: Callable[[AppRuntime], bool]) -> list[str]:
        """The apps whose status says frozen (or not) where ``is_frozen`` now says otherwise: a
        window opened or closed since they were evaluated."""
        return [rt.config.name for rt in self._runtimes.values()
                if rt.status is not None and rt.status.frozen != is_frozen(rt)]

    def redeclare_on(self, clusters: Collection[str]) -> list[str]:
        """The apps on ``clusters``, each set to declare its objects anew at its next evaluation: a
        cluster built by a reload knows nothing yet of what its apps declare, and without this an
        unchanged app's objects would route no events to it."""
        names = []
        for rt in self._runtimes.values():
            if rt.config.destination.cluster in clusters:
                rt.desired_keys = rt.declared_keys = frozenset()
                names.append(rt.config.name)
        return names

    def put(self, runtime: AppRuntime) -> None:
        self._runtimes[runtime.config.name] = runtime

    def forget(self, name: str) -> AppRuntime:
        """Drop the app and its published status (it no longer shows on dashboards)."""
        self._latest.pop(name, None)
        self._snapshot = None
        return self._runtimes.pop(name)

    def publish(self, entries: Iterable[Published]) -> None:
        """Make ``entries`` what the next :meth:`snapshot` shows."""
        for app, status in entries:
            self._latest[app.name] = (app, status)
        self._snapshot = None

    def publish_runtimes(self, runtimes: Iterable[AppRuntime]) -> None:
        self.publish((rt.config, rt.status) for rt in runtimes if rt.status is not None)

    def published(self, name: str) -> Published | None:
        return self._latest.get(name)

    def snapshot(self) -> Mapping[str, Published]:
        """One consistent, never-mutated picture of every app's status. Copied when read after a
        change, not on every change: a cold start publishes thousands of statuses, and copying
        the whole mapping each time would cost time quadratic in the number of apps."""
        if self._snapshot is None:
            self._snapshot = MappingProxyType(dict(self._latest))
        return self._snapshot
