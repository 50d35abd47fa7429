"""Reloads are all or nothing: an empty, half-written or invalid config is refused with the reason
and the running one kept; notification channels and routes reload with everything else."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web
from e2e_support import cm, live
from test_run_command import free_port, wait_for

from exporter.cli import ReloadRefused, read_settled_config


def write(path: str | Path, text: str) -> None:
    Path(path).write_text(text)


def read(path: str | Path) -> str:
    return Path(path).read_text()


async def start_run(config: str, env: dict[str, str] | None = None) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter.cli", "run", "--config", config, "--listen", f"127.0.0.1:{port}",
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, env={**os.environ, **(env or {})})
    return proc, f"http://127.0.0.1:{port}"


async def stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    return err.decode()


@pytest.mark.parametrize("text", ["", "# nothing here yet\n", "apps: []\n"])
async def test_an_empty_config_is_refused_and_every_app_kept(sim, repo, write_config, text):
    repo.commit({"a/cm.yaml": cm("one")})
    sim.apply(live(cm("one")))
    config = write_config({"a": "a"}, repo.url)
    proc, base = await start_run(config)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for(http, f"{base}/api/v1/apps", lambda code, body: code == 200 and body)
            write(config, text)
            proc.send_signal(signal.SIGHUP)
            await asyncio.sleep(1.5)
            apps = await wait_for(http, f"{base}/api/v1/apps", lambda code, body: code == 200)
            assert [(a["name"], a["status"]) for a in apps] == [("a", "Healthy")]
    finally:
        err = await stop(proc)
    assert "config reload refused, keeping the running config" in err
    assert "has no apps and no appGenerators" in err


async def test_a_config_that_fails_validation_is_refused_with_its_line(sim, repo, write_config):
    repo.commit({"a/cm.yaml": cm("one")})
    config = write_config({"a": "a"}, repo.url)
    proc, base = await start_run(config)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for(http, f"{base}/api/v1/apps", lambda code, body: code == 200 and body)
            doc = yaml.safe_load(read(config))
            doc["apps"][0]["destination"]["cluster"] = "nowhere"
            write(config, yaml.safe_dump(doc))
            proc.send_signal(signal.SIGHUP)
            await asyncio.sleep(1.5)
            apps = await wait_for(http, f"{base}/api/v1/apps", lambda code, body: code == 200)
            assert [a["cluster"] for a in apps] == ["sim"]
    finally:
        err = await stop(proc)
    assert "config reload refused" in err and "nowhere" in err


async def test_a_file_caught_half_written_is_refused(tmp_path, write_config, repo):
    config = Path(write_config({"a": "a"}, repo.url))
    whole = read(config)

    async def editor() -> None:
        await asyncio.sleep(0.1)
        write(config, whole + "\n# the editor is still writing\n")

    writing = asyncio.create_task(editor())
    with pytest.raises(ReloadRefused, match="the file changed while it was being read"):
        await read_settled_config(str(config), settle=0.4)
    await writing
    assert (await read_settled_config(str(config), settle=0.1)).apps[0].name == "a"


async def test_notification_channels_and_routes_reload(sim, repo, write_config, tmp_path):
    received: dict[str, list[str]] = {"first": [], "second": []}

    async def hook(request: web.Request) -> web.Response:
        received[request.match_info["name"]].append(await request.text())
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/services/T0/{name}", hook)
    runner = web.AppRunner(receiver, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook_base = f"http://127.0.0.1:{runner.addresses[0][1]}/services/T0"

    repo.commit({"a/cm.yaml": cm("one"), "b/cm.yaml": cm("two")})  # neither is live: both Missing
    def notifications(channel: str) -> dict:
        return {"channels": [{"name": channel, "type": "slack", "webhookUrlEnv": f"HOOK_{channel.upper()}"}],
                "routes": [{"channels": [channel]}]}

    config = write_config({"a": "a"}, repo.url, notifications=notifications("first"),
                          defaults={"notifications": {"threshold": "0s"}})
    env = {"HOOK_FIRST": f"{hook_base}/first", "HOOK_SECOND": f"{hook_base}/second"}
    proc, base = await start_run(config, env)
    try:
        async with aiohttp.ClientSession() as http:
            await wait_for(http, f"{base}/api/v1/apps", lambda code, body: code == 200 and body)
            for _ in range(100):
                if received["first"]:
                    break
                await asyncio.sleep(0.1)
            assert received["first"] and '"a is Missing' in received["first"][0]
            doc = yaml.safe_load(read(config))
            doc["notifications"] = notifications("second")
            doc["apps"].append({**doc["apps"][0], "name": "b", "source": {**doc["apps"][0]["source"], "path": "b"}})
            write(config, yaml.safe_dump(doc))
            proc.send_signal(signal.SIGHUP)
            for _ in range(100):
                if received["second"]:
                    break
                await asyncio.sleep(0.1)
    finally:
        await stop(proc)
        await runner.cleanup()
    assert received["second"] and '"b is Missing' in received["second"][0]
    assert len(received["first"]) == 1
