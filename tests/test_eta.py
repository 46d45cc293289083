"""The training ETA counts down steadily over a run with slow first steps and pauses
between epochs, and lands near the true time left; the loop's own estimate jumps."""

from __future__ import annotations

import math

import numpy as np

from explorer.core.eta import EtaSmoother
from explorer.core.training import Progress

EPOCHS, STEPS, STEP_S, PAUSE_S, BATCH = 8, 200, 0.05, 4.0, 128


def synthetic_run() -> list[tuple[float, Progress]]:
    """(time received, record) of a run: 0.05 s steps (the first of each epoch 1 s), a 4 s
    pause after each epoch, records arriving 4 times a second as the worker sends them;
    the loop's own eta_s as `train` works it out (this epoch's throughput, no pauses)."""
    out, now, step, total = [], 0.0, 0, EPOCHS * STEPS
    for epoch in range(EPOCHS):
        epoch_start, last_sent = now, now
        for b in range(STEPS):
            now += 1.0 if b == 0 else STEP_S
            step += 1
            rate = (b + 1) * BATCH / (now - epoch_start)
            if now - last_sent >= 0.25 or b == STEPS - 1:
                last_sent = now
                record = Progress(
                    "step", epoch, EPOCHS, step, total, 1.0, 1.0, 0.0, 1.0, rate,
                    eta_s=(total - step) * BATCH / rate,
                )  # fmt: skip
                out.append((now, record))
        now += PAUSE_S
    return out


def true_left(t: float) -> float:
    epoch_s = 1.0 + (STEPS - 1) * STEP_S + PAUSE_S
    return EPOCHS * epoch_s - t  # the last pause too: validation and encoding


def largest_jump(times: np.ndarray, etas: np.ndarray) -> float:
    """The largest change between two readings beyond the time that passed between them."""
    return float(np.max(np.abs(np.diff(etas) + np.diff(times))))


def test_the_smoothed_eta_counts_down_without_jumps_and_ends_near_the_truth():
    run = synthetic_run()
    eta = EtaSmoother()
    shown = [(t, eta.update(p, t)) for t, p in run]
    times, etas = (
        np.array([t for t, e in shown if math.isfinite(e)]),
        np.array([e for _, e in shown if math.isfinite(e)]),
    )
    assert len(etas) > len(run) - 3  # an estimate from the second record on

    # The run takes 120 s. Until an epoch's end is seen its pause is unknown; once two
    # were seen, the estimate counts down with the clock, within 2 s of the truth.
    later = times > 2 * (1.0 + (STEPS - 1) * STEP_S + PAUSE_S)
    assert largest_jump(times[later], etas[later]) < 1.0
    errors = np.abs(etas - [true_left(t) for t in times])
    assert np.all(errors[later] < 2.0)

    loop = np.array([p.eta_s for _, p in run])  # what the progress bar showed before
    assert largest_jump(np.array([t for t, _ in run]), loop) > 60.0


def test_a_new_smoother_has_no_estimate_before_time_passes():
    eta = EtaSmoother()
    p = Progress("step", 0, 1, 1, 10, 1.0, 1.0, 0.0, 1.0, 100.0, 1.0)
    assert math.isnan(eta.update(p, 5.0))
    assert math.isnan(eta.update(p, 6.0))  # no step made since
