"""A training run's time left, estimated so that it counts down steadily.

The loop's own estimate (`Progress.eta_s`) divides the steps left by the current epoch's
throughput: it starts again from a few steps at every epoch (the first of them slow),
and leaves out the pause after each epoch (validation, encoding the data for the plot),
so it jumps at each epoch. Here the time left is the steps left times the time a step
takes (a moving average over the last `memory_steps` steps within epochs), plus the
epoch ends left times the pause an epoch end takes (measured between the epochs'
records, beyond their steps); the estimate shown follows a new one gradually
(`settle_s`), counting down in between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.core.training import Progress


@dataclass
class EtaSmoother:
    memory_steps: float = 100.0  # the step time follows about this many recent steps
    settle_s: float = 5.0  # time constant with which the estimate shown follows a new one
    _last: tuple[float, int, int] | None = None  # (time, step, epoch) of the last record
    _step_s: float = math.nan  # seconds per step within an epoch
    _pause_s: float = 0.0  # seconds an epoch's end takes beyond its steps
    _shown: float = math.nan
    _time: float = math.nan  # of the last estimate shown

    def update(self, p: Progress, now: float) -> float:
        """Seconds left after record `p`, received at `now` (seconds on any monotonic
        clock); NaN until the run has made steps over some time."""
        if self._last is not None:
            t0, step0, epoch0 = self._last
            dt, steps = now - t0, p.step - step0
            if p.epoch == epoch0 and steps > 0 and dt > 0:
                per_step = dt / steps
                follow = 1.0 - math.exp(-steps / self.memory_steps)
                if math.isnan(self._step_s):
                    self._step_s = per_step
                else:
                    self._step_s += follow * (per_step - self._step_s)
            elif p.epoch > epoch0 and math.isfinite(self._step_s):
                pause = max(dt - steps * self._step_s, 0.0) / (p.epoch - epoch0)
                # few epoch ends are seen: the newest counts as much as all before
                self._pause_s = pause if self._pause_s == 0.0 else (self._pause_s + pause) / 2
        self._last = (now, p.step, p.epoch)
        if math.isnan(self._step_s):
            return self._shown
        estimate = (p.steps_total - p.step) * self._step_s + (p.epochs - p.epoch) * self._pause_s
        if math.isnan(self._shown):
            self._shown = estimate
        else:
            dt = now - self._time
            counted_down = max(self._shown - dt, 0.0)
            follow = 1.0 - math.exp(-dt / self.settle_s)
            self._shown = counted_down + follow * (estimate - counted_down)
        self._time = now
        return self._shown
