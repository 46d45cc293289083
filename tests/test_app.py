"""The real main window, driven as a user drives it (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QSlider, QStyle, QStyleOptionSlider

from explorer.app import build_main_window
from explorer.core.checkpoint import load_checkpoint
from explorer.ui.sliders import to_value


@pytest.fixture
def window(qtbot, tiny_checkpoint, settings, monkeypatch):
    w = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    # Closing with an unsaved model asks; tests answer "discard".
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    yield w
    w.shutdown()


def expected_image(w, z) -> np.ndarray:
    with torch.inference_mode():
        return w.session.model.decode(torch.as_tensor(z, dtype=torch.float32)[None])[0, 0].numpy()


def hover(qtbot, w, pos: QPoint) -> None:
    with qtbot.waitSignal(w.latent_view.hoverDecoded, timeout=5000):
        QTest.mouseMove(w.latent_view.viewport(), pos)


def test_hover_decodes_the_point_under_the_cursor(qtbot, window):
    view = window.latent_view
    images = []
    for pos in (QPoint(120, 140), QPoint(view.viewport().width() - 90, 60)):
        hover(qtbot, window, pos)
        point = view.plane_point(pos.toPointF())
        # A 2-D model: the plot is the latent space, so z is the point under the cursor.
        assert np.allclose(window.session.z, point, atol=1e-9)
        assert np.allclose(window.decoder_view.image, expected_image(window, point), atol=1e-6)
        assert np.array_equal(window.decoder_view.item.image, window.decoder_view.image)
        images.append(window.decoder_view.image.copy())
    assert np.abs(images[0] - images[1]).max() > 0.1  # different points, different digits


def test_the_last_position_of_a_burst_is_decoded(qtbot, window):
    """After a fast flick the image ends where the cursor ended, not on a dropped move."""
    vp = window.latent_view.viewport()
    for x in range(40, 300, 2):
        QTest.mouseMove(vp, QPoint(x, 100))
    end = window.latent_view.plane_point(QPoint(298, 100).toPointF())
    qtbot.waitUntil(lambda: np.allclose(window.session.z, end), timeout=5000)
    assert np.allclose(window.decoder_view.image, expected_image(window, end), atol=1e-6)


def test_click_pins_and_escape_releases(qtbot, window):
    view = window.latent_view
    vp = view.viewport()
    hover(qtbot, window, QPoint(150, 150))
    with qtbot.waitSignal(window.session.pinnedChanged, timeout=5000):
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(150, 150))
    pinned_z = window.session.z.copy()
    assert window.session.pinned
    QTest.mouseMove(vp, QPoint(60, 60))
    qtbot.wait(50)  # let any (wrongly) queued hover run
    assert np.array_equal(window.session.z, pinned_z)
    # Arrow keys nudge the pinned code.
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert window.session.z[0] > pinned_z[0]
    with qtbot.waitSignal(window.session.pinnedChanged, timeout=5000):
        QTest.keyClick(view, Qt.Key.Key_Escape)
    assert not window.session.pinned
    hover(qtbot, window, QPoint(200, 90))
    assert not np.array_equal(window.session.z, pinned_z)


def drag_slider(slider: QSlider, fraction: float) -> None:
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    style = slider.style()
    handle = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider
    )
    groove = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider
    )
    start = handle.center()
    end = QPoint(groove.left() + int(fraction * groove.width()), start.y())
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        QTest.mouseMove(slider, start + (end - start) * i / 5)
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=end)


def test_dragging_a_slider_moves_image_and_marker(qtbot, window):
    slider = window.findChild(QSlider, "latentSlider1")
    assert window.findChild(QSlider, "latentSlider0") is not None
    before = window.decoder_view.image.copy()
    drag_slider(slider, 0.9)
    z = window.session.z
    assert z[1] == pytest.approx(to_value(slider.value())) and z[1] > 1.5
    assert np.allclose(window.decoder_view.image, expected_image(window, z), atol=1e-6)
    assert np.abs(window.decoder_view.image - before).max() > 0.05
    mx, my = window.latent_view.marker.getData()
    assert (mx[0], my[0]) == pytest.approx(tuple(window.session.plane.to_plane(z)))


def test_sliders_follow_the_cursor(qtbot, window):
    hover(qtbot, window, QPoint(100, 100))
    for i in range(2):
        slider = window.findChild(QSlider, f"latentSlider{i}")
        if abs(window.session.z[i]) < 3:
            assert to_value(slider.value()) == pytest.approx(window.session.z[i], abs=0.006)


def test_train_with_a_new_beta(qtbot, window):
    old_model = window.session.model
    window.findChild(type(window.panel.beta_spin), "betaSpin").setValue(4.0)
    window.panel.epochs_spin.setValue(1)
    window.panel.batch_spin.setValue(32)
    with qtbot.waitSignal(window.trainer.finished, timeout=60_000) as done:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed"
    steps, losses = window.panel.curves["total"].getData()
    assert steps is not None and len(steps) > 0 and np.isfinite(losses).all()
    assert window.session.model is not old_model
    assert window.session.info.train_config.beta == 4.0 and window.session.info.unsaved
    assert len(window.session.codes) == len(window.session.dataset)
    assert "β = 4" in window.panel.summary.text()
    qtbot.waitUntil(lambda: window.panel.train_button.isEnabled())


def test_stop_mid_training(qtbot, window):
    window.panel.epochs_spin.setValue(200)
    window.panel.batch_spin.setValue(16)
    with qtbot.waitSignal(window.panel.progress.valueChanged, timeout=30_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.trainer.finished, timeout=10_000) as done:
        QTest.mouseClick(window.panel.stop_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "stopped" and done.args[0].step < done.args[0].steps_total
    qtbot.waitUntil(lambda: not window.trainer.running)
    assert window.panel.train_button.isEnabled() and not window.panel.stop_button.isEnabled()


def test_close_mid_training(qtbot, window, qtlog):
    window.panel.epochs_spin.setValue(200)
    with qtbot.waitSignal(window.panel.progress.valueChanged, timeout=30_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    thread = window.trainer.thread
    assert window.close()
    assert thread.isFinished()
    assert not [r for r in qtlog.records if "QThread" in r.message]


def test_corrupt_checkpoint_keeps_the_current_model(qtbot, window, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x80\x04not really a checkpoint")
    model, codes = window.session.model, window.session.codes
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.open_checkpoint(bad)
    assert "broken.safetensors" in shown.args[0] and "pickle" in shown.args[0]
    assert window.session.model is model and window.session.codes is codes
    for box in window.findChildren(QMessageBox):
        box.close()


def test_shape_mismatched_model_is_refused(qtbot, window, tmp_path):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.model import build_model

    path = tmp_path / "small.safetensors"
    save_checkpoint(
        path,
        Checkpoint(
            model=build_model(ModelConfig(image_shape=(1, 8, 8), hidden=(8,))),
            dataset={"name": "mine", "source": "/data/mine.npz"},
        ),
    )
    model = window.session.model
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.open_checkpoint(path)
    assert "expects images of shape (1, 8, 8)" in shown.args[0] and "(1, 28, 28)" in shown.args[0]
    assert window.session.model is model


def test_shape_mismatched_dataset_is_refused(qtbot, window, tmp_path):
    np.save(tmp_path / "small.npy", np.zeros((5, 12, 12), np.uint8))
    dataset = window.session.dataset
    with qtbot.waitSignal(window.errorShown, timeout=10_000) as shown:
        window.open_dataset(tmp_path / "small.npy")
    assert "small.npy" in shown.args[0] and "(1, 12, 12)" in shown.args[0]
    assert window.session.dataset is dataset


def test_corrupt_dataset_reports_the_file(qtbot, window, tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00 truncated")
    with qtbot.waitSignal(window.errorShown, timeout=10_000) as shown:
        window.open_dataset(bad)
    assert "t10k-images-idx3-ubyte.gz" in shown.args[0]


def test_open_a_real_idx_dataset(qtbot, window, tmp_path):
    from tests.idx_writer import write_idx

    images = (np.random.default_rng(0).random((40, 28, 28)) * 255).astype(np.uint8)
    write_idx(tmp_path / "my-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "my-labels-idx1-ubyte.gz", (np.arange(40) % 10).astype(np.uint8))
    window.open_dataset(tmp_path / "my-images-idx3-ubyte.gz")
    qtbot.waitUntil(
        lambda: (
            window.session.dataset.name == "my"
            and window.session.codes is not None
            and len(window.session.codes) == 40
        ),
        timeout=10_000,
    )
    assert str(tmp_path / "my-images-idx3-ubyte.gz") in window.recent_files()


def test_save_and_reopen(qtbot, window, tmp_path):
    path = tmp_path / "saved model.safetensors"
    assert window.save_checkpoint(path)
    reloaded = load_checkpoint(path)
    a, b = window.session.model.state_dict(), reloaded.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert window.open_checkpoint(path)
    assert window.session.info.path == path and str(path) in window.recent_files()


def test_exports(qtbot, window, tmp_path):
    from PIL import Image

    hover(qtbot, window, QPoint(130, 170))
    assert window.export("image", tmp_path / "d.png") and window.export("plot", tmp_path / "p.png")
    img = np.asarray(Image.open(tmp_path / "d.png"))
    assert img.shape == (28 * 8, 28 * 8)
    expected = np.round(window.decoder_view.image * 255).astype(np.uint8)
    assert np.array_equal(img[::8, ::8], expected)
    assert Image.open(tmp_path / "p.png").size[0] > 200


def test_plane_selector_for_a_four_dimensional_model(qtbot, window, tmp_path):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.model import build_model

    path = tmp_path / "z4.safetensors"
    model = build_model(ModelConfig(latent_dim=4, hidden=(16,)))
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    assert window.open_checkpoint(path)
    qtbot.waitUntil(lambda: window.session.codes is not None, timeout=10_000)
    assert window.session.plane.kind == "pca"  # the default for more than 2 dimensions
    assert window.findChildren(QSlider, "latentSlider3")
    bar = window.plane_bar
    bar.plane_combo.setCurrentIndex(1)
    bar.x_spin.setValue(2)
    bar.y_spin.setValue(3)
    assert window.session.plane.axis_labels == ("z2", "z3")
    z_before = window.session.z.copy()
    hover(qtbot, window, QPoint(140, 120))
    z = window.session.z
    assert np.array_equal(z[:2], z_before[:2])  # off-plane coordinates keep their values
    assert np.allclose(z[2:], window.latent_view.plane_point(QPoint(140, 120).toPointF()))
