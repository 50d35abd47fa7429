"""Two ``gitops-drift-exporter run --shard`` processes, each one answering for the whole fleet.

The peer URL template varies the loopback address with the shard (``127.0.0.10``, ``127.0.0.11``,
all on ``lo``), as a cluster varies the pod name, so both shards listen on one port.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp
from e2e_support import cm, live
from test_run_command import wait_for

from exporter.sharding import shard_of


def port_free_on(*hosts: str) -> int:
    """A port nothing listens on at any of ``hosts``."""
    for _ in range(20):
        with socket.socket() as first:
            first.bind((hosts[0], 0))
            port = int(first.getsockname()[1])
            try:
                for host in hosts[1:]:
                    with socket.socket() as other:
                        other.bind((host, port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no port free on all of {hosts}")


async def test_each_shard_lists_and_shows_the_other_shards_apps(sim, repo, write_config, tmp_path: Path):
    assert (shard_of("a", 2), shard_of("d", 2)) == (0, 1)
    repo.commit({"a/cm.yaml": cm("one"), "d/cm.yaml": cm("two")})
    sim.apply(live(cm("one")))
    sim.apply(live(cm("two")))
    config = write_config({"a": "a", "d": "d"}, repo.url)
    hosts = ["127.0.0.10", "127.0.0.11"]
    port = port_free_on(*hosts)
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exporter.cli", "run", "--config", config, "--listen", f"{host}:{port}",
        "--shard", f"{index}/2", "--peer-url-template", f"http://127.0.0.1{{shard}}:{port}",
        "--cache-dir", str(tmp_path / f"cache-{index}"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE) for index, host in enumerate(hosts)]
    bases = [f"http://{host}:{port}" for host in hosts]
    try:
        async with aiohttp.ClientSession() as http:
            for base in bases:
                await wait_for(http, f"{base}/readyz", lambda code, _: code == 200)
            for base in bases:
                apps = await wait_for(http, f"{base}/api/v1/apps",
                                      lambda code, body: code == 200 and len(body) == 2)
                assert [(a["name"], a["status"]) for a in apps] == [("a", "Healthy"), ("d", "Healthy")]
            local = await wait_for(http, f"{bases[0]}/api/v1/apps?scope=local", lambda code, _: code == 200)
            assert [a["name"] for a in local] == ["a"]
            detail = await wait_for(http, f"{bases[0]}/api/v1/apps/d", lambda code, _: code == 200)
            assert [o["name"] for o in detail["objects"]] == ["two"]
            page = await wait_for(http, f"{bases[1]}/", lambda code, _: code == 200)
            assert 'data-app="a"' in page and 'data-app="d"' in page
    finally:
        for proc in procs:
            proc.terminate()
        errors = [(await asyncio.wait_for(proc.communicate(), 30))[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
