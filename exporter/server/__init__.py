"""The agent's HTTP face: Prometheus metrics, the JSON API, badges, probes, webhooks, status page.

The server never evaluates anything itself. It reads the snapshot of app statuses the agent
published last, through the small :class:`StatusSource` protocol, so it can be served (and
tested) against any object that holds statuses; only a Git push webhook reaches back into the
agent, through :meth:`StatusSource.on_git_push`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from exporter.config_types import AppConfig
from exporter.history import Transition
from exporter.model import AppStatus
from exporter.server.app import build_app, serve
from exporter.urls import normalise_repo_url


class StatusSource(Protocol):
    """What the server needs from the agent."""

    def snapshot(self) -> Mapping[str, tuple[AppConfig, AppStatus]]:
        """Every app's config and last status, by app name. Cheap and never awaits: called per request."""
        ...

    def ready(self) -> bool:
        """True once every cluster cache has synced at least once and none has gone stale (``/readyz``)."""
        ...

    def not_ready_reason(self) -> str | None:
        """Why the source is not ready, in words for ``/readyz``; None when it is."""
        ...

    def freezes(self) -> list[dict[str, Any]]:
        """Freeze violations, as JSON-able dicts (``/api/v1/freezes``)."""
        ...

    def history_of(self, name: str) -> list[Transition]:
        """The app's state changes, oldest first (``/api/v1/apps/NAME/history``)."""
        ...

    async def on_git_push(self, repo_urls: list[str], branch: str | None) -> int:
        """A verified push webhook: refresh apps on any of ``repo_urls`` (every URL form the payload
        gives; compare with :func:`normalise_repo_url`) and ``branch`` (None: any branch).
        Returns how many apps will be refreshed."""
        ...


__all__ = ["StatusSource", "build_app", "normalise_repo_url", "serve"]
