"""Helpers for driving the real window in GUI tests."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest


def pick(window, path: tuple[str, ...]) -> QAction:
    """Open the menus on `path` as a user does (each updates itself as it opens), and
    return the command at its end, the menus closed again as Qt closes them on a click."""
    actions, opened = window.menuBar().actions(), []
    for text in path:
        action = next((a for a in actions if a.text() == text), None)
        assert action is not None, f"{plain(path)}: no longer in the menus"
        if action.menu() is not None:
            action.menu().popup(window.mapToGlobal(window.rect().center()))
            opened.append(action.menu())
            actions = action.menu().actions()
    for menu in reversed(opened):
        menu.close()
    return action


def plain(path: tuple[str, ...]) -> str:
    """'File ▸ Export ▸ Decoded image… (PNG)': the path as the user reads it."""
    return " ▸ ".join(t.replace("&", "") for t in path)


def expected_image(w, z) -> np.ndarray:
    with torch.inference_mode():
        return w.session.model.decode(torch.as_tensor(z, dtype=torch.float32)[None])[0, 0].numpy()


def hover(qtbot, w, pos: QPoint) -> None:
    with qtbot.waitSignal(w.latent_view.hoverDecoded, timeout=5000):
        QTest.mouseMove(w.latent_view.viewport(), pos)


def train(qtbot, w, epochs: int = 1):
    """Press Train for `epochs` epochs; the final progress record once the worker is gone."""
    from PySide6.QtCore import Qt

    w.panel.epochs_spin.setValue(epochs)
    w.panel.batch_spin.setValue(32)
    with qtbot.waitSignal(w.trainer.finished, timeout=60_000) as done:
        QTest.mouseClick(w.panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.trainer.running)
    return done.args[0]


def rgba(image) -> np.ndarray:
    """A QImage's pixels as an (H, W, 4) array of r, g, b, a (0..255)."""
    w, h = image.width(), image.height()
    return np.array([[image.pixelColor(x, y).getRgb() for x in range(w)] for y in range(h)])


def shown_pixels(view) -> np.ndarray:
    """The decoded image as the widget shows it on screen: (H, W) grey levels 0..255,
    read from the centre of each enlarged pixel of a grab of the widget."""
    h, w = view.pixels.shape[:2]
    rect = view.image_rect()
    grabbed = view.grab().toImage()
    ratio = grabbed.width() / view.width()  # device pixels per widget pixel
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            x = (rect.left() + (j + 0.5) * rect.width() / w) * ratio
            y = (rect.top() + (i + 0.5) * rect.height() / h) * ratio
            out[i, j] = grabbed.pixelColor(int(x), int(y)).red()
    return out
