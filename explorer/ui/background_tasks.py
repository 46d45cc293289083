"""The window's one-off background jobs (opening, encoding, saving, comparing models):
started, shown on the busy indicator with Cancel, and let end when the window closes.

Each job runs in a TaskThread (explorer.ui.workers), its result and its error reported on
the GUI thread. One that says what it does (`busy`) shows on the busy indicator over the
plot, whose Cancel abandons it: what it brings later is ignored. Closing waits for every
job a moment, a write longer (it may hold the only copy of a model), then abandons what
never ends (a model's factory that never returns, a file that never ends): its thread is
left to the process, which ends without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QPushButton

from explorer.core.training import DEFAULT_THREADS
from explorer.logs import LOGGER
from explorer.ui.busy_indicator import BusyIndicator
from explorer.ui.workers import LatestJob, TaskThread

log = logging.getLogger(LOGGER)
# Seconds closing waits for background work before leaving it behind: an open or an
# encode is of no use once the window is gone; a write may hold the only copy of a model.
_TASK_GRACE_S = 1.0
_WRITE_GRACE_S = 30.0


class BackgroundTasks(QObject):
    def __init__(
        self,
        busy: BusyIndicator,
        show_error: Callable[[str, str], None],
        show_status: Callable[[str], None],
        parent: QObject,
    ):
        super().__init__(parent)
        self.busy = busy
        self.show_error = show_error
        self.show_status = show_status
        self._tasks: dict[TaskThread, float] = {}  # running, and how long closing waits
        self._closing = False
        # a job that never ends (a factory that hangs, a file that never ends) is
        # abandoned from here: its late result is ignored
        cancel = QPushButton("Cancel", objectName="cancelTaskButton")
        cancel.setToolTip("Stop waiting for it; what it brings later is ignored")
        cancel.clicked.connect(self._cancel)
        busy.add_button(cancel)

    def run(
        self, fn, *args, done, error_title: str, busy: str | None = None, write: bool = False
    ) -> TaskThread:
        """Run `fn(*args)` in the background. With `busy` (what it does, in words), the
        busy indicator shows it, with Cancel, and fn gets `progress=` to move its bar.
        A `write` is waited for longer when the window closes (it may hold the only copy
        of a model)."""
        # files and whole datasets (opening is refused while training runs): all cores
        reports = busy is not None
        task = TaskThread(fn, *args, threads=DEFAULT_THREADS, reports=reports, parent=self)
        if self._closing:
            # never started: a task that ended during shutdown() asks for its next step
            # (a dataset loaded, then its encoding) after the window waited for its
            # threads, and would only be left behind
            return task
        self._tasks[task] = _WRITE_GRACE_S if write else _TASK_GRACE_S
        task.succeeded.connect(done)
        task.failed.connect(lambda msg: self.show_error(error_title, msg))
        task.finished.connect(lambda: self._tasks.pop(task, None))
        if reports:
            self.busy.begin(task, busy)
            task.progressed.connect(lambda what, f: self.busy.report(task, what, f))
            task.finished.connect(lambda: self.busy.end(task))
        task.start()
        return task

    def _cancel(self) -> None:
        """The busy indicator's Cancel: abandon the job it shows."""
        task, what = self.busy.current(), self.busy.label.text()
        if task is not None:
            task.abandon()  # its `finished` takes it off the indicator
            self.show_status(f"Cancelled: {what} (what it brings later is ignored)")

    def stop_starting(self) -> None:
        """The window is closing: a job asked for from now on is never started."""
        self._closing = True

    def end(self, jobs: list[LatestJob]) -> None:
        """Let the background work end, the views' `jobs` and ours: a write gets up to
        `_WRITE_GRACE_S`, anything else `_TASK_GRACE_S`. What still runs then is
        abandoned."""
        start = time.monotonic()

        def left(grace: float) -> float:
            return max(0.0, start + grace - time.monotonic())

        stuck = [job for job in jobs if not job.wait(left(_TASK_GRACE_S))]
        for task, grace in list(self._tasks.items()):
            if not task.wait(left(grace)):
                task.abandon()
                stuck.append(task)
        if stuck:
            log.warning("closing with %d background task(s) that never ended", len(stuck))
