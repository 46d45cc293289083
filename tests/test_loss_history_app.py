"""A model trained elsewhere (a GPU box, the CLI) and opened from its file: the loss plot
draws the training history its checkpoint records, per epoch, until a run starts here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import make_digits
from explorer.core.history import epoch_of, extend
from explorer.core.kinds import build_model
from explorer.core.training import train
from tests.conftest import settle
from tests.gui import pick


@pytest.fixture(scope="module")
def trained_elsewhere(tmp_path_factory):
    """A digits model trained 3 epochs by the core loop, its history kept as the CLI does."""
    data = make_digits(256, seed=1)
    model = build_model(ModelConfig(latent_dim=2, hidden=(32,)))
    cfg = TrainConfig(epochs=3, batch_size=64, lr=3e-3)
    history: list = []
    for p in train(model, data, cfg):
        history = extend(history, epoch_of(p))
    path = tmp_path_factory.mktemp("elsewhere") / "gpu-box.safetensors"
    ckpt = Checkpoint(model=model, train_config=cfg, dataset=data.describe(), history=history)
    save_checkpoint(path, ckpt)
    return path, history


def open_from_menu(qtbot, window, path, monkeypatch) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.session.modelChanged, timeout=20_000):
        pick(window, ("&File", "&Open checkpoint…")).trigger()
    settle(window.panel.loss_plot)


def test_an_opened_model_shows_its_recorded_training(qtbot, window, trained_elsewhere, monkeypatch):
    path, history = trained_elsewhere
    plot = window.panel.loss_plot
    open_from_menu(qtbot, window, path, monkeypatch)

    assert plot.getAxis("bottom").labelText == "epoch"
    assert "3 epochs" in plot.plotItem.titleLabel.text and "epoch" in plot.toolTip()
    x, y = plot.curves["val"].getData()  # the validation −ELBO of each epoch, drawn
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(10**y, [e.val_loss for e in history], rtol=1e-6)
    x, y = plot.curves["total"].getData()
    np.testing.assert_allclose(10**y, [e.loss for e in history], rtol=1e-6)
    (x0, x1), (y0, y1) = plot.plotItem.vb.viewRange()  # every point inside the view
    assert x0 <= 1 and x1 >= 3
    drawn = [math.log10(v) for e in history for v in (e.loss, e.val_recon, e.val_kl)]
    assert y0 <= min(drawn) and y1 >= max(drawn)

    plot.log_check.click()  # the linear axis draws the same history
    _, y = plot.curves["val"].getData()
    np.testing.assert_allclose(y, [e.val_loss for e in history], rtol=1e-6)


def test_training_here_returns_the_plot_to_steps(qtbot, window, trained_elsewhere, monkeypatch):
    path, _ = trained_elsewhere
    plot = window.panel.loss_plot
    open_from_menu(qtbot, window, path, monkeypatch)
    window.panel.epochs_spin.setValue(1)
    window.panel.batch_spin.setValue(64)
    with qtbot.waitSignal(window.trainer.finished, timeout=60_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.trainer.running)

    assert plot.getAxis("bottom").labelText == "step"
    x, _ = plot.curves["total"].getData()
    assert len(x) > 0 and x[0] == 1  # this run's steps, not the opened model's epochs
    assert list(plot.curves["val"].getData()[0]) == [x[-1]]  # one epoch's validation
    # the model the run made is drawn live: it does not switch to its recorded history
    assert window.session.info.live and len(window.session.info.history) == 1
    assert plot.getAxis("bottom").labelText == "step"


def test_a_model_with_no_recorded_history_leaves_the_plot_as_it_was(
    qtbot, window, tiny_checkpoint, monkeypatch
):
    plot = window.panel.loss_plot
    before = plot.plotItem.titleLabel.text
    open_from_menu(qtbot, window, tiny_checkpoint, monkeypatch)
    assert plot.getAxis("bottom").labelText == "step"
    assert plot.plotItem.titleLabel.text == before


def test_a_run_s_curves_leave_with_its_model(qtbot, window, tiny_checkpoint, monkeypatch):
    """Train here, then open a model with no recorded training: the run's curves no longer
    stand beside the other model's summary as if they were its own (they were left there)."""
    plot = window.panel.loss_plot
    window.panel.epochs_spin.setValue(1)
    window.panel.batch_spin.setValue(64)
    with qtbot.waitSignal(window.trainer.finished, timeout=60_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.trainer.running)
    assert len(plot.curves["total"].getData()[0]) > 0

    open_from_menu(qtbot, window, tiny_checkpoint, monkeypatch)
    assert len(plot.curves["total"].getData()[0]) == 0
    assert plot.plotItem.titleLabel.text.startswith("Press Train")
