"""Files in the real window: open, save, export, drag and drop, settings between runs."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QMessageBox, QPushButton

from explorer.app import build_main_window
from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model
from tests.gui import hover


def close_dialogs(window) -> None:
    for box in window.findChildren(QMessageBox):
        box.close()


def test_corrupt_checkpoint_keeps_the_current_model(qtbot, window, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x80\x04not really a checkpoint")
    model, codes = window.session.model, window.session.codes
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.open_checkpoint(bad)
    assert "broken.safetensors" in shown.args[0] and "pickle" in shown.args[0]
    assert window.session.model is model and window.session.codes is codes
    close_dialogs(window)


def test_shape_mismatched_model_is_refused(qtbot, window, tmp_path):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

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
    assert "/data/mine.npz, its training data, is not there" in shown.args[0]
    assert window.session.model is model


def test_a_model_brings_its_own_dataset_file_when_it_is_there(qtbot, window, blobs, tmp_path):
    """A model trained on a file opens with that file, when the open data cannot do."""
    data_file = tmp_path / "blobs.npz"
    np.savez(data_file, images=blobs.images, labels=blobs.labels)
    from explorer.core.data import load_dataset

    dataset = load_dataset(str(data_file))
    path = tmp_path / "blobs-model.safetensors"
    model = build_model(ModelConfig(image_shape=(1, 8, 8), hidden=(8,)))
    save_checkpoint(path, Checkpoint(model=model, dataset=dataset.describe()))
    with qtbot.waitSignal(window.session.codesChanged, timeout=10_000):
        assert window.open_checkpoint(path)
    assert window.session.dataset.source == str(data_file)
    assert np.array_equal(window.session.dataset.images, blobs.images)
    assert window.session.codes.shape == (len(blobs), model.config.latent_dim)


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
    assert str(tmp_path / "my-images-idx3-ubyte.gz") in window.recent.files()


def test_save_and_reopen(qtbot, window, tmp_path):
    path = tmp_path / "saved model.safetensors"
    assert window.save_checkpoint(path)
    reloaded = load_checkpoint(path)
    a, b = window.session.model.state_dict(), reloaded.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert window.open_checkpoint(path)
    assert window.session.info.path == path and str(path) in window.recent.files()


def test_exports(qtbot, window, tmp_path):
    from PIL import Image

    hover(qtbot, window, QPoint(130, 170))
    assert window.export("image", tmp_path / "d.png") and window.export("plot", tmp_path / "p.png")
    img = np.asarray(Image.open(tmp_path / "d.png"))
    assert img.shape == (28 * 8, 28 * 8)
    expected = np.round(window.decoder_view.image * 255).astype(np.uint8)
    assert np.array_equal(img[::8, ::8], expected)
    assert Image.open(tmp_path / "p.png").size[0] > 200


def test_a_dataset_of_another_shape_can_get_a_new_model(qtbot, window, tmp_path):
    images = np.zeros((6, 12, 12), np.uint8)
    images[::2, :, :6] = 255  # two kinds of image, so a model has something to learn
    images[1::2, :, 6:] = 255
    np.save(tmp_path / "small.npy", images)
    with qtbot.waitSignal(window.errorShown, timeout=10_000):
        window.open_dataset(tmp_path / "small.npy")
    button = window.findChild(QPushButton, "newModelButton")
    with qtbot.waitSignal(window.session.codesChanged, timeout=10_000):
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    s = window.session
    assert s.dataset.name == "small" and tuple(s.model.config.image_shape) == (1, 12, 12)
    assert s.codes.shape == (6, window.panel.latent_spin.value())
    assert "untrained" in window.statusBar().model_label.text()
    window.panel.epochs_spin.setValue(1)
    with qtbot.waitSignal(window.trainer.finished, timeout=30_000) as done:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed"
    assert window.decoder_view.image.shape == (12, 12)


def test_start_up_with_a_dataset_of_another_shape(qtbot, settings, tmp_path):
    np.save(tmp_path / "faces.npy", np.zeros((4, 16, 16, 3), np.uint8))
    w = build_main_window(dataset=tmp_path / "faces.npy", settings=settings)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session.codes is not None and w.session.dataset.name == "faces")
    assert tuple(w.session.model.config.image_shape) == (3, 16, 16)
    assert w.decoder_view.image.shape == (16, 16, 3)
    w.shutdown()


def test_opening_is_refused_while_training(qtbot, window, tiny_checkpoint):
    window.panel.epochs_spin.setValue(200)
    with qtbot.waitSignal(window.panel.progress.valueChanged, timeout=30_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert "training on cpu" in window.statusBar().device_label.text()
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.open_checkpoint(tiny_checkpoint)
    assert "stop it" in shown.args[0]
    with qtbot.waitSignal(window.errorShown):
        assert window.open_dataset("digits") is None
    with qtbot.waitSignal(window.trainer.runningChanged, timeout=10_000):
        window.trainer.stop()
    assert "trains on cpu" in window.statusBar().device_label.text()
    close_dialogs(window)


def drop(window, path) -> None:
    """Drag `path` from a file manager and drop it on the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    at = QPointF(window.width() / 2, window.height() / 2)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        at.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(
        window,
        QDropEvent(at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
    )


def test_drag_and_drop_a_model_and_a_dataset(qtbot, window, tmp_path):
    path = tmp_path / "z3 model.safetensors"
    model = build_model(ModelConfig(latent_dim=3, hidden=(16,)))
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    drop(window, path)
    assert window.session.info.path == path and window.session.latent_dim == 3
    images = (np.random.default_rng(1).random((30, 28, 28)) * 255).astype(np.uint8)
    np.savez(tmp_path / "mine.npz", x=images, y=np.arange(30) % 3)
    drop(window, tmp_path / "mine.npz")
    qtbot.waitUntil(
        lambda: window.session.dataset.name == "mine" and window.session.codes is not None,
        timeout=10_000,
    )
    assert window.session.codes.shape == (30, 3)


def test_settings_persist_between_runs(qtbot, tiny_checkpoint, settings, monkeypatch):
    first = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.panel.epochs_spin.setValue(7)
    first.panel.lr_spin.setValue(0.004)
    first.panel.batch_spin.setValue(64)
    dock = first.findChild(QDockWidget, "trainingDock")
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)  # the user moved it
    first.close()
    second = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    p = second.panel
    assert (p.epochs_spin.value(), p.lr_spin.value(), p.batch_spin.value()) == (7, 0.004, 64)
    dock = second.findChild(QDockWidget, "trainingDock")
    assert second.dockWidgetArea(dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    second.shutdown()


def test_file_open_dialogs(qtbot, window, tiny_checkpoint, tmp_path, monkeypatch):
    """File ▸ Open checkpoint opens what was chosen as a checkpoint, whatever its name."""
    from PySide6.QtWidgets import QFileDialog

    odd = tmp_path / "model.bin"
    odd.write_bytes(tiny_checkpoint.read_bytes())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(odd), ""))
    model = window.session.model
    window.opener.ask_open("checkpoint")
    assert window.session.model is not model and window.session.info.path == odd
    np.save(tmp_path / "more.npy", window.session.dataset.images[:40])
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "more.npy"), "")
    )
    window.opener.ask_open("dataset")
    # (the model opened above may still be encoding the old data: wait for the new codes)
    s = window.session
    qtbot.waitUntil(
        lambda: s.dataset.name == "more" and s.codes is not None and len(s.codes) == 40,
        timeout=10_000,
    )
    assert window.recent.last_dir() == str(tmp_path)
