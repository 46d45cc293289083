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
