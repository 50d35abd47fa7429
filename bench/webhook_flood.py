"""What a burst of large unsigned webhook bodies costs the agent's HTTP server.

Serves the real web application (with a webhook secret, as a deployment should) on loopback in a
child process, then sends ``requests`` concurrent POSTs of ``size_mb`` MB each without a valid
signature, and prints how they were answered, how long the burst took, and the server process's
resident memory before and at its peak (VmHWM).

    python bench/webhook_flood.py [requests] [size_mb]
"""

from __future__ import annotations

import asyncio
import collections
import sys
import time

import aiohttp

SERVER = """
import asyncio
from exporter.metrics import REGISTRY
from exporter.server import build_app, serve

class Source:
    def snapshot(self): return {}
    def ready(self): return True
    def not_ready_reason(self): return None
    def freezes(self): return []
    def history_of(self, name): return []
    async def on_git_push(self, urls, branch): return 0

async def main():
    runner = await serve(build_app(Source(), metrics_registry=REGISTRY, webhook_secret="s3cret"), "127.0.0.1", 0)
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def memory(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as fh:
        return {k: int(v.split()[0]) // 1024 for k, v in (line.split(":", 1) for line in fh)
                if k in ("VmRSS", "VmHWM")}


async def main(requests: int, size_mb: int) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", SERVER, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    port = int((await proc.stdout.readline()).decode())
    before = memory(proc.pid)
    body = b"{" + b" " * (size_mb * 1024 * 1024)
    answers: collections.Counter[str] = collections.Counter()

    async def one(session: aiohttp.ClientSession) -> None:
        try:
            async with session.post(f"http://127.0.0.1:{port}/api/webhook", data=body,
                                    headers={"X-GitHub-Event": "push", "Content-Type": "application/json"}) as r:
                answers[str(r.status)] += 1
        except aiohttp.ClientError as exc:
            answers[type(exc).__name__] += 1

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(one(session) for _ in range(requests)))
    elapsed = time.perf_counter() - started
    after = memory(proc.pid)
    proc.terminate()
    await proc.wait()
    print(f"{requests} unsigned webhooks of {size_mb} MB: answers {dict(answers)} in {elapsed:.2f}s")
    print(f"server RSS before {before['VmRSS']} MB, peak {after['VmHWM']} MB "
          f"(+{after['VmHWM'] - before['VmRSS']} MB)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40, int(sys.argv[2]) if len(sys.argv) > 2 else 25))
