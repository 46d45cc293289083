"""An open that never ends never holds the window: it can be cancelled, and closing works.

A model's factory is someone else's code and may hang or call sys.exit; a dataset may be
a file that never ends. The window abandons such a task (its late result is ignored),
and the app exits with its thread still running.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton

from explorer.app import build_main_window
from explorer.core.external_files import ExternalSource
from explorer.ui import opener as opener_module
from explorer.ui.external_dialog import ExternalModelDialog
from explorer.ui.workers import TaskThread, running_tasks
from tests import external_models as em
from tests.gui import pick


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(em.PairVAE().state_dict(), path)
    return path


@pytest.fixture
def hang():
    """Factories that hang do so until the test ends (then their threads end too)."""
    em.HANG.clear()
    yield em.HANG
    em.HANG.set()


def open_from_dialog(qtbot, w, weights, factory: str) -> None:
    """File ▸ Open model trained elsewhere…, with `factory`, then Open."""
    pick(w, ("&File", "Open model trained &elsewhere…")).trigger()
    dialog = w.findChild(ExternalModelDialog)
    dialog.path_edit.setText(str(weights))
    dialog.factory_edit.setText(factory)
    QTest.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)


def cancel_button(w) -> QPushButton:
    """Cancel on the busy indicator (over the latent plot)."""
    return w.findChild(QPushButton, "cancelTaskButton")


def all_ended(qtbot) -> None:
    """Wait for every background job's thread, then deliver what they sent."""
    qtbot.waitUntil(lambda: not running_tasks(), timeout=30_000)
    QApplication.processEvents()


def test_a_hanging_factory_can_be_cancelled_and_its_late_model_is_ignored(
    qtbot, window, weights, hang
):
    before = window.session.model
    open_from_dialog(qtbot, window, weights, "tests.external_models:build_hangs")
    qtbot.waitUntil(lambda: cancel_button(window).isVisible(), timeout=10_000)
    assert "Opening weights.pth" in window.busy.label.text()
    QTest.mouseClick(cancel_button(window), Qt.MouseButton.LeftButton)
    assert not window.busy.isVisible()
    assert "Cancelled: Opening weights.pth" in window.statusBar().currentMessage()
    hang.set()  # the factory returns after all, a model that would open
    all_ended(qtbot)
    assert window.session.model is before
    assert "Opened" not in window.statusBar().currentMessage()


def test_cancelling_a_start_up_model_that_hangs_opens_the_bundled_one(
    qtbot, settings, weights, hang
):
    source = ExternalSource(str(weights), "tests.external_models:build_hangs")
    w = build_main_window(settings=settings, external=source)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: cancel_button(w).isVisible(), timeout=10_000)
    QTest.mouseClick(cancel_button(w), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    assert w.session.info.source == "bundled digits model"
    w.shutdown()


def test_the_window_closes_while_a_factory_hangs(qtbot, window, weights, hang):
    open_from_dialog(qtbot, window, weights, "tests.external_models:build_hangs")
    qtbot.waitUntil(lambda: bool(running_tasks()), timeout=10_000)
    assert window.close()
    assert not window.isVisible() and running_tasks()  # left behind, still stuck


def test_the_window_closes_while_a_dataset_never_loads(qtbot, window, monkeypatch, hang):
    """A dataset that never ends (a pipe nobody writes to): closing still works."""

    def never_ends(spec, count=None, progress=None):
        hang.wait()
        raise AssertionError("never read")

    monkeypatch.setattr(opener_module, "load_dataset", never_ends)
    pick(window, ("&Data", "Built-in: sprites")).trigger()
    qtbot.waitUntil(lambda: cancel_button(window).isVisible(), timeout=10_000)
    assert "Opening sprites" in window.busy.label.text()
    assert window.close()


def test_a_factory_that_calls_sys_exit_is_reported(qtbot, window, weights):
    before = window.session.model
    with qtbot.waitSignal(window.errorShown, timeout=20_000) as shown:
        open_from_dialog(qtbot, window, weights, "tests.external_models:build_exits")
    assert "build_exits" in shown.args[0] and "SystemExit: 3" in shown.args[0]
    assert window.session.model is before
    all_ended(qtbot)


def test_any_job_that_ends_in_system_exit_is_reported(qtbot):
    """Whatever code a background job runs, SystemExit ends in a message, not a dead job."""
    task = TaskThread(sys.exit, 4)
    with qtbot.waitSignal(task.failed, timeout=10_000) as failed:
        task.start()
    assert "sys.exit(4)" in failed.args[0]


_CLOSE_WHILE_STUCK = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from explorer import app
from explorer.ui.workers import TaskThread, running_tasks

qt = app.application()

def close_when_stuck():
    windows = [w for w in qt.topLevelWidgets() if type(w).__name__ == "MainWindow"]
    if running_tasks() and windows and windows[0].isVisible():
        print("stuck; closing", flush=True)
        windows[0].close()

timer = QTimer(interval=50, timeout=close_when_stuck)
timer.start()
sys.exit(app.main(sys.argv[1:]))
"""


def test_the_app_exits_cleanly_with_a_factory_still_hanging(tmp_path, weights):
    """A real start: the user opens a model whose factory hangs, then quits the app."""
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            _CLOSE_WHILE_STUCK,
            str(weights),
            "--factory",
            "tests.external_models:build_hangs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "stuck; closing" in r.stdout
    assert r.returncode == 0, r.stderr
    assert "Destroyed while thread" not in r.stderr and "Traceback" not in r.stderr
