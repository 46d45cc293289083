"""The live loss curves (`lossPlot`) over a long run: every step is kept, a bounded number
is drawn, and what is drawn is the smoothed losses from the run's first step to its last."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from explorer.core.metrics import Evaluation
from explorer.core.training import Progress
from explorer.ui.loss_curves import LossCurves
from tests.conftest import settle
from tests.gui import rgba


def step_records(losses: np.ndarray, steps_total: int, first: int = 1) -> list[Progress]:
    return [
        Progress(
            kind="step",
            epoch=0,
            epochs=1,
            step=first + i,
            steps_total=steps_total,
            loss=float(v),
            recon=float(0.8 * v),
            kl=float(0.2 * v),
            beta=1.0,
            samples_per_s=1000.0,
            eta_s=1.0,
        )
        for i, v in enumerate(losses)
    ]


def ema(values: np.ndarray, smooth: float = 0.9) -> np.ndarray:
    out, prev = np.empty(len(values)), values[0]
    for i, v in enumerate(values):
        prev = smooth * prev + (1 - smooth) * v
        out[i] = prev
    return out


def test_a_long_run_is_kept_whole_and_drawn_thinned(qtbot):
    plot = LossCurves()
    qtbot.addWidget(plot)
    n = 9_000
    rng = np.random.default_rng(0)
    losses = 200 * np.exp(-np.arange(n) / 2000) + 100 + rng.normal(0, 5, n)
    for start in range(0, n, 37):  # batches of records, as the worker sends them
        plot.add_steps(step_records(losses[start : start + 37], n, first=start + 1))

    series = plot.series
    np.testing.assert_array_equal(series["step"], np.arange(1, n + 1))
    np.testing.assert_allclose(series["total"], ema(losses))
    np.testing.assert_allclose(series["kl"], ema(0.2 * losses))

    for key in ("total", "recon", "kl"):
        x, y = plot.curves[key].getData()
        assert 1000 < len(x) <= 2001  # a few points per pixel column, not 9,000
        assert x[0] == 1 and x[-1] == n  # from the run's first step to its latest
        assert np.all(np.diff(x) > 0)
        # drawn on the log axis (the default): pyqtgraph takes log10 of the values
        np.testing.assert_allclose(y, np.log10(series[key][x.astype(int) - 1]))

    (x0, x1), (y0, y1) = plot.plotItem.vb.viewRange()
    assert x0 <= 0 and x1 >= n  # the whole run's steps
    assert 10**y0 <= series["kl"].min() and 10**y1 >= series["total"].max()

    plot.clear_run()
    assert len(plot.series["step"]) == 0 and len(plot.curves["total"].getData()[0]) == 0


def test_a_short_run_draws_every_step(qtbot):
    plot = LossCurves()
    qtbot.addWidget(plot)
    losses = np.linspace(300, 150, 120)
    plot.add_steps(step_records(losses[:50], 120))
    plot.add_steps(step_records(losses[50:], 120, first=51))
    x, y = plot.curves["recon"].getData()
    np.testing.assert_array_equal(x, np.arange(1, 121))
    np.testing.assert_allclose(10**y, ema(0.8 * losses))


def test_a_whole_epoch_at_once_is_all_in_view(qtbot):
    """A followed run's steps come an epoch at a time: the view spans all of them, its
    first steps' high loss too, not just where the epoch ended."""
    plot = LossCurves()
    qtbot.addWidget(plot)
    losses = np.r_[np.linspace(600, 120, 50), np.full(300, 110.0)]
    plot.add_steps(step_records(losses, 1000))
    (_, _), (y0, y1) = plot.plotItem.vb.viewRange()
    drawn = plot.series
    assert 10**y0 <= drawn["kl"].min() and 10**y1 >= drawn["total"].max()


def drawn_pixels(widget, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    """(rows, cols) of the widget's pixels close to `colour`."""
    rgb = rgba(widget.grab().toImage())[..., :3]
    return np.argwhere(np.abs(rgb - colour).max(axis=2) < tolerance)


def green_pixels(widget) -> int:
    """Pixels of (nearly) the validation colour #009E73 in the widget as drawn."""
    return len(drawn_pixels(widget, (0x00, 0x9E, 0x73)))


def shown_plot(qtbot, width: int, height: int) -> LossCurves:
    """A loss plot on screen at `width` x `height`, as in the window's loss panel."""
    plot = LossCurves()
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def test_the_legend_shows_the_validation_colour_before_and_after_an_epoch(qtbot):
    plot = shown_plot(qtbot, 420, 180)
    plot.add_steps(step_records(np.linspace(300, 150, 50), 100))
    before = green_pixels(plot)
    assert before > 10  # the legend's entry: no validation point yet
    epoch = step_records([140.0], 100, first=50)[0]
    epoch = dataclasses.replace(
        epoch,
        kind="epoch",
        val=Evaluation(elbo=-140.0, recon=120.0, kl=20.0, kl_per_dim=(), count=10),
    )
    plot.add_epoch(epoch)
    assert green_pixels(plot) > before  # the entry, and now a point on the plot


def test_the_log_axis_is_the_default_and_the_check_box_switches_it(qtbot):
    """A run from 3000 nats down to ~100: on the log axis its second half shows the
    reconstruction and KL curves well apart; on the linear axis, which must reach 3000,
    they are a few pixels apart at the bottom."""
    plot = shown_plot(qtbot, 420, 240)
    n = 400
    losses = 100 + 2900 * np.exp(-np.arange(n) / 20)
    records = step_records(losses, n)  # recon 0.8, KL 0.2 of the loss
    for start in range(0, n, 10):  # in batches, as the worker sends them
        plot.add_steps(records[start : start + 10])

    def gap_late() -> float:
        """Pixels between the reconstruction and KL curves over the run's second half,
        outside the legend."""
        plot.grab()
        left = plot.plotItem.vb.mapViewToDevice(pg.QtCore.QPointF(n / 2, 0)).x()
        legend = plot.mapFromScene(plot.plotItem.legend.sceneBoundingRect()).boundingRect()

        rgb = rgba(plot.grab().toImage())[..., :3].astype(int)
        r, b = rgb[..., 0], rgb[..., 2]

        def rows(mask: np.ndarray) -> list[int]:
            """Rows of the pixels in `mask` (antialiased lines: by hue, not exact colour)."""
            return [y for y, x in np.argwhere(mask) if x > left + 5 and not legend.contains(x, y)]

        kl, recon = rows(r - b > 80), rows(b - r > 80)  # #D55E00 and #0072B2
        return float(np.median(kl) - np.median(recon))

    assert plot.log_check.isChecked() and plot.log_check.isVisible()
    log_gap = gap_late()
    QTest.mouseClick(plot.log_check, Qt.MouseButton.LeftButton)
    assert not plot.log_check.isChecked()
    linear_gap = gap_late()
    assert log_gap > 25 and linear_gap < 8, (log_gap, linear_gap)


def test_a_new_run_keeps_the_previous_one_faint_and_named_in_the_legend(qtbot):
    plot = shown_plot(qtbot, 420, 220)
    first = np.linspace(400, 150, 100)
    plot.add_steps([dataclasses.replace(r, beta=4.0) for r in step_records(first, 100)])
    plot.clear_run()  # Train pressed again
    plot.add_steps(step_records(np.linspace(300, 120, 50), 100))

    x, y = plot.previous["total"].getData()
    np.testing.assert_array_equal(x, np.arange(1, 101))
    np.testing.assert_allclose(y, np.log10(ema(first)))
    legend = [label.text for _, label in plot.plotItem.legend.items]
    assert "previous run, β 4" in legend
    # faint: drawn lighter than the current run's total (#222)
    assert plot.previous["total"].opts["pen"].color().alpha() < 128

    plot.clear_run()  # a third run: only the second stays
    x, _ = plot.previous["total"].getData()
    assert len(x) == 50
    legend = [label.text for _, label in plot.plotItem.legend.items]
    assert [t for t in legend if t.startswith("previous run")] == ["previous run, β 1"]


def test_after_stop_the_plot_spans_the_steps_run(qtbot, window):
    """A 200-epoch run stopped after its first steps: the x axis spanned all the steps
    planned, and the curves were a sliver at its left edge. Stopped, the plot spans the
    steps that ran."""
    from tests.test_feedback import stop_mid_run

    stop_mid_run(qtbot, window)
    plot = window.panel.loss_plot
    ran = plot.series["step"][-1]
    (x0, x1), _ = plot.plotItem.vb.viewRange()
    assert x0 <= 1 and ran <= x1 <= 1.1 * ran
    x, _ = plot.curves["total"].getData()
    assert x[-1] == ran


def test_the_legend_has_its_own_row_above_the_curves(qtbot, window):
    """A β-TCVAE run after another, on the laptop screen: seven legend entries. Inside
    the plot they covered the middle of its low area, where the KL and TC curves run;
    above it, they cover none, and each is whole on screen."""
    from tests.test_layout import LAPTOP, shown

    shown(window, LAPTOP)
    plot = window.panel.loss_plot
    losses = np.linspace(400, 150, 100)
    plot.add_steps(step_records(losses, 100))
    plot.clear_run()  # Train pressed again, for a β-TCVAE
    plot.add_steps([dataclasses.replace(r, tc=4.0) for r in step_records(losses, 100)])
    settle(plot)
    names = [label.text for _, label in plot.legend.items]
    assert len(names) == 6 and "total correlation" in names  # loss … previous run, TC
    vb = plot.plotItem.vb.sceneBoundingRect()
    assert not plot.legend.sceneBoundingRect().intersects(vb)
    seen = plot.mapToScene(plot.viewport().rect()).boundingRect()
    for sample, label in plot.legend.items:
        for part in (sample, label):
            assert seen.contains(part.sceneBoundingRect()), label.text
        assert label.width() >= label.minimumWidth(), label.text  # not cut short
    assert vb.height() > 60  # the curves keep most of the plot


def axis_labels(plot) -> list[tuple[str, object]]:
    """The left axis's tick labels as it draws them: (text, rectangle) each."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        texts = plot.getAxis("left").generateDrawSpecs(painter)[2]
    finally:
        painter.end()
    return [(text, rect) for rect, _, text in texts if text]


@pytest.mark.parametrize("losses", [None, (60.0, 25.0)], ids=["empty", "within a decade"])
def test_the_log_axis_labels_never_run_into_one_another(qtbot, losses):
    """A low loss plot (a laptop's screen, a larger desktop font) on a log axis spanning
    less than a decade, as the empty plot's does: pyqtgraph labelled every tick between
    decades, 2 to 9, and they piled into one another."""
    plot = LossCurves()
    qtbot.addWidget(plot)
    plot.resize(340, 180)
    plot.show()
    qtbot.waitExposed(plot)
    if losses is not None:
        plot.add_steps(step_records(np.linspace(*losses, 100), 100))
    plot.grab()
    labels = axis_labels(plot)
    assert len(labels) >= 2  # still a scale to read
    for i, (text, rect) in enumerate(labels):
        for other, other_rect in labels[i + 1 :]:
            assert not rect.intersects(other_rect), (text, other)
