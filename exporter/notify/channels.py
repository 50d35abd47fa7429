"""Where messages go: Slack (incoming webhook or bot token) and anything apprise speaks (Teams).

Each channel turns a :class:`~exporter.notify.message.Message` into one HTTP request through the
service's own client library and reports the outcome as either success or a
:class:`DeliveryError` that says whether trying again can help (429, 5xx, connection errors) and
how long the service asked to wait (``Retry-After``). Retrying itself is the notifier's job: the
libraries' own retry handlers are switched off so that waits are bounded, counted and testable.

Secrets (webhook URLs, tokens, apprise URLs) are read from files or environment variables named in
the config, never from the config itself, and are scrubbed from every log line the libraries
write (:class:`RedactSecrets`) and from every error message raised here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.parse
from collections.abc import Iterable
from typing import Any, Protocol

import aiohttp
import apprise
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from exporter.config_types import ChannelConfig
from exporter.notify.message import Message, markdown, slack_blocks, slack_resolved_update, slack_text

#: Logger handed to slack-sdk so its debug lines pass through the redaction filter.
transport_log = logging.getLogger("exporter.notify.transport")

#: Events that post a message; "update" edits the firing message in place.
ThreadRef = dict[str, Any]


class NotifyError(Exception):
    """A notification problem a user must fix (bad channel config, unreachable service)."""


class DeliveryError(Exception):
    """One failed delivery attempt. ``transient`` failures may succeed when tried again."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None,
                 unknown: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        #: The request may have been delivered: it went out and no answer came back in time.
        #: Sending it again could post the same message twice.
        self.unknown = unknown


class RedactSecrets(logging.Filter):
    """Replaces every known secret (and its distinctive parts) in log records with ``<redacted>``.

    Library loggers print request URLs at debug level, and a Slack webhook URL or a Teams workflow
    signature *is* the credential, so the filter sits on those loggers rather than trusting levels.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: str) -> None:
        self._secrets.update(secret_fragments(secret))

    def scrub(self, text: str) -> str:
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, "<redacted>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            try:
                message = record.getMessage()
            except Exception:  # a broken format string is the library's problem; keep the raw text
                message = str(record.msg)
            record.msg, record.args = self.scrub(message), ()
        return True


def secret_fragments(secret: str) -> Iterable[str]:
    """The secret and the parts of it that identify it on their own (URL path segments, query values)."""
    yield secret
    try:
        parts = urllib.parse.urlsplit(secret)
    except ValueError:
        return
    if parts.scheme:
        for seg in parts.path.split("/"):
            if len(seg) >= 8:
                yield seg
        for _, value in urllib.parse.parse_qsl(parts.query):
            if len(value) >= 8:
                yield value
        if parts.password:
            yield parts.password
        # apprise writes short-form URLs with the token where the host would be
        if parts.hostname and len(parts.hostname) >= 16 and "." not in parts.hostname:
            yield parts.hostname


REDACTOR = RedactSecrets()
# apprise and urllib3 (under apprise's requests) log request URLs, which hold webhook credentials.
for _name in ("exporter.notify.transport", "apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(REDACTOR)


async def read_secret(config: ChannelConfig, file_attr: str, env_attr: str) -> str | None:
    """The secret named by ``<file_attr>`` or ``<env_attr>``; None when neither is configured."""
    path: str | None = getattr(config, file_attr)
    env: str | None = getattr(config, env_attr)
    where = f"notifications.channels[{config.name}]"
    if path:
        def read() -> str:
            with open(path, encoding="utf-8") as f:
                return f.read().strip()
        try:
            value = await asyncio.get_running_loop().run_in_executor(None, read)
        except OSError as e:
            raise NotifyError(f"{where}: cannot read {_yaml_key(file_attr)} {path}: {e.strerror}") from None
        if not value:
            raise NotifyError(f"{where}: {_yaml_key(file_attr)} {path} is empty")
    elif env:
        value = os.environ.get(env, "").strip()
        if not value:
            raise NotifyError(f"{where}: environment variable {env} ({_yaml_key(env_attr)}) is not set")
    else:
        return None
    REDACTOR.add(value)
    return value


def _yaml_key(attr: str) -> str:
    head, *rest = attr.split("_")
    return head + "".join(w.capitalize() for w in rest)


class Channel(Protocol):
    name: str
    #: Seconds to leave between two messages to this channel (the service's rate limit).
    min_interval: float
    #: Whether resolved messages thread under firing and the firing message is edited in place.
    threads: bool

    async def send(self, msg: Message, thread: ThreadRef | None) -> ThreadRef | None: ...

    async def update_resolved(self, thread: ThreadRef, resolved: Message) -> None: ...

    async def close(self) -> None: ...


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("Retry-After") if headers is not None else None
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _transport_error(name: str, e: BaseException) -> DeliveryError:
    # The exception text of a connection error can contain the URL; keep only its kind.
    if isinstance(e, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):  # never connected
        return DeliveryError(f"channel {name}: cannot reach the service ({type(e).__name__})", transient=True)
    if isinstance(e, TimeoutError):
        return DeliveryError(f"channel {name}: no answer in time; the message may have arrived",
                             transient=True, unknown=True)
    return DeliveryError(f"channel {name}: cannot reach the service ({type(e).__name__})", transient=True)


_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class SlackWebhookChannel:
    """Slack incoming webhook: one message per event, no threads (webhooks cannot reply or edit)."""

    threads = False
    min_interval = 1.0  # Slack: about one message per second per channel

    def __init__(self, name: str, url: str, timeout: float = 15.0) -> None:
        self.name = name
        self._client = AsyncWebhookClient(url, timeout=int(max(1, timeout)), logger=transport_log,
                                          retry_handlers=[])

    async def send(self, msg: Message, thread: ThreadRef | None) -> ThreadRef | None:
        try:
            resp = await self._client.send(text=slack_text(msg), blocks=slack_blocks(msg))
        except _TRANSPORT_ERRORS as e:
            raise _transport_error(self.name, e) from None
        if resp.status_code == 200:
            return None
        body = REDACTOR.scrub(str(resp.body or ""))[:200]
        if resp.status_code == 429 or resp.status_code >= 500:
            raise DeliveryError(f"channel {self.name}: Slack answered {resp.status_code} {body}",
                                transient=True, retry_after=_retry_after(resp.headers))
        raise DeliveryError(f"channel {self.name}: Slack rejected the message ({resp.status_code} {body})",
                            transient=False)

    async def update_resolved(self, thread: ThreadRef, resolved: Message) -> None:
        return None

    async def close(self) -> None:
        return None


#: Slack Web API errors that will not go away by trying again.
_TRANSIENT_SLACK_ERRORS = frozenset({"ratelimited", "rate_limited", "internal_error", "fatal_error",
                                     "service_unavailable", "request_timeout"})


class SlackBotChannel:
    """Slack Web API with a bot token: ``chat.postMessage``, threads and ``chat.update``.

    Firing is a top-level message; repeats and resolved reply in its thread, and the firing message
    is edited to say it is resolved, so the channel shows one line per incident.
    """

    threads = True
    min_interval = 1.0

    def __init__(self, name: str, token: str, channel: str, base_url: str | None = None,
                 timeout: float = 15.0) -> None:
        self.name = name
        self.channel = channel
        self._client = AsyncWebClient(token=token, base_url=base_url or "https://slack.com/api/",
                                      timeout=int(max(1, timeout)), logger=transport_log, retry_handlers=[])

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        call = self._client.chat_postMessage if method == "chat.postMessage" else self._client.chat_update
        try:
            resp = await call(**kwargs)
        except SlackApiError as e:
            status = e.response.status_code
            error = str(e.response.get("error", "")) if isinstance(e.response.data, dict) else ""
            transient = status == 429 or status >= 500 or error in _TRANSIENT_SLACK_ERRORS
            raise DeliveryError(f"channel {self.name}: Slack {method} failed ({status} {error})".rstrip(),
                                transient=transient, retry_after=_retry_after(e.response.headers)) from None
        except _TRANSPORT_ERRORS as e:
            raise _transport_error(self.name, e) from None
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    async def send(self, msg: Message, thread: ThreadRef | None) -> ThreadRef | None:
        args: dict[str, Any] = {"channel": thread["channel"] if thread else self.channel,
                                "text": slack_text(msg), "blocks": slack_blocks(msg)}
        if thread:
            args["thread_ts"] = thread["ts"]
        data = await self._call("chat.postMessage", **args)
        return {"channel": data.get("channel", args["channel"]), "ts": data.get("ts"), "title": msg.title}

    async def update_resolved(self, thread: ThreadRef, resolved: Message) -> None:
        firing = Message(event="firing", app=resolved.app, title=str(thread.get("title") or resolved.app))
        await self._call("chat.update", channel=thread["channel"], ts=thread["ts"],
                         text=f"Resolved: {firing.title}", blocks=slack_resolved_update(firing, resolved))

    async def close(self) -> None:
        return None


_APPRISE_TYPES = {"firing": apprise.NotifyType.FAILURE, "repeat": apprise.NotifyType.WARNING,
                  "resolved": apprise.NotifyType.SUCCESS, "freeze": apprise.NotifyType.WARNING,
                  "test": apprise.NotifyType.INFO}


class AppriseChannel:
    """Any apprise URL; ``workflows://`` is Microsoft Teams through a Workflows (Power Automate) webhook.

    apprise's ``notify`` is blocking (it uses ``requests``), so it runs in the default executor with
    a timeout. apprise only says success or failure, so every failure counts as transient.
    The plugin's own pause between requests (5.5s for Teams) is taken over by the notifier, which
    waits on the event loop's clock instead of blocking a worker thread.
    """

    threads = False

    def __init__(self, name: str, url: str, timeout: float = 60.0) -> None:
        self.name = name
        self.timeout = timeout
        self._apprise = apprise.Apprise()
        if not self._apprise.add(url):
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise NotifyError(f"notifications.channels[{name}]: the apprise URL (scheme {scheme}://) "
                              "is not valid or its service is not supported")
        self.min_interval = 0.0
        for plugin in self._apprise:
            self.min_interval = max(self.min_interval, float(plugin.request_rate_per_sec or 0))
            plugin.request_rate_per_sec = 0

    async def send(self, msg: Message, thread: ThreadRef | None) -> ThreadRef | None:
        title, body = markdown(msg)
        notify_type = _APPRISE_TYPES.get(msg.event, apprise.NotifyType.INFO)
        loop = asyncio.get_running_loop()
        try:
            ok = await asyncio.wait_for(loop.run_in_executor(None, lambda: self._apprise.notify(
                body=body, title=title, notify_type=notify_type, body_format=apprise.NotifyFormat.MARKDOWN)),
                self.timeout)
        except TimeoutError:
            raise DeliveryError(f"channel {self.name}: no answer within {self.timeout:.0f}s; the message may "
                                "have arrived", transient=True, unknown=True) from None
        if not ok:
            raise DeliveryError(f"channel {self.name}: the service did not accept the message", transient=True)
        return None

    async def update_resolved(self, thread: ThreadRef, resolved: Message) -> None:
        return None

    async def close(self) -> None:
        return None


async def open_channel(config: ChannelConfig) -> Channel:
    """Build a channel from its config, reading its secret. Raises :class:`NotifyError` naming the field."""
    where = f"notifications.channels[{config.name}]"
    if config.type == "slack":
        token = await read_secret(config, "token_file", "token_env")
        if token:
            if not config.channel:
                raise NotifyError(f"{where}: a bot token needs 'channel' (the Slack channel to post to)")
            return SlackBotChannel(config.name, token, config.channel, config.base_url, config.timeout or 15.0)
        url = await read_secret(config, "webhook_url_file", "webhook_url_env")
        if url:
            return SlackWebhookChannel(config.name, url, config.timeout or 15.0)
        raise NotifyError(f"{where}: set tokenFile/tokenEnv (bot) or webhookUrlFile/webhookUrlEnv (webhook)")
    if config.type == "apprise":
        url = await read_secret(config, "url_file", "url_env")
        if not url:
            raise NotifyError(f"{where}: set urlFile or urlEnv to the file or variable holding the apprise URL")
        return AppriseChannel(config.name, url, config.timeout or 60.0)
    raise NotifyError(f"{where}: type must be 'slack' or 'apprise', not {config.type!r}")
