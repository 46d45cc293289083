"""Cycles are collected on the GUI thread while a window is open, never in a worker: a
worker's collection destroyed a Qt object there and froze the window (see
explorer/ui/gui_thread_gc.py). With the window shut, CPython collects as before."""

from __future__ import annotations

import gc
import threading


def churn_cycles() -> None:
    """Make garbage in cycles, far past every generation's threshold."""
    for _ in range(60_000):
        a: list = []
        a.append(a)


def test_a_workers_garbage_is_collected_on_the_gui_thread(qtbot, window):
    collected_in: list[threading.Thread] = []

    def heard(phase: str, info: dict) -> None:
        if phase == "start":
            collected_in.append(threading.current_thread())

    gc.callbacks.append(heard)
    try:
        worker = threading.Thread(target=churn_cycles)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: len(collected_in) > 0, timeout=5000)
    finally:
        gc.callbacks.remove(heard)
    assert set(collected_in) == {threading.main_thread()}


def test_closing_the_window_gives_collection_back(qtbot, window):
    assert not gc.isenabled()
    window.close()
    assert gc.isenabled()


def test_garbage_left_when_the_window_shuts_is_collected_as_it_shuts(qtbot, window):
    """Not at whatever allocation comes next, which may be a destructor's (module notes)."""
    from PySide6.QtCore import QObject

    gone: list[bool] = []
    for _ in range(gc.get_threshold()[0] + 1):  # past the youngest generation's threshold
        held = QObject()
        held.cycle = held  # only the collector frees it
        held.destroyed.connect(lambda: gone.append(True))
    del held
    assert not gone
    window.shutdown()  # what closing runs, and the API's own end
    assert gc.isenabled() and len(gone) > 0


def test_a_window_destroyed_without_shutting_gives_collection_back_from_the_loop(qtbot):
    """Its collector goes with it, inside a C++ destructor: not the place to collect."""
    from PySide6.QtCore import QObject

    from explorer.ui.gui_thread_gc import GuiThreadCollector

    owner = QObject()
    GuiThreadCollector(owner)
    assert not gc.isenabled()
    del owner  # destroyed here, with its collector
    assert not gc.isenabled()
    qtbot.waitUntil(gc.isenabled, timeout=5000)
