"""A token written into a repository URL is used to fetch, and never leaves: not in metrics, the
API, the page, the diff, notifications, logs (debug included), or any process's command line."""

from __future__ import annotations

import asyncio
import base64
import os
import sys

import aiohttp
import yaml
from aiohttp import web
from e2e_support import cm, live, process_command_lines
from git_http import serve_dumb_http
from test_run_command import free_port, wait_for

from exporter.config import ConfigError
from exporter.wiring import load_config

TOKEN = "ghp_planted0token0value0987654321"


async def test_a_token_in_the_repo_url_is_used_but_never_shown(tmp_path, sim, repo):
    repo.commit({"a/cm.yaml": cm("settings")})
    sim.apply(live("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '2'}\n"))
    bare = tmp_path / "www" / "web.git"
    clone = await asyncio.create_subprocess_exec("git", "clone", "--quiet", "--bare", str(repo.path), str(bare))
    assert await clone.wait() == 0
    expected = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    git_server, host = serve_dumb_http(bare, expected, first_delay=1.5)

    received: list[str] = []

    async def slack(request: web.Request) -> web.Response:
        received.append(await request.text())
        return web.Response(text="ok")

    hook = web.Application()
    hook.router.add_post("/services/T0/B0/hook", slack)
    hook_runner = web.AppRunner(hook)
    await hook_runner.setup()
    site = web.TCPSite(hook_runner, "127.0.0.1", 0)
    await site.start()
    hook_port = hook_runner.addresses[0][1]

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "clusters": [{"name": "sim", "kubeconfig": sim.write_kubeconfig(str(tmp_path / "kubeconfig")),
                      "context": "sim"}],
        "cacheDir": str(tmp_path / "cache"),
        "apps": [{"name": "a", "source": {"repoURL": f"http://x-access-token:{TOKEN}@{host}/web.git",
                                          "targetRevision": "main", "path": "a"},
                  "destination": {"cluster": "sim", "namespace": "prod"},
                  "notifications": {"threshold": "0s", "channels": ["chat"]}}],
        "notifications": {"channels": [{"name": "chat", "type": "slack", "webhookUrlEnv": "TEST_SLACK_HOOK"}],
                          "links": {"Commit": "{repo}/commit/{revision}", "Repo": "{repo}"}},
    }))
    port = free_port()
    env = {"TEST_SLACK_HOOK": f"http://127.0.0.1:{hook_port}/services/T0/B0/hook",
           **os.environ}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter.cli", "--log-level", "debug", "run", "--config", str(config),
        "--listen", f"127.0.0.1:{port}", stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    seen_commands: list[str] = []
    shown: dict[str, str] = {}
    try:
        # The server holds its first answer back, so the fetch's git process lives long enough to
        # be seen however long the agent takes to start.
        deadline = asyncio.get_running_loop().time() + 20
        while not seen_commands and asyncio.get_running_loop().time() < deadline:
            seen_commands += [c for c in process_command_lines() if "web.git" in c]
            await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as http:
            apps = await wait_for(http, f"{base}/api/v1/apps",
                                  lambda code, body: code == 200 and body and body[0]["status"] == "OutOfSync")
            assert apps[0]["repo"] == f"http://{host}/web.git"  # fetched with the token, shown without
            for path in ("/metrics", "/api/v1/apps", "/api/v1/apps/a", "/api/v1/apps/a/diff", "/",
                         "/api/v1/apps/a/badge.svg"):
                async with http.get(base + path) as response:
                    shown[path] = await response.text()
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        git_server.shutdown()
        await hook_runner.cleanup()
    assert any("git" in c and f"{host}/web.git" in c for c in seen_commands), "no git process was seen"
    assert not [c for c in seen_commands if TOKEN in c]
    assert received and f"http://{host}/web/commit/" in received[0]
    for where, text in {**shown, "slack": "".join(received), "log": err.decode(), "stdout": out.decode()}.items():
        assert TOKEN not in text, f"the token leaked into {where}"
    assert 'repo="http://' + host + '/web.git"' in shown["/metrics"]


def test_a_credential_in_a_query_string_is_refused_at_load(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "clusters": [{"name": "c", "kubeconfig": str(tmp_path / "kubeconfig")}],
        "apps": [{"name": "a", "source": {"repoURL": "https://git.example.com/org/repo.git?private_token=abc",
                                          "path": "a"}, "destination": {"cluster": "c"}}],
    }))
    try:
        load_config(str(config))
    except ConfigError as exc:
        assert "apps[0].source.repoURL: a credential in the URL's query string" in str(exc)
        assert "abc" not in str(exc)
    else:
        raise AssertionError("the config was accepted")
