"""The report in a real browser: Debian's Chromium, headless, opens the page, shows it
and screenshots it, with every host name made unresolvable so any request would fail.

Chromium's network log names every request the page makes, and its log on stderr every
console message (the page has no script, so there should be none). A page that breaks
both rules is opened first, so the checks are seen to catch what they look for.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer import cli
from tests.report_page import Page, images

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium here (Debian's package `chromium`; .ci/run installs it)"
)
_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI and these machines run as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing outside can answer
    "--enable-logging=stderr",
    "--v=0",
]


@dataclass
class Visit:
    screenshot: Image.Image
    console: list[str]  # the page's console messages, as Chromium logs them
    requests: list[str]  # the URLs the page asked the network for


def visit(page: Path, folder: Path, width: int, height: int) -> Visit:
    """Open `page` in a fresh headless Chromium `width` CSS pixels wide, and screenshot it."""
    folder.mkdir()
    shot, net = folder / "shot.png", folder / "net.json"
    run = subprocess.run(
        [
            CHROMIUM,
            *_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--log-net-log={net}",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shot.exists(), run.stderr[-2000:]
    return Visit(
        Image.open(shot).convert("RGB"),
        [line for line in run.stderr.splitlines() if ":CONSOLE" in line],
        page_requests(net),
    )


def page_requests(net_log: Path) -> list[str]:
    """The URLs of the requests made for a page opened from a file: those whose network
    isolation key is the file:// origin (the browser's own, such as its update checks,
    belong to no page)."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start and "file://" in e["params"].get("network_isolation_key", "")
    ]


def test_the_checks_see_a_request_and_a_console_message(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><img src="https://cdn.example/x.png"><script>console.error("boom")</script>'
    )
    seen = visit(bad, tmp_path / "bad", 400, 300)
    assert seen.requests == ["https://cdn.example/x.png"]
    assert len(seen.console) == 1 and '"boom"' in seen.console[0]


def test_the_report_in_chromium(tiny_checkpoint, tmp_path):
    page = tmp_path / "report.html"
    figures = ["--k", "4", "--max-images", "200", "--prior-samples", "60"]
    assert (
        cli.main(["report", str(tiny_checkpoint), "--count", "240", *figures, "--out", str(page)])
        == 0
    )
    pictures = images(Page(page.read_text(encoding="utf-8")))
    assert len(pictures) == 3
    for width, height in ((1000, 6000), (390, 9000)):  # a desktop window, a phone: all of it
        seen = visit(page, tmp_path / f"w{width}", width, height)
        assert seen.requests == [] and seen.console == []
        pixels = np.asarray(seen.screenshot)
        blue = (np.abs(pixels.astype(int) - (31, 119, 180)).max(axis=2) < 30).sum()
        assert blue > 2000  # the charts are drawn: bars, points, curves
        if width == 1000:  # wide enough for the pictures' own size: each is on screen
            assert all(shown(picture, pixels) for picture in pictures)


def shown(picture: Image.Image, screenshot: np.ndarray) -> bool:
    """Whether `picture`'s middle row of pixels is on one of the screenshot's rows."""
    row = np.asarray(picture.convert("RGB"))[picture.height // 2].tobytes()
    return any(row in line.tobytes() for line in screenshot)
