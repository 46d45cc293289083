"""The model kinds in the app: choose one in the training panel, train it, explore it."""

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.checkpoint import load_checkpoint
from explorer.core.config import KINDS
from explorer.core.data import Dataset
from tests.gui import expected_image, hover, shown_pixels, train


def choose_kind(w, kind: str) -> None:
    w.panel.kind_combo.setCurrentIndex(KINDS.index(kind))


def row_shown(w, widget) -> bool:
    return not widget.isHidden()


def test_an_autoencoder_trains_and_decodes_under_the_cursor(qtbot, window):
    choose_kind(window, "ae")
    assert not row_shown(window, window.panel.beta_spin)  # β does not apply
    assert row_shown(window, window.panel.corrupt_combo)
    final = train(qtbot, window)
    assert final.status == "completed" and window.session.model.kind == "ae"
    assert "Autoencoder" in window.windowTitle()
    qtbot.waitUntil(lambda: window.session.codes is not None)
    hover(qtbot, window, QPoint(150, 120))
    expected = expected_image(window, window.session.z)
    assert np.array_equal(shown_pixels(window.decoder_view), np.round(255 * expected))
    assert "No KL" in window.kl_view.units.summary.text()  # its units are shown instead
    assert "no KL: a deterministic model" in window.panel.summary.text()


def test_pca_is_fitted_at_once_and_explored_like_any_model(qtbot, window, tmp_path):
    choose_kind(window, "pca")
    assert not row_shown(window, window.panel.epochs_spin)  # nothing to iterate
    assert not row_shown(window, window.panel.corrupt_combo)
    final = train(qtbot, window)
    assert final.status == "completed" and window.session.model.kind == "pca"
    qtbot.waitUntil(lambda: window.session.codes is not None)
    codes = window.session.codes
    np.testing.assert_allclose(codes.std(0), 1.0, atol=0.1)  # whitened codes
    hover(qtbot, window, QPoint(100, 100))
    expected = expected_image(window, window.session.z)
    assert np.allclose(window.decoder_view.image, expected, atol=1e-6)
    assert " · pca · latent 2" in window.statusBar().model_label.text()
    # saved like any model of ours, and reopened as PCA
    assert window.saver.save(tmp_path / "pca.safetensors")
    reopened = load_checkpoint(tmp_path / "pca.safetensors").model
    z = torch.as_tensor(window.session.z, dtype=torch.float32)[None]
    with torch.inference_mode():
        assert reopened.kind == "pca"
        assert torch.equal(reopened.decode(z), window.session.model.decode(z))


def test_a_cvae_explores_the_style_of_the_chosen_class(qtbot, window):
    tabs = window.findChild(QTabWidget, "insightTabs")
    grid_tab = tabs.indexOf(window.class_grid)
    assert window.class_bar.isHidden() and not tabs.isTabVisible(grid_tab)  # a VAE: no classes
    choose_kind(window, "cvae")
    final = train(qtbot, window, epochs=2)
    assert final.status == "completed" and window.session.model.conditional
    assert not window.class_bar.isHidden() and tabs.isTabVisible(grid_tab)
    combo = window.class_bar.combo
    assert [combo.itemText(i) for i in range(combo.count())] == [str(i) for i in range(10)]
    window.session.set_pinned(True, np.array([0.3, -0.2]))
    before = window.decoder_view.image.copy()
    combo.setCurrentIndex(3)
    z = torch.as_tensor(window.session.z, dtype=torch.float32)[None]
    with torch.inference_mode():
        as_three = window.session.model.decode(z, torch.tensor([3]))[0, 0].numpy()
    assert np.allclose(window.decoder_view.image, as_three, atol=1e-6)
    assert np.abs(window.decoder_view.image - before).max() > 0.05  # same code, other class

    # "All classes": the grid shows the same code as every class
    QTest.mouseClick(window.class_bar.grid_button, Qt.MouseButton.LeftButton)
    grid = window.class_grid
    assert tabs.currentWidget() is grid
    qtbot.waitUntil(lambda: grid.picture is not None, timeout=10_000)
    with torch.inference_mode():
        every = window.session.model.decode(z.expand(10, 2), torch.arange(10))[:, 0].numpy()
    for c in range(10):
        cell = grid.picture[:28, c * 29 : c * 29 + 28, 0]
        assert np.allclose(cell, every[c], atol=1e-6)
    # clicking a cell selects that class
    centre = grid.canvas.view.mapViewToScene(QPoint(7 * 29 + 14, 14).toPointF())
    assert grid.class_at(centre) == 7
    grid.canvas.grab()
    QTest.mouseClick(
        grid.canvas.viewport(),
        Qt.MouseButton.LeftButton,
        pos=grid.canvas.mapFromScene(centre),
    )
    qtbot.waitUntil(lambda: combo.currentIndex() == 7, timeout=5000)
    assert window.session.model.condition == 7


def test_a_cvae_needs_labelled_data(qtbot, window):
    data = window.session.dataset
    window.session.set_dataset(Dataset(images=data.images, name="unlabelled"))
    choose_kind(window, "cvae")
    with qtbot.waitSignal(window.errorShown, timeout=5000) as shown:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert "unlabelled: a conditional VAE needs the class of every image" in shown.args[0]
    assert not window.trainer.running


def test_a_batch_too_large_for_memory_is_refused_before_training(qtbot, window, monkeypatch):
    """A batch size in the spin box's range that, through the conv network, needs more
    memory than the machine has (a 16 MB one here): one message naming the batch size,
    nothing trained, the model on screen unchanged."""
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 4 << 20)
    model = window.session.model
    QTest.keyClicks(window.panel.arch_combo, "conv")
    window.panel.batch_spin.setValue(window.panel.batch_spin.maximum())
    with qtbot.waitSignal(window.errorShown, timeout=5000) as shown:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert (
        shown.args[0].startswith("batch size ") and "use a batch size of at most" in shown.args[0]
    )
    assert not window.trainer.running and window.session.model is model


def test_the_broadcast_network_is_chosen_trained_and_decoded_under_the_cursor(qtbot, window):
    QTest.keyClicks(window.panel.arch_combo, "broadcast")
    assert window.panel.arch_combo.currentText() == "broadcast"
    final = train(qtbot, window)
    assert final.status == "completed"
    assert window.session.model.config.architecture == "broadcast"
    qtbot.waitUntil(lambda: window.session.codes is not None)
    hover(qtbot, window, QPoint(150, 120))
    expected = expected_image(window, window.session.z)
    assert np.array_equal(shown_pixels(window.decoder_view), np.round(255 * expected))
