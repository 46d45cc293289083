"""The live loss curves of a training run (`lossPlot`): total, reconstruction and KL per
step, smoothed (kept by `loss_series`), and the validation loss per epoch; the objectives
that have them add the total correlation (β-TCVAE, FactorVAE) and the capacity C the KL
is held at (AnnealedVAE, the capacity schedule), each in the legend only while a run
draws it. The legend has its own lines above the plot area, where it covers no curve
(`loss_plot_items`). The previous run's total, reconstruction and KL stay, faint, for
comparison. A model opened from a file, trained elsewhere, shows its recorded history
instead (`show_history`: one point per epoch, on an epoch axis) until a run starts. The
y axis is logarithmic by default (`lossLogScale` switches it): a run starts at thousands
of nats and ends at around a hundred, which a linear axis squeezes into a flat line."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox

from explorer.core.history import Epoch
from explorer.core.training import Progress
from explorer.ui.cached import cache_pixmaps
from explorer.ui.loss_plot_items import LossAxis, RowLegend
from explorer.ui.loss_series import SERIES, StepSeries
from explorer.ui.theme import follow_palette, legible_on, style_legend, style_plot

_ALWAYS = ("total", "recon", "kl")  # drawn for every run (and kept for the previous one)
_EXTRA = {"tc": "total correlation", "capacity": "capacity C"}  # drawn where a run has them
# Okabe-Ito hues of the reconstruction, KL, TC, C and validation marks; each is drawn
# lighter or darker as the plot's background needs (`_recolour`); the total takes the
# text colour.
_HUES = {
    "recon": "#0072B2",
    "kl": "#D55E00",
    "tc": "#CC79A7",
    "capacity": "#56B4E9",
    "val": "#009E73",
}
_LOG_FLOOR = 1e-2  # nats: values at or below it are drawn at it on the log axis
_FAINT = 70  # alpha (of 255) of the previous run's curves
_MIN_HEIGHT = 140  # px of the widget at least: the insight dock below needs height too
# px of the curves' own area at least, whatever the legend and axes take: with a
# β-TCVAE's rows in the training panel on a 768-px screen, the area was 59 px; the
# panel scrolls (main_window's scroll area) rather than squeeze the curves further
_MIN_AREA = 120
_RUN_TIP = (
    "Per image, smoothed over steps. Validation: −ELBO for the VAE kinds, the "
    "reconstruction for PCA and the autoencoder"
)
_HISTORY_TIP = (
    "Per image, one point per epoch as the checkpoint recorded it: the training loss at "
    "the epoch's end, and the reconstruction, KL and −ELBO on validation data"
)


class LossCurves(pg.PlotWidget):
    def __init__(self):
        super().__init__(axisItems={"left": LossAxis("left")})
        self.setObjectName("lossPlot")
        self.setMinimumHeight(_MIN_HEIGHT)  # grown to keep the curves' area: _keep_area
        self.setLabel("bottom", "step")
        self.setLabel("left", "nats / image")
        self.setToolTip(_RUN_TIP)
        self.showGrid(x=True, y=True, alpha=0.15)
        self.legend = legend = self._legend_row()
        self.disableAutoRange()
        # The step curves are bare PlotCurveItems fed from growable arrays, thinned here
        # (`StepSeries.shown`): PlotDataItems add their own downsampling and bounds bookkeeping to
        # every update of the three, four times a second on a GUI thread that shares the
        # CPU with training (`scripts/bench_ui.py --only train`).
        self.curves = {
            key: pg.PlotCurveItem(pen=pg.mkPen(colour, width=1), name=name, skipFiniteCheck=True)
            for key, colour, name in (
                ("total", "#222", "loss"),  # the text colour: _recolour
                ("recon", _HUES["recon"], "reconstruction"),
                ("kl", _HUES["kl"], "KL"),
            )
        }
        for key in _EXTRA:  # no legend entry until a run has the term (`_show_extra`)
            self.curves[key] = pg.PlotCurveItem(skipFiniteCheck=True)
        for curve in self.curves.values():
            self.addItem(curve)
        self.curves["capacity"].setZValue(-0.5)  # a schedule: under the losses
        self.curves["val"] = self.plot(
            pen=None, symbol="o", symbolSize=7, symbolBrush=_HUES["val"], name="validation"
        )
        # Its legend entry draws the scatter's own brush, which pyqtgraph sets only with
        # the first point: without this the entry is grey-blue until an epoch ends (and,
        # cached below, stays so).
        self.curves["val"].scatter.setBrush(_HUES["val"])
        # The previous run, faint and dashed, under this one; one legend entry for all three.
        self.previous: dict[str, pg.PlotCurveItem] = {}
        for key in _ALWAYS:
            self.previous[key] = pg.PlotCurveItem(skipFiniteCheck=True)  # pens: _recolour
            self.previous[key].setZValue(-1)
            self.addItem(self.previous[key])
        self._previous_data: np.ndarray | None = None  # (6, n) drawn rows as in SERIES
        self._previous_name = ""  # its legend entry
        self.log_check = QCheckBox("log", self, objectName="lossLogScale")
        self.log_check.setToolTip(
            "Logarithmic loss axis: the first steps' large losses do "
            "not flatten the rest of the run"
        )
        self.log_check.setChecked(True)
        self.log_check.toggled.connect(self._set_log)
        self.getAxis("left").setLogMode(False, True)
        # The right-click menu's "Log Y" is this switch: pyqtgraph's own would take the
        # log of the validation points a second time, and not of the bare step curves.
        menu_log = self.plotItem.ctrl.logYCheck
        menu_log.toggled.disconnect(self.plotItem.updateLogMode)
        menu_log.setChecked(True)
        menu_log.toggled.connect(self.log_check.setChecked)
        self.log_check.toggled.connect(menu_log.setChecked)
        self.plotItem.ctrl.logXCheck.setEnabled(False)  # steps are counted linearly
        # 1-px pens: Qt draws those as antialiased hairlines directly, wider ones through
        # its path stroker, several times slower. The total is drawn on top:
        # where KL is small it hides the reconstruction curve just under it.
        self.curves["total"].setZValue(1)
        # The curves grow 4 times a second while training runs, on a GUI thread that
        # shares the CPU with training. What an update does not change is drawn from
        # cached pixmaps: the axes with their grid (costly pictures), the legend's entries
        # and the validation points; and the range moves only when the curves leave it
        # (`_fit_range`). So an update repaints the three curves and little else.
        cache_pixmaps(self.getAxis("left"), self.getAxis("bottom"), self.curves["val"].scatter)
        cache_pixmaps(legend)
        self._hint = "#777"
        self._steps = StepSeries()  # none: there is no run to keep as the previous one
        # An opened model's history as drawn, (5, epochs): epoch, loss, validation
        # reconstruction, KL and −ELBO; None while the plot draws runs
        self._history: np.ndarray | None = None
        follow_palette(self, self._recolour)
        self.clear_run()

    def _legend_row(self) -> RowLegend:
        """The legend in its own row above the curves (`RowLegend.above`), fitted to the
        plot area's width, and the widget's least height kept as the legend takes lines."""
        legend = RowLegend.above(self.plotItem)
        self.plotItem.vb.sigResized.connect(self._fit_legend)  # as the left axis widens
        # as the legend takes lines; measured once the layout has settled (the legend's
        # new lines reach the curves' area after the resize that wrapped them)
        self._area_check = QTimer(self, singleShot=True, interval=0, timeout=self._keep_area)
        self.plotItem.vb.sigResized.connect(self._area_check.start)
        return legend

    def _keep_area(self) -> None:
        """The least height: the legend's lines, the axes and title, and _MIN_AREA."""
        area = self.plotItem.vb.height()
        if area <= 0:
            return
        least = max(_MIN_HEIGHT, round(self.height() - area) + _MIN_AREA)
        if abs(least - self.minimumHeight()) > 1:  # (a pixel's rounding never relays out)
            self.setMinimumHeight(least)

    def _fit_legend(self) -> None:
        """The legend's lines as wide as the plot area: the widget's, less the y axis."""
        self.legend.fit_width(self.width() - self.getAxis("left").width() - 2)

    def _recolour(self, palette: QPalette) -> None:
        colours = style_plot(self, palette)
        style_legend(self.legend, colours)
        shown = {"total": colours.text}
        shown |= {key: legible_on(QColor(hue), colours.background) for key, hue in _HUES.items()}
        for key in _EXTRA:
            dashed = Qt.PenStyle.DashLine if key == "capacity" else Qt.PenStyle.SolidLine
            self.curves[key].setPen(pg.mkPen(shown[key], width=1, style=dashed))
        for key, previous in self.previous.items():
            self.curves[key].setPen(pg.mkPen(shown[key], width=1))
            faint = QColor(shown[key])
            faint.setAlpha(_FAINT)
            previous.setPen(pg.mkPen(faint, width=1, style=Qt.PenStyle.DashLine))
        self.curves["val"].setSymbolBrush(shown["val"])
        self.curves["val"].scatter.setBrush(shown["val"])  # its legend entry: see __init__
        for sample, _ in self.legend.items:  # cached pixmaps of the old colours
            sample.update()
        self._hint = colours.axis.name()
        if self.plotItem.titleLabel.isVisible():
            self.show_note(self.plotItem.titleLabel.text)

    def show_note(self, text: str) -> None:
        """A line of text above the plot, in the palette's hint colour."""
        self.setTitle(text, color=self._hint, size="9pt")

    @property
    def series(self) -> dict[str, np.ndarray]:
        """This run's per-step values so far: "step", the smoothed "total", "recon", "kl"
        and "tc", and "capacity", each (steps,); NaN where the run has no such term."""
        return self._steps.series

    def has_curves(self) -> bool:
        """Whether any run, this one or the previous, drew curves."""
        previous = self.previous["total"].getData()[0]
        return self._steps.n > 0 or (previous is not None and len(previous) > 0)

    def clear_run(self) -> None:
        """A new run is about to start: the current curves become the previous run's."""
        self._leave_history()
        if self._steps.n > 0:
            self._keep_as_previous()
        self._extra: list[str] = []  # the terms of _EXTRA this run draws
        for key in _EXTRA:
            self.legend.removeItem(self.curves[key])
        self._steps = StepSeries()  # this run's, none yet
        self.val_points: tuple[list[float], list[float]] = ([], [])
        self._x_total: int | None = None  # the x range shown: 0 .. this run's steps
        self._y_extent = (math.inf, -math.inf)  # lowest and highest value drawn
        self._last_beta: float | None = None  # β at the run's latest step
        for c in self.curves.values():
            c.setData([], [])
        self.show_note("Press Train: the losses appear here")

    def add_steps(self, records: list[Progress]) -> None:
        """Step records since the last call: their smoothed losses join the curves."""
        if self._steps.n == 0:  # the first points of a run
            self._leave_history()
            self.setTitle(None)
            self._show_extra(records[0])
        self._steps.add(records)
        self._last_beta = records[-1].beta
        self._draw_steps()
        drawn, new = [*_ALWAYS, *self._extra], self._steps.series
        # every new point, not the latest alone: a followed run's epoch arrives at once, and
        # its first steps (the highest loss, the lowest KL) fell outside a range fitted to
        # its last
        m = len(records)
        self._fit_range(records[-1].steps_total, [v for k in drawn for v in new[k][-m:]])

    def _show_extra(self, first: Progress) -> None:
        """The terms of _EXTRA the run's first step has join the plot and its legend."""
        for key, name in _EXTRA.items():
            if math.isfinite(getattr(first, key)):
                self._extra.append(key)
                self.legend.addItem(self.curves[key], name)
        if self._extra:
            cache_pixmaps(self.legend)

    def show_history(self, history: tuple[Epoch, ...]) -> None:
        """Draw a model's recorded training, one point per epoch: the training loss, the
        validation reconstruction and KL as lines, the validation −ELBO as points. The
        curves of a run drawn before are kept (the next run's previous run) but hidden:
        their x is steps, this is epochs."""
        self.clear_run()  # a run drawn before becomes the previous one
        if not history:
            return
        rows = [(e.epoch, e.loss, e.val_recon, e.val_kl, e.val_loss) for e in history]
        self._history = np.array(rows, dtype=float).T
        self._show_previous(False)
        self.setLabel("bottom", "epoch")
        self.setToolTip(_HISTORY_TIP)
        # short: a title wider than the plot widens the plot past its dock's edge
        last = history[-1].epoch
        self.show_note(f"Recorded training, {last} epoch{'s' if last != 1 else ''}")
        self._draw_history()

    def _draw_history(self) -> None:
        h = self._history
        x = h[0]
        for row, key in enumerate(("total", "recon", "kl"), start=1):
            known = np.isfinite(h[row])  # a deterministic kind has no KL
            self.curves[key].setData(x[known], self._y(h[row][known]))
        self.curves["val"].setData(x, self._y(h[4]))
        vb = self.plotItem.vb
        vb.setXRange(0, x[-1], padding=0.02)  # epochs count from 1
        finite = self._y(h[1:][np.isfinite(h[1:])])
        if len(finite):
            vb.setYRange(finite.min(), finite.max(), padding=0.08)

    def _leave_history(self) -> None:
        """Back to drawing runs: the step axis, and the previous run's curves."""
        if self._history is None:
            return
        self._history = None
        self.setLabel("bottom", "step")
        self.setToolTip(_RUN_TIP)
        self._show_previous(True)
        for c in self.curves.values():
            c.setData([], [])

    def _show_previous(self, shown: bool) -> None:
        """Show or hide the previous run's curves and their legend entry."""
        for item in self.previous.values():
            item.setVisible(shown)
        if self._previous_name:
            if shown:
                self.legend.addItem(self.previous["total"], self._previous_name)
            else:
                self.legend.removeItem(self.previous["total"])
            cache_pixmaps(self.legend)

    def _draw_steps(self) -> None:
        shown = self._steps.shown()
        for row, key in enumerate(SERIES[1:], start=1):
            if key in _ALWAYS or key in self._extra:
                self.curves[key].setData(shown[0], self._y(shown[row]))

    def _y(self, values) -> np.ndarray:
        """Values as drawn: on the log axis, pyqtgraph expects log10 of them."""
        values = np.asarray(values, dtype=float)
        return np.log10(np.maximum(values, _LOG_FLOOR)) if self.log_scale else values

    @property
    def log_scale(self) -> bool:
        return self.log_check.isChecked()

    def _set_log(self, on: bool) -> None:
        """Redraw every curve for the other axis, and fit the range to it."""
        self.getAxis("left").setLogMode(False, on)
        if self._history is not None:
            self._draw_previous()  # (hidden, for the next run)
            self._draw_history()
            return
        self._draw_steps()
        self._draw_previous()
        self.curves["val"].setData(self.val_points[0], self._y(self.val_points[1]))
        self._y_extent = (math.inf, -math.inf)
        series = self.series
        values = [*series["total"], *series["kl"], *self.val_points[1]]
        values += [v for key in self._extra for v in series[key]]
        if self._previous_data is not None:
            values += [*self._previous_data[1], *self._previous_data[3]]
        if values:
            self._fit_range(self._x_total or 0, values)

    def _keep_as_previous(self) -> None:
        """This run's curves stay, faint, beside the next run's."""
        self._previous_data = self._steps.shown().copy()
        beta = "" if self._last_beta is None else f", β {self._last_beta:g}"
        legend = self.plotItem.legend
        if self._previous_name:
            legend.removeItem(self.previous["total"])
        self._previous_name = f"previous run{beta}"
        legend.addItem(self.previous["total"], self._previous_name)
        cache_pixmaps(legend)
        self._draw_previous()

    def _draw_previous(self) -> None:
        if self._previous_data is not None:
            x = self._previous_data[0]
            for key in _ALWAYS:
                row = SERIES.index(key)
                self.previous[key].setData(x, self._y(self._previous_data[row]))

    def resizeEvent(self, event) -> None:
        """The log switch sits in the corner between the axes, where nothing is drawn.
        The legend takes its lines before the plot is laid out: the first paint has them."""
        built = "log_check" in vars(self)  # not a resize from pyqtgraph's own __init__
        if built and self.plotItem is not None:  # (None: closed)
            self._fit_legend()
        super().resizeEvent(event)
        if not built:
            return
        hint = self.log_check.sizeHint()
        self.log_check.setGeometry(
            2, self.height() - hint.height() - 2, hint.width(), hint.height()
        )

    def _fit_range(self, steps_total: int, new_values: list[float]) -> None:
        """x: the whole run from its start; y: refitted only when the curves leave the
        range or fill under half of it."""
        vb = self.plotItem.vb
        if self._x_total != steps_total:
            self._x_total = steps_total
            previous = 0 if self._previous_data is None else self._previous_data[0, -1]
            vb.setXRange(0, max(steps_total, previous), padding=0.02)
        finite = [float(v) for v in self._y([v for v in new_values if math.isfinite(v)])]
        if not finite:
            return
        lo, hi = min(self._y_extent[0], *finite), max(self._y_extent[1], *finite)
        self._y_extent = (lo, hi)
        y0, y1 = vb.viewRange()[1]
        if lo < y0 or hi > y1 or (hi - lo) < 0.5 * (y1 - y0):
            vb.setYRange(lo, hi, padding=0.08)

    def end_run(self) -> None:
        """The run is over: a stopped run's curves fill the x axis, which had room for
        all the steps planned."""
        if self._steps.n > 0:
            self._x_total = None
            self._fit_range(self._steps.last_step(), [])

    def add_epoch(self, p: Progress) -> None:
        """An epoch's record: its validation loss joins the validation points."""
        if p.val is not None:
            # a deterministic kind has no ELBO: its validation reconstruction is its loss
            value = p.val.recon if math.isnan(p.val.elbo) else -p.val.elbo
            self.val_points[0].append(p.step)
            self.val_points[1].append(value)
            self.curves["val"].setData(self.val_points[0], self._y(self.val_points[1]))
            self._fit_range(p.steps_total, [value])
