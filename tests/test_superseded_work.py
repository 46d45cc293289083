"""Work the user has moved on from: a dataset superseded by a newer one before it
loaded, and the next step of a task that ended while the window was closing."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QMessageBox

from explorer.ui.workers import TaskThread


def boxes_shown() -> list[str]:
    return [
        w.text()
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.isVisible()
    ]


def test_a_dataset_asked_for_later_supersedes_one_still_loading(qtbot, window, tmp_path):
    """Opened one after the other, only the second lands: the first, of another shape,
    never asks about a model it was not meant for (a bundled model picked while the
    start-up's data was still drawn brought such a question after its own data)."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "big.npz", x=(rng.random((400, 64, 64)) * 255).astype(np.uint8))
    np.savez(tmp_path / "small.npz", x=(rng.random((50, 28, 28)) * 255).astype(np.uint8))
    first = window.open_dataset(tmp_path / "big.npz")
    second = window.open_dataset(tmp_path / "small.npz")
    qtbot.waitUntil(lambda: first.isFinished() and second.isFinished(), timeout=20_000)
    qtbot.waitUntil(lambda: window.session.dataset.name == "small", timeout=20_000)
    QApplication.processEvents()  # the first one's result, whenever it came
    assert window.session.dataset.name == "small"
    assert not boxes_shown()


def test_no_thread_is_started_once_the_window_closes(qtbot, window, tmp_path, monkeypatch):
    """A dataset that finished loading while the window closed does not start encoding
    it: a thread running when the app ends makes Qt abort the process."""
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "data.npz", x=(rng.random((500, 28, 28)) * 255).astype(np.uint8))
    started: list[TaskThread] = []
    start = TaskThread.start
    monkeypatch.setattr(TaskThread, "start", lambda t, *a: (started.append(t), start(t, *a)))
    window.open_dataset(tmp_path / "data.npz")
    assert len(started) == 1
    window.close()  # waits for the load; its result is delivered afterwards
    for _ in range(5):
        QApplication.processEvents()
    assert len(started) == 1
    assert not [t for t in window.findChildren(QThread) if t.isRunning()]
