"""A training run's losses step by step, as the loss curves (`loss_curves`) draw them:
the values of each step kept in arrays grown by doubling, the losses smoothed as they
come (an exponential moving average), and the points to draw, thinned evenly once
there are more than a plot can show.
"""

from __future__ import annotations

import numpy as np

from explorer.core.training import Progress

_SMOOTH = 0.9  # exponential smoothing of the per-step curves
SERIES = ("step", "total", "recon", "kl", "tc", "capacity")  # the per-step rows kept
_SMOOTHED = ("total", "recon", "kl", "tc")  # C is a schedule: drawn as it is
_MAX_SHOWN = 2000  # points drawn per curve: a few per pixel column of a wide plot


class StepSeries:
    """One run's per-step values, a row each as in SERIES."""

    def __init__(self) -> None:
        self._buf = np.empty((len(SERIES), 1024))  # rows as in SERIES, grown by doubling
        self.n = 0  # steps recorded
        self.ema: dict[str, float] = {}  # each row's latest value, smoothed where it is

    @property
    def series(self) -> dict[str, np.ndarray]:
        """The values so far, each (steps,), by the names in SERIES."""
        return {k: self._buf[i, : self.n] for i, k in enumerate(SERIES)}

    def add(self, records: list[Progress]) -> None:
        """Step records since the last call: their values join the rows, the losses
        smoothed."""
        if self.n + len(records) > self._buf.shape[1]:
            grown = np.empty((len(SERIES), 2 * (self.n + len(records))))
            grown[:, : self.n] = self._buf[:, : self.n]
            self._buf = grown
        for p in records:
            self._buf[0, self.n] = p.step
            values = (p.loss, p.recon, p.kl, p.tc, p.capacity)
            for row, (key, value) in enumerate(zip(SERIES[1:], values, strict=True), start=1):
                if key in _SMOOTHED:
                    value = _SMOOTH * self.ema.get(key, value) + (1 - _SMOOTH) * value
                self.ema[key] = value
                self._buf[row, self.n] = value
            self.n += 1

    def last_step(self) -> int:
        """The step of the latest record."""
        return int(self._buf[0, self.n - 1])

    def shown(self) -> np.ndarray:
        """The recorded points to draw, (6, ≤ _MAX_SHOWN + 1): every one while they fit,
        then an even thinning that keeps the first and the latest. The curves are
        smoothed, so a thinned curve looks the same at a few points per pixel column."""
        n = self.n
        if n <= _MAX_SHOWN:
            return self._buf[:, :n]
        stride = -(-n // _MAX_SHOWN)
        return self._buf[:, np.r_[0 : n - 1 : stride, n - 1]]
