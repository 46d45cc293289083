"""The live loss curves of a training run (`lossPlot`): total, reconstruction and KL per
step, smoothed, and the validation loss per epoch."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from explorer.core.training import Progress

_SMOOTH = 0.9  # exponential smoothing of the per-step curves


class LossCurves(pg.PlotWidget):
    def __init__(self):
        super().__init__(background="w")  # (keywords go to the plot item: name set below)
        self.setObjectName("lossPlot")
        self.setMinimumHeight(140)  # the insight dock below needs the height too
        self.setLabel("bottom", "step")
        self.setLabel("left", "nats / image")
        self.setToolTip(
            "Per image, smoothed over steps. Validation: −ELBO for the VAE kinds, the "
            "reconstruction for PCA and the autoencoder"
        )
        self.showGrid(x=True, y=True, alpha=0.15)
        legend = self.addLegend(offset=(-5, 5), labelTextColor="#222")
        legend.setColumnCount(2)  # two short rows: the legend fits a low plot
        # The curves grow 4 times a second while training runs, on a GUI thread that
        # shares the CPU with training. Axes (with their grid) and legend are cached
        # pixmaps, and the range moves only when the curves leave it (`_fit_range`), so
        # an update repaints curves, not ~3 ms axis pictures.
        for item in (legend, self.getAxis("left"), self.getAxis("bottom")):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.disableAutoRange()
        # thousands of steps: draw at most a few points per pixel column (peaks kept)
        self.plotItem.setDownsampling(auto=True, mode="peak")
        self.plotItem.setClipToView(True)
        self.curves = {
            "total": self.plot(pen=pg.mkPen("#222", width=1), name="loss (recon + β·KL)"),
            "recon": self.plot(pen=pg.mkPen("#0072B2", width=1), name="reconstruction"),
            "kl": self.plot(pen=pg.mkPen("#D55E00", width=1), name="KL"),
            "val": self.plot(
                pen=None,
                symbol="o",
                symbolSize=7,
                symbolBrush="#009E73",
                name="validation",
            ),
        }
        # 1-px pens: Qt draws those as antialiased hairlines directly, wider ones through
        # its path stroker (a repaint took 2-6 ms, now ~1.2). The total is drawn on top:
        # where KL is small it hides the reconstruction curve just under it.
        self.curves["total"].setZValue(1)
        self.clear_run()

    def clear_run(self) -> None:
        """No curves: a new run is about to start."""
        self.series: dict[str, list[float]] = {k: [] for k in ("step", "total", "recon", "kl")}
        self.val_points: tuple[list[float], list[float]] = ([], [])
        self._ema: dict[str, float] = {}
        self._x_total: int | None = None  # the x range shown: 0 .. this run's steps
        self._y_extent = (math.inf, -math.inf)  # lowest and highest value drawn
        for c in self.curves.values():
            c.setData([], [])
        self.setTitle("Press Train: the losses appear here", color="#777", size="9pt")

    def add_steps(self, records: list[Progress]) -> None:
        """Step records since the last call: their smoothed losses join the curves."""
        for p in records:
            self.series["step"].append(p.step)
            for key, value in (("total", p.loss), ("recon", p.recon), ("kl", p.kl)):
                prev = self._ema.get(key, value)
                self._ema[key] = _SMOOTH * prev + (1 - _SMOOTH) * value
                self.series[key].append(self._ema[key])
        if len(self.series["step"]) == len(records):  # the first points of a run
            self.setTitle(None)
        steps = np.asarray(self.series["step"])
        for key in ("total", "recon", "kl"):
            self.curves[key].setData(steps, np.asarray(self.series[key]))
        self._fit_range(
            records[-1].steps_total, [self.series[k][-1] for k in ("total", "recon", "kl")]
        )

    def _fit_range(self, steps_total: int, new_values: list[float]) -> None:
        """x: the whole run from its start; y: refitted only when the curves leave the
        range or fill under half of it."""
        vb = self.plotItem.vb
        if self._x_total != steps_total:
            self._x_total = steps_total
            vb.setXRange(0, steps_total, padding=0.02)
        finite = [v for v in new_values if math.isfinite(v)]
        if not finite:
            return
        lo, hi = min(self._y_extent[0], *finite), max(self._y_extent[1], *finite)
        self._y_extent = (lo, hi)
        y0, y1 = vb.viewRange()[1]
        if lo < y0 or hi > y1 or (hi - lo) < 0.5 * (y1 - y0):
            vb.setYRange(lo, hi, padding=0.08)

    def add_epoch(self, p: Progress) -> None:
        """An epoch's record: its validation loss joins the validation points."""
        if p.val is not None:
            # a deterministic kind has no ELBO: its validation reconstruction is its loss
            value = p.val.recon if math.isnan(p.val.elbo) else -p.val.elbo
            self.val_points[0].append(p.step)
            self.val_points[1].append(value)
            self.curves["val"].setData(*self.val_points)
            self._fit_range(p.steps_total, [value])
