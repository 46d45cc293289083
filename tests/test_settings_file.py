"""A settings file with values of the wrong type never stops the app from starting.

The settings file is the user's (or another version's) to write: each value the window
reads back is checked for its type, and a wrong one is logged and ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings

from explorer.app import build_main_window
from explorer.core.config import TrainConfig

KEYS = {
    "window": ("geometry", "state"),
    "files": ("recent", "last_dir", "external"),
    "training": ("epochs", "lr", "batch_size", "device"),
    "hints": ("firstRunShown",),
}
# Values of other types than the app writes, in QSettings' INI notation
HOSTILE = {
    "rectangle": "@Rect(0 0 10 10)",
    "number list": "1, 2, 3",
    "invalid": "@Invalid()",
    "bytes": "@ByteArray(\\0\\x1\\xff)",
    "deep JSON": "[" * 5000 + "]" * 5000,
    "huge number": "9" * 40,
    "not a number": "nan",
    "point": "@Point(1 2)",
}


DEFAULTS = (TrainConfig.epochs, TrainConfig.batch_size, TrainConfig.lr)


def hostile_file(path, value: str) -> None:
    lines = []
    for group, keys in KEYS.items():
        lines.append(f"[{group}]")
        lines += [f"{key}={value}" for key in keys]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("kind", HOSTILE)
def test_the_window_starts_on_a_hostile_settings_file(qtbot, tmp_path, tiny_checkpoint, kind):
    path = tmp_path / "settings.ini"
    hostile_file(path, HOSTILE[kind])
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    w = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    p = w.panel  # the defaults, where the file held nothing usable
    assert (p.epochs_spin.value(), p.batch_spin.value(), p.lr_spin.value()) == DEFAULTS
    assert p.device_combo.currentText() == "auto"
    assert os.path.isdir(w.recent.last_dir())
    assert all(isinstance(f, str) for f in w.recent.files())
    w.shutdown()


_START_AND_QUIT = """
import sys
from PySide6.QtCore import QTimer
from explorer import app

qt = app.application()

def quit_when_shown():
    windows = [w for w in qt.topLevelWidgets() if type(w).__name__ == "MainWindow"]
    if windows and windows[0].isVisible():
        print("window shown", flush=True)
        windows[0].close()

timer = QTimer(interval=50, timeout=quit_when_shown)
timer.start()
sys.exit(app.main([]))
"""


def test_the_app_starts_on_a_hostile_settings_file(tmp_path):
    """The real start-up, on the user's own settings file."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    folder = tmp_path / "config" / "LatentExplorer"
    folder.mkdir(parents=True)
    hostile_file(folder / "Latent Explorer.conf", HOSTILE["rectangle"])
    r = subprocess.run(
        [sys.executable, "-c", _START_AND_QUIT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "window shown" in r.stdout, r.stderr
    assert r.returncode == 0, r.stderr
