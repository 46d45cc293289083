"""A model shown over other data than it was trained on says so, above the plot, naming
both; the notice goes when they match again."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QLabel

from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import Dataset, make_digits
from explorer.core.provenance import other_data
from tests.gui import pick


def test_the_same_data_is_known_by_name_and_kind_not_by_path_or_count():
    digits = make_digits(30, seed=0)
    assert other_data(make_digits(500, seed=1).describe(), digits) is None
    assert other_data({}, digits) is None  # unknown: nothing to say

    trained = Dataset(images=np.zeros((5, 28, 28), np.uint8), name="mnist", source="/gpu/mnist.npz")
    here = Dataset(images=np.zeros((9, 28, 28), np.uint8), name="mnist", source="/home/mnist.npz")
    assert other_data(trained.describe(), here) is None  # copied to another machine

    message = other_data(trained.describe(), digits)
    assert "mnist.npz (5 images, 28×28)" in message and "digits (30 images, 28×28)" in message
    named_digits = Dataset(images=np.zeros((9, 28, 28), np.uint8), name="digits", source="/d")
    assert other_data(digits.describe(), named_digits) is not None  # a file, not the built-in


def test_opening_other_data_shows_a_notice_that_training_on_it_takes_away(
    qtbot, window, tmp_path, monkeypatch
):
    banner = window.findChild(QLabel, "dataMismatch")
    assert not banner.isVisible()  # the tiny model over the digits it was trained on
    path = tmp_path / "letters.npy"
    np.save(path, np.random.default_rng(0).integers(0, 255, (300, 28, 28), dtype=np.uint8))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        pick(window, ("&File", "Open &dataset…")).trigger()
    assert banner.isVisible()
    assert "digits (256 images, 28×28)" in banner.text()
    assert "letters.npy (300 images, 28×28)" in banner.text()
    plot = window.latent_view
    assert banner.geometry().bottom() <= plot.geometry().top()  # above the plot, not over it

    # saved now, the checkpoint still names the data the model was trained on
    saved = tmp_path / "saved.safetensors"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    pick(window, ("&File", "&Save checkpoint as…")).trigger()
    qtbot.waitUntil(saved.exists, timeout=10_000)
    assert load_checkpoint(saved).dataset["name"] == "digits"

    window.panel.epochs_spin.setValue(1)
    window.panel.batch_spin.setValue(64)
    with qtbot.waitSignal(window.trainer.finished, timeout=60_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.isVisible())
