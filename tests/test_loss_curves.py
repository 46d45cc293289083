"""The live loss curves (`lossPlot`) over a long run: every step is kept, a bounded number
is drawn, and what is drawn is the smoothed losses from the run's first step to its last."""

from __future__ import annotations

import dataclasses

import numpy as np

from explorer.core.metrics import Evaluation
from explorer.core.training import Progress
from explorer.ui.loss_curves import LossCurves
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
        np.testing.assert_array_equal(y, series[key][x.astype(int) - 1])

    (x0, x1), (y0, y1) = plot.plotItem.vb.viewRange()
    assert x0 <= 0 and x1 >= n  # the whole run's steps
    assert y0 <= series["kl"].min() and y1 >= series["total"].max()

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
    np.testing.assert_allclose(y, ema(0.8 * losses))


def green_pixels(widget) -> int:
    """Pixels of (nearly) the validation colour #009E73 in the widget as drawn."""
    rgb = rgba(widget.grab().toImage())[..., :3]
    return int((np.abs(rgb - (0x00, 0x9E, 0x73)).max(axis=2) < 40).sum())


def test_the_legend_shows_the_validation_colour_before_and_after_an_epoch(qtbot):
    plot = LossCurves()
    qtbot.addWidget(plot)
    plot.resize(420, 180)
    plot.show()
    qtbot.waitExposed(plot)
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
