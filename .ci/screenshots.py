"""Take the README's screenshots from the running demo with Chromium.

    python .ci/screenshots.py docs/images

starts ``gitops-drift-exporter demo`` on a free port, waits until its seven apps are in their
seven states, and photographs the status page as a newcomer sees it: the desktop list with an
app open, a phone, a phone opened from a link to one app, and an app's history. Beside the images
it writes ``screenshots.json``: for each image the page it shows, the window and what was on the
page (apps, states, counts). The tests run this script and compare that record with the one
committed in ``docs/images``, so a change to the demo or the page that the images no longer show
fails CI until the images are taken again.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
EXPECTED = {"web": "Healthy", "payments": "OutOfSync", "worker": "Degraded", "cache": "Missing",
            "api": "Progressing", "reports": "Suspended", "billing": "Unknown"}
DESKTOP = {"viewport": {"width": 1440, "height": 900}, "device_scale_factor": 1}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
#: image -> (query, window, element to photograph or None for the window)
SHOTS: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "status-page.png": ("?app=payments", DESKTOP, None),
    "status-page-phone.png": ("", PHONE, None),
    "status-page-deep-link.png": ("?app=worker", PHONE, None),
    "status-page-history.png": ("?app=worker", DESKTOP, "#detail"),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _states(base: str) -> dict[str, str]:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/apps", timeout=5) as answer:
            return {a["name"]: a["status"] for a in json.load(answer)}
    except OSError:
        return {}


def _wait_for_demo(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while _states(base) != EXPECTED:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the demo did not reach its seven states: {_states(base)}")
        time.sleep(0.2)


async def _shoot(base: str, out: Path) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    record: dict[str, Any] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            for image, (query, window, element) in SHOTS.items():
                context = await browser.new_context(**window)  # type: ignore[arg-type]
                page = await context.new_page()
                await page.goto(f"{base}/{query}")
                await page.wait_for_load_state("networkidle")
                target = page.locator(element) if element else page
                await target.screenshot(path=str(out / image))
                record[image] = {
                    "page": "/" + query, "window": window["viewport"],
                    "apps": dict(await page.eval_on_selector_all(
                        "#apps tbody tr[data-app]:not([hidden])",
                        "rows => rows.map(r => [r.dataset.app, r.dataset.status])")),
                    "counts": dict(await page.eval_on_selector_all(
                        "#counts a[data-state]", "as => as.map(a => [a.dataset.state, Number(a.querySelector('.n').textContent)])")),
                    "detail": await page.evaluate(
                        "() => { const d = document.getElementById('detail');"
                        " return d.hidden ? null : d.querySelector('h2').textContent; }"),
                    "filtersFolded": not await page.locator("#filter-box").evaluate("d => d.open"),
                }
                await context.close()
        finally:
            await browser.close()
    return record


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "exporter.cli", "demo", "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_demo(base, proc)
        record = asyncio.run(_shoot(base, out))
    finally:
        proc.terminate()
        proc.wait(20)
    (out / "screenshots.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    for image in SHOTS:
        print(f"{out / image}: {record[image]['page']} at {record[image]['window']['width']}px")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
