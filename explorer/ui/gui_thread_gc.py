"""Python's cycle collector, run on the GUI thread while a window is open.

CPython collects cycles in whichever thread allocates past a threshold. In a worker
thread (a model's factory inside torch.load, training, an encode) it can collect a
cycle that holds a Qt object: shiboken destroys the object there, holding the object's
mutex while it waits for the GIL, as the GUI thread, holding the GIL, waits for that
mutex to delete a menu. Neither moves again (the CI suite hung in
tests/test_stuck_open.py with exactly these two stacks). So while a window is open,
automatic collection is off and a timer on the GUI thread collects the generations
whose thresholds were passed, as CPython would have; with the last window gone,
automatic collection is back (a notebook's kernel outlives its windows).

Giving it back is a step of its own. While collection was off, every allocation since
the timer's last pass piled up in the youngest generation, Qt objects of the window
just closed among them; switched on as it stood, CPython would collect that pile at the
next allocation, wherever it happens: inside a C++ destructor's call into Python, as
the closed window itself is destroyed (the CI suite once hung there, in
tests/test_autosave.py, with no other Python thread alive). So the last window to shut
collects what is due first, where it shuts (`shutdown`, a plain call on the GUI
thread); a window destroyed without shutting leaves that to the event loop's next pass.
"""

from __future__ import annotations

import functools
import gc
import itertools

from PySide6.QtCore import QObject, QTimer

_INTERVAL_MS = 250  # how often the GUI thread looks: garbage waits this long at most
_holders: set[int] = set()  # windows' collectors holding automatic collection off
_keys = itertools.count()


def collect_due() -> None:
    """Collect the oldest generation whose count passed its threshold, if any."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = [g for g in range(3) if thresholds[g] and counts[g] > thresholds[g]]
    if due:
        gc.collect(max(due))


def _give_back() -> None:
    """Automatic collection back, after collecting what is due, unless a window holds
    it off again meanwhile."""
    if not _holders:
        collect_due()
        gc.enable()


def _release(key: int, safe: bool) -> None:
    """Collector `key` no longer holds automatic collection off (said once per key).
    `safe`: the caller is a plain call on the GUI thread, where collecting may destroy
    Qt objects; otherwise (a destructor) the event loop's next pass gives it back."""
    if key in _holders:
        _holders.discard(key)
        if not _holders:
            if safe:
                _give_back()
            else:
                QTimer.singleShot(0, _give_back)


class GuiThreadCollector(QObject):
    """Holds automatic collection off for the life of `parent` (or until `stop`), and
    collects on the GUI thread meanwhile."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._key = next(_keys)
        _holders.add(self._key)
        gc.disable()
        self._timer = QTimer(self, interval=_INTERVAL_MS, timeout=collect_due)
        self._timer.start()
        # (not a method of self: it runs as self is destroyed)
        self.destroyed.connect(functools.partial(_release, self._key, False))

    def stop(self) -> None:
        """Automatic collection back (unless another window holds it off), once what is
        due is collected here."""
        self._timer.stop()
        _release(self._key, True)
