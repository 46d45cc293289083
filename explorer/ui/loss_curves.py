"""The live loss curves of a training run (`lossPlot`): total, reconstruction and KL per
step, smoothed, and the validation loss per epoch."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette

from explorer.core.training import Progress
from explorer.ui.cached import cache_pixmaps
from explorer.ui.theme import follow_palette, style_legend, style_plot

_SMOOTH = 0.9  # exponential smoothing of the per-step curves
_SERIES = ("step", "total", "recon", "kl")  # the per-step rows kept
_VAL_COLOUR = "#009E73"  # the validation points
_MAX_SHOWN = 2000  # points drawn per curve: a few per pixel column of a wide plot


class LossCurves(pg.PlotWidget):
    def __init__(self):
        super().__init__()
        self.setObjectName("lossPlot")
        self.setMinimumHeight(140)  # the insight dock below needs the height too
        self.setLabel("bottom", "step")
        self.setLabel("left", "nats / image")
        self.setToolTip(
            "Per image, smoothed over steps. Validation: −ELBO for the VAE kinds, the "
            "reconstruction for PCA and the autoencoder"
        )
        self.showGrid(x=True, y=True, alpha=0.15)
        self.legend = legend = self.addLegend(offset=(-5, 5))
        legend.setColumnCount(2)  # two short rows: the legend fits a low plot
        self.disableAutoRange()
        # The step curves are bare PlotCurveItems fed from growable arrays, thinned here
        # (`_shown`): PlotDataItems, with their own downsampling and bounds bookkeeping,
        # made an update of the three cost 2.3-3.2 ms of GUI-thread CPU with its repaint
        # (now 1.1-1.4 ms), four times a second beside training.
        self.curves = {
            key: pg.PlotCurveItem(pen=pg.mkPen(colour, width=1), name=name, skipFiniteCheck=True)
            for key, colour, name in (
                ("total", "#222", "loss (recon + β·KL)"),  # the text colour: _recolour
                ("recon", "#0072B2", "reconstruction"),
                ("kl", "#D55E00", "KL"),
            )
        }
        for curve in self.curves.values():
            self.addItem(curve)
        self.curves["val"] = self.plot(
            pen=None, symbol="o", symbolSize=7, symbolBrush=_VAL_COLOUR, name="validation"
        )
        # Its legend entry draws the scatter's own brush, which pyqtgraph sets only with
        # the first point: without this the entry is grey-blue until an epoch ends (and,
        # cached below, stays so).
        self.curves["val"].scatter.setBrush(_VAL_COLOUR)
        # 1-px pens: Qt draws those as antialiased hairlines directly, wider ones through
        # its path stroker (a repaint took 2-6 ms, now ~1.2). The total is drawn on top:
        # where KL is small it hides the reconstruction curve just under it.
        self.curves["total"].setZValue(1)
        # The curves grow 4 times a second while training runs, on a GUI thread that
        # shares the CPU with training. What an update does not change is drawn from
        # cached pixmaps: the axes with their grid (~3 ms pictures), the legend's entries
        # and the validation points; and the range moves only when the curves leave it
        # (`_fit_range`). So an update repaints the three curves and little else.
        cache_pixmaps(self.getAxis("left"), self.getAxis("bottom"), self.curves["val"].scatter)
        cache_pixmaps(legend)
        self._hint = "#777"
        follow_palette(self, self._recolour)
        self.clear_run()

    def _recolour(self, palette: QPalette) -> None:
        colours = style_plot(self, palette)
        style_legend(self.legend, colours)
        self.curves["total"].setPen(pg.mkPen(colours.text, width=1))
        self._hint = colours.axis.name()
        if self.plotItem.titleLabel.isVisible():
            self.setTitle(self.plotItem.titleLabel.text, color=self._hint, size="9pt")

    @property
    def series(self) -> dict[str, np.ndarray]:
        """This run's per-step values so far: "step" and the smoothed "total", "recon"
        and "kl", each (steps,)."""
        return {k: self._buf[i, : self._n] for i, k in enumerate(_SERIES)}

    def clear_run(self) -> None:
        """No curves: a new run is about to start."""
        self._buf = np.empty((len(_SERIES), 1024))  # rows as in _SERIES, grown by doubling
        self._n = 0  # steps recorded
        self.val_points: tuple[list[float], list[float]] = ([], [])
        self._ema: dict[str, float] = {}
        self._x_total: int | None = None  # the x range shown: 0 .. this run's steps
        self._y_extent = (math.inf, -math.inf)  # lowest and highest value drawn
        for c in self.curves.values():
            c.setData([], [])
        self.setTitle("Press Train: the losses appear here", color=self._hint, size="9pt")

    def add_steps(self, records: list[Progress]) -> None:
        """Step records since the last call: their smoothed losses join the curves."""
        if self._n + len(records) > self._buf.shape[1]:
            grown = np.empty((len(_SERIES), 2 * (self._n + len(records))))
            grown[:, : self._n] = self._buf[:, : self._n]
            self._buf = grown
        if self._n == 0:  # the first points of a run
            self.setTitle(None)
        for p in records:
            self._buf[0, self._n] = p.step
            for row, (key, value) in enumerate(
                (("total", p.loss), ("recon", p.recon), ("kl", p.kl)), start=1
            ):
                self._ema[key] = _SMOOTH * self._ema.get(key, value) + (1 - _SMOOTH) * value
                self._buf[row, self._n] = self._ema[key]
            self._n += 1
        shown = self._shown()
        for row, key in enumerate(_SERIES[1:], start=1):
            self.curves[key].setData(shown[0], shown[row])
        self._fit_range(records[-1].steps_total, [self._ema[k] for k in _SERIES[1:]])

    def _shown(self) -> np.ndarray:
        """The recorded points to draw, (4, ≤ _MAX_SHOWN + 1): every one while they fit,
        then an even thinning that keeps the first and the latest. The curves are
        smoothed, so a thinned curve looks the same at a few points per pixel column."""
        n = self._n
        if n <= _MAX_SHOWN:
            return self._buf[:, :n]
        stride = -(-n // _MAX_SHOWN)
        return self._buf[:, np.r_[0 : n - 1 : stride, n - 1]]

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
