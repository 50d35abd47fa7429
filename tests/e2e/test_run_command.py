"""``gitops-drift-exporter run`` as operators run it: readiness, JSON logs, SIGHUP reload, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import yaml
from e2e_support import cm, live


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_app(config: Path, name: str) -> None:
    """Add an app like the first one, reading the directory named after it."""
    doc = yaml.safe_load(config.read_text())
    doc["apps"].append({**doc["apps"][0], "name": name, "source": {**doc["apps"][0]["source"], "path": name}})
    config.write_text(yaml.safe_dump(doc))


async def wait_for(http: aiohttp.ClientSession, url: str, check, timeout: float = 30) -> object:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with http.get(url) as response:
                body = await response.json() if response.content_type == "application/json" else await response.text()
                if check(response.status, body):
                    return body
        except aiohttp.ClientConnectionError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{url} never got there")
        await asyncio.sleep(0.1)


async def test_run_serves_reloads_on_sighup_logs_json_and_stops_on_sigterm(sim, repo, write_config):
    repo.commit({"a/cm.yaml": cm("one"), "b/cm.yaml": cm("two")})
    sim.apply(live(cm("one")))
    config = write_config({"a": "a"}, repo.url)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter.cli", "--log-format", "json", "run", "--config", config,
        "--listen", f"127.0.0.1:{port}", stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for(http, f"{base}/readyz", lambda code, _: code == 200)
            apps = await wait_for(http, f"{base}/api/v1/apps", lambda code, body: code == 200 and body)
            assert [(a["name"], a["status"]) for a in apps] == [("a", "Healthy")]

            add_app(Path(config), "b")
            proc.send_signal(signal.SIGHUP)
            apps = await wait_for(http, f"{base}/api/v1/apps", lambda code, body: len(body) == 2)
            assert {a["name"]: a["status"] for a in apps} == {"a": "Healthy", "b": "Missing"}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    records = [json.loads(line) for line in err.decode().splitlines() if line.strip()]
    assert any(r["msg"].startswith("config reloaded") for r in records)
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)


async def start_run(config: str, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter.cli", "run", "--config", config, "--listen", f"127.0.0.1:{port}",
        stderr=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL)


async def stop(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0


async def test_a_restart_keeps_each_app_s_clocks_and_history(sim, repo, write_config):
    repo.commit({"a/cm.yaml": cm("one")})
    sim.apply(live(cm("one")))
    config = write_config({"a": "a"}, repo.url, interval="1s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        proc = await start_run(config, port)
        try:
            await wait_for(http, f"{base}/api/v1/apps/a", lambda code, body: code == 200 and body["status"] == "Healthy")
            sim.delete("", "ConfigMap", "prod", "one")
            before = await wait_for(http, f"{base}/api/v1/apps/a",
                                    lambda code, body: code == 200 and body["status"] == "Missing")
            history = await wait_for(http, f"{base}/api/v1/apps/a/history", lambda code, body: code == 200)
        finally:
            await stop(proc)
        proc = await start_run(config, port)
        try:
            after = await wait_for(http, f"{base}/api/v1/apps/a", lambda code, body: code == 200 and body["status"])
            again = await wait_for(http, f"{base}/api/v1/apps/a/history", lambda code, body: code == 200)
            metrics = await wait_for(http, f"{base}/metrics", lambda code, body: code == 200)
        finally:
            await stop(proc)
    assert after["status"] == "Missing"
    assert (after["sinceTimestamp"], after["badSinceTimestamp"]) == (before["sinceTimestamp"], before["badSinceTimestamp"])
    assert [(e["from"], e["to"]) for e in again["entries"]] == [(None, "Healthy"), ("Healthy", "Missing")]
    assert again["entries"] == history["entries"]
    assert 'gitops_app_state_changes_total{app="a",from="Healthy",to="Missing"} 1' in metrics
