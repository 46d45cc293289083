"""The app in a real X window, used from the keyboard: the path the README's first
command takes, on the platform plugin a Linux desktop uses (xcb), not the offscreen one.

`python -m explorer` starts under Xvfb (with openbox as the window manager when it is
installed), picks commands from its menus with Alt and the arrow keys, is photographed,
and quits with Ctrl+Q. Skipped, with the reason, where Xvfb, xdotool or ImageMagick's
`import` is missing; CI installs them (.ci/run). Every wait is bounded: xdotool's --sync
under a subprocess timeout, or a poll with a deadline.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TOOLS = ("Xvfb", "xdotool", "import")
pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in TOOLS),
    reason=f"needs {', '.join(TOOLS)} (apt install xvfb xdotool imagemagick)",
)
REPO = Path(__file__).resolve().parents[1]
START_S = 90  # a cold start on a busy 2-core machine, with the dataset drawn anew


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh X server on a free display (Xvfb picks it: -displayfd), 1366×768."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    wm = None
    try:
        ready, _, _ = select.select([read], [], [], 30)  # written once it accepts clients
        assert ready, "Xvfb did not start within 30 s"
        name = ":" + os.read(read, 16).decode().strip()
        if shutil.which("openbox"):
            wm = subprocess.Popen(
                ["openbox"],
                env={**os.environ, "DISPLAY": name},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        yield name
    finally:
        os.close(read)
        for process in (wm, xvfb):
            if process is not None:
                process.terminate()
                process.wait(10)


class Desktop:
    """xdotool and ImageMagick on one display."""

    def __init__(self, display: str):
        self.env = {**os.environ, "DISPLAY": display}

    def xdotool(self, *args: str, timeout: float = 30) -> str:
        """xdotool's output; "" when it failed or ran past `timeout` s (a --sync wait)."""
        try:
            done = subprocess.run(
                ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return ""
        return done.stdout if done.returncode == 0 else ""

    def wait_for_window(self, title: str, timeout: float = 30) -> str:
        """The id of the visible window whose title matches `title`, once it is there."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            # (again after an X error: a window that closes while xdotool walks the
            # tree ends its search with BadWindow)
            found = self.xdotool("search", "--sync", "--onlyvisible", "--name", title, timeout=left)
            if found:
                return found.split()[0]
        raise AssertionError(f"no window titled {title!r} within {timeout} s")

    def wait_until_gone(self, title: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.xdotool("search", "--onlyvisible", "--name", title):
            assert time.monotonic() < deadline, f"window {title!r} still open after {timeout} s"

    def keys(self, window: str, *keys: str) -> None:
        self.xdotool("windowfocus", "--sync", window)
        self.xdotool("key", "--clearmodifiers", *keys)

    def screenshot(self, path: Path) -> np.ndarray:
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, timeout=30
        )
        return np.asarray(Image.open(path).convert("RGB"))


def test_the_app_opens_is_used_from_its_menus_and_quits(display, tmp_path):
    desktop = Desktop(display)
    env = {**desktop.env, "QT_QPA_PLATFORM": "xcb"}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(tmp_path / var.lower())  # settings and autosaves of its own
    log = (tmp_path / "app.log").open("w")
    app = subprocess.Popen(
        [sys.executable, "-m", "explorer"], cwd=REPO, env=env, stdout=log, stderr=log
    )
    try:
        window = desktop.wait_for_window("bundled digits model", timeout=START_S)

        desktop.keys(window, "alt+h", "a")  # Help ▸ &About Latent Explorer
        about = desktop.wait_for_window("About Latent Explorer")
        desktop.keys(about, "Escape")
        desktop.wait_until_gone("About Latent Explorer")

        desktop.keys(window, "alt+m", "Down", "Return")  # Model ▸ Bundled: sprites
        desktop.wait_for_window("bundled sprites model", timeout=START_S)

        shot = desktop.screenshot(tmp_path / "window.png")
        assert shot.shape[:2] == (768, 1366)
        assert shot.std() > 20, "the screen is blank"
        assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 100  # plots, text, images
        assert app.poll() is None, "the app has exited"

        desktop.keys(window, "ctrl+q")  # nothing was trained: no question is asked
        assert app.wait(60) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
        log.close()
    output = (tmp_path / "app.log").read_text()
    assert "Traceback" not in output, output
