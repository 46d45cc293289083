"""A model without a prior in the window: its sliders and traversals span where its codes
lie (core/code_spans.py), not the prior's ±3, and it samples the Gaussian fitted to its
codes where a prior would be sampled."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog, QPushButton, QSlider

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.figures import decode_images, traversal_codes
from explorer.core.kinds import build_model
from explorer.core.training import train
from explorer.ui.sliders import signed
from tests.gui import pick
from tests.test_insight import show_tab


@pytest.fixture
def sparse_checkpoint(tiny_digits, tmp_path):
    """A sparse KL autoencoder: sigmoid code units, every code in (0, 1)."""
    model = build_model(ModelConfig(kind="sparseae-kl", latent_dim=3, hidden=(32,)), seed=0)
    cfg = TrainConfig(epochs=1, batch_size=32, lr=3e-3)
    for _ in train(model, tiny_digits, cfg):
        pass
    path = tmp_path / "sparse.safetensors"
    save_checkpoint(path, Checkpoint(model, cfg, tiny_digits.describe()))
    return path


def open_checkpoint(qtbot, window, path, monkeypatch) -> None:
    """File ▸ Open checkpoint…, answering its dialog with `path`; until its codes are in."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        pick(window, ("&File", "&Open checkpoint…")).trigger()


def test_sliders_and_traversals_span_a_sparse_codes_unit_interval(
    qtbot, window, sparse_checkpoint, monkeypatch, tmp_path
):
    s, sliders = window.session, window.sliders
    sample = window.findChild(QPushButton, "samplePriorButton")
    assert sample.text() == "Sample prior"  # the digits VAE's
    open_checkpoint(qtbot, window, sparse_checkpoint, monkeypatch)
    assert s.model.kind == "sparseae-kl"
    codes = s.codes
    # no prior to draw from: the Gaussian fitted to its codes instead
    assert sample.text() == "Sample fit"
    before = s.z.copy()
    QTest.mouseClick(sample, Qt.MouseButton.LeftButton)
    assert not np.array_equal(s.z, before)
    assert (np.abs(s.z - codes.mean(0)) < 6 * codes.std(0) + 1e-3).all()  # not N(0, I)'s
    for i in range(3):
        slider = window.findChild(QSlider, f"latentSlider{i}")
        QTest.keyClick(slider, Qt.Key.Key_End)  # the slider's far end, as a user gets it
        high = s.z[i]
        low, top = np.percentile(codes[:, i], [0.5, 99.5])  # where the codes lie
        assert top < high < 1.2  # past nearly all of the data's codes, not on to 3
        assert sliders.readouts[i].text() == signed(high)
        QTest.keyClick(slider, Qt.Key.Key_Home)
        assert -0.2 < s.z[i] < low
    # a data point's code shows on the sliders as it is, anywhere in the span
    QTest.mouseClick(window.findChild(QPushButton, "dataPointButton"), Qt.MouseButton.LeftButton)
    assert any(np.array_equal(s.z, c) for c in codes.astype(float))
    for i, slider in enumerate(sliders.sliders):
        low, high = s.spans[i]
        assert slider.value() == round((s.z[i] - low) / (high - low) * slider.maximum())

    view = window.traversal_view
    show_tab(window, 0)
    assert not view.range_spin.isEnabled()
    qtbot.waitUntil(lambda: view.result is not None and np.array_equal(view.result.z, s.z))
    rows = view.result.dims
    swept = np.linspace(s.spans[rows, 0], s.spans[rows, 1], view.steps_spin.value(), axis=1)
    expected = decode_images(s.model, traversal_codes(s.z, rows, swept))
    np.testing.assert_allclose(view.result.frames, expected, atol=1e-6)
    assert "span of the data's codes" in view.note.text()
    # exported, each row is labelled with its own span
    assert window.export("traversals", tmp_path / "traversals.png")
    h, w = view.result.picture.shape[:2]
    width, height = Image.open(tmp_path / "traversals.png").size
    assert width > 4 * w and height > 4 * h  # the grid and its labels (test_export_labels)
