"""The README's screenshots are the running demo's: ``.ci/screenshots.py`` takes them again with
Chromium and what they show must be what the committed ones were taken from."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not Path("/usr/bin/chromium").exists():
        message = "/usr/bin/chromium is not installed (Debian package: chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must take the screenshots")
        pytest.skip(message)
    out = tmp_path_factory.mktemp("screenshots")
    done = subprocess.run([sys.executable, str(ROOT / ".ci" / "screenshots.py"), str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_screenshots_show_what_the_demo_shows_now(fresh: Path) -> None:
    committed = json.loads((IMAGES / "screenshots.json").read_text())
    taken = json.loads((fresh / "screenshots.json").read_text())
    assert taken == committed, "the demo or the page changed: run python .ci/screenshots.py docs/images"


def test_every_screenshot_has_the_size_of_its_window(fresh: Path) -> None:
    record = json.loads((fresh / "screenshots.json").read_text())
    for image, shot in record.items():
        assert png_size(IMAGES / image) == png_size(fresh / image), image
        if image != "status-page-history.png":  # that one is the panel alone
            scale = 2 if shot["window"]["width"] < 500 else 1
            assert png_size(fresh / image) == (shot["window"]["width"] * scale, shot["window"]["height"] * scale)
        assert (fresh / image).stat().st_size > 20_000, f"{image} looks blank"


def test_the_readme_shows_every_screenshot_and_only_those() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"\(docs/images/([^)]+)\)", readme))
    assert shown == set(json.loads((IMAGES / "screenshots.json").read_text()))
