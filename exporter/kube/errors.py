"""Errors from talking to a Kubernetes API server, typed by what the caller does about them.

The agent turns any of these into ``Unknown`` for the apps on that cluster, with the message as
the reason, so each message names the cluster and says what went wrong in words an operator can
act on; the API server's ``Status`` fields are kept for code that needs to branch.
"""

from __future__ import annotations

from typing import Any


class KubeError(Exception):
    """A request to a cluster failed. ``status`` is the HTTP code (None when no answer came back);
    ``reason`` and ``server_message`` come from the API server's ``Status`` body when it sent one."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "",
                 server_message: str = "", cluster: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.server_message = server_message
        self.cluster = cluster
        #: Seconds the server asked the client to wait (``Retry-After`` on 429 and 5xx answers).
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class Unreachable(KubeError):
    """No HTTP answer: connection refused, DNS, TLS or timeout."""


class Unauthorized(KubeError):
    """401: the credentials were not accepted."""


class Forbidden(KubeError):
    """403: RBAC does not allow this read."""


class NotFound(KubeError):
    """404: the object, or the resource type itself, does not exist on this cluster."""


class ResourceExpired(KubeError):
    """410: the requested resourceVersion was compacted away; the caller must list again."""


class WatchSilent(Unreachable):
    """A watch stream that sent nothing, not even a bookmark, for longer than the server may.
    ``silent_for`` says how long: the cache has not been known current for that long."""

    def __init__(self, message: str, *, silent_for: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.silent_for = silent_for


class ReadOnlyViolation(KubeError):
    """Something tried to send a write verb; the agent never writes to a cluster."""


_BY_STATUS: dict[int, type[KubeError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound,
                                           410: ResourceExpired}


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the API server sends whole seconds), or None."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def error_from_status(cluster: str, code: int, body: Any, what: str, verb: str) -> KubeError:
    """Build the typed error for an HTTP failure; ``body`` is the decoded Status (or anything else)."""
    status = body if isinstance(body, dict) and body.get("kind") == "Status" else {}
    reason = str(status.get("reason") or "")
    server_message = str(status.get("message") or "")
    cls = _BY_STATUS.get(code, KubeError)
    if code == 403:
        text = f"RBAC forbids {verb} on {what} in {cluster}"
    elif code == 401:
        text = (f"cluster {cluster} rejected the credentials (401 Unauthorized): "
                "check the token, client certificate or exec plugin in the kubeconfig")
    elif code == 404:
        text = f"{what} not found in {cluster}"
    elif code == 410:
        text = f"{verb} on {what} in {cluster}: resourceVersion expired"
    else:
        text = f"{verb} on {what} in {cluster} failed with HTTP {code}"
    if server_message and code != 401:
        text = f"{text}: {server_message}"
    return cls(text, status=code, reason=reason, server_message=server_message, cluster=cluster)
