"""What a webhook request may cost: limits that hold before the body is read, form-encoded GitHub
payloads, and replays of a delivery already processed."""

from __future__ import annotations

import asyncio
import json
import urllib.parse

from server_fleet import Served
from test_server_webhook import GITHUB_PUSH, count, github_headers, post


async def raw_request(served: Served, headers: dict[str, str], body: bytes, *, declared: int | None = None,
                      chunked: bool = False) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Start a POST by hand: send the head and ``body``, and leave the connection open."""
    host, port = served.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = ["POST /api/webhook HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {declared or len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    return reader, writer


async def status_of(reader: asyncio.StreamReader, within: float = 3.0) -> int:
    line = await asyncio.wait_for(reader.readline(), within)
    return int(line.split()[1])


async def test_an_unsigned_body_is_refused_before_it_is_read(served: Served) -> None:
    before = count("github", "bad_signature")
    reader, writer = await raw_request(served, {"X-GitHub-Event": "push"}, b"{" + b" " * 1000,
                                       declared=25 * 1024 * 1024)
    try:
        assert await status_of(reader) == 401  # answered while 25 MB are still to come
    finally:
        writer.close()
    assert count("github", "bad_signature") == before + 1


async def test_a_body_declared_larger_than_the_limit_is_refused_before_it_is_read(served: Served) -> None:
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    reader, writer = await raw_request(served, headers, b"{", declared=6 * 1024 * 1024)
    try:
        assert await status_of(reader) == 413
    finally:
        writer.close()


async def test_a_streamed_body_is_cut_off_at_the_limit(served: Served) -> None:
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    reader, writer = await raw_request(served, headers, b"", chunked=True)
    try:
        chunk = b"x" * (1024 * 1024)
        for _ in range(6):
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        assert await status_of(reader) == 413
    finally:
        writer.close()


async def test_requests_beyond_the_concurrency_limit_are_told_to_come_back(served: Served) -> None:
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    slow = [await raw_request(served, headers, b"{", declared=1000) for _ in range(4)]  # bodies never finish
    try:
        await asyncio.sleep(0.2)
        before = count("github", "busy")
        async with served.session.post(served.url + "/api/webhook", data=b"{}", headers=headers) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "1"
        assert count("github", "busy") == before + 1
    finally:
        for _, writer in slow:
            writer.close()


async def test_a_form_encoded_github_push_is_accepted(served: Served) -> None:
    body = urllib.parse.urlencode({"payload": json.dumps(GITHUB_PUSH)}).encode()
    headers = {**github_headers(body), "Content-Type": "application/x-www-form-urlencoded"}
    async with served.session.post(served.url + "/api/webhook", data=body, headers=headers) as resp:
        assert resp.status == 202
        assert await resp.json() == {"apps": 6}
    assert served.source.pushes[-1][1] == "main"


async def test_a_replayed_delivery_is_acknowledged_and_ignored(served: Served) -> None:
    body = json.dumps({**GITHUB_PUSH, "after": "1" * 40}).encode()
    headers = {**github_headers(body), "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    assert (await post(served, body, headers))[0] == 202
    before = count("github", "replay")
    status, answer = await post(served, body, headers)
    assert (status, answer["message"]) == (200, "this delivery was already processed")
    status, _ = await post(served, body, {**headers, "X-GitHub-Delivery": "a-new-id-on-the-same-body"})
    assert status == 200
    assert count("github", "replay") == before + 2
    assert len(served.source.pushes) == 1
