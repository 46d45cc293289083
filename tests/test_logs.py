"""The log file: errors the user saw are kept, and the About dialog says where."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explorer.logs import log_folder, log_path, setup_logging
from explorer.ui.about import about_text


@pytest.fixture
def log_file(tmp_path):
    return setup_logging(tmp_path)  # conftest removes the handler afterwards


def test_errors_shown_in_the_window_are_logged(qtbot, window, tmp_path, log_file):
    from PySide6.QtWidgets import QMessageBox

    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"junk")
    window.open_checkpoint(bad)
    for box in window.findChildren(QMessageBox):
        box.close()
    text = log_file.read_text()
    assert "WARNING" in text and "Cannot open checkpoint" in text and "broken.safetensors" in text
    assert str(log_file) in about_text() and log_path() == log_file


def test_cli_errors_are_logged_in_the_user_log_folder(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "explorer", "evaluate", str(tmp_path / "gone.safetensors")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    logged = (log_folder() / "explorer.log").read_text()  # same XDG folders as the child
    assert "ERROR" in logged and "gone.safetensors: no such file" in logged


def test_the_about_dialog_says_when_nothing_is_logged(qtbot, window):
    assert log_path() is None
    assert "No log file" in about_text()
