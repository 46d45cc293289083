"""Decoded images (NumPy floats) as QImages, for the views that draw them with QPainter."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def to_qimage(image: np.ndarray) -> tuple[QImage, np.ndarray]:
    """(H, W) or (H, W, C) floats in [0, 1] -> a QImage to draw and the uint8 pixels it
    shows.

    The QImage is 32-bit (RGB32, or premultiplied ARGB for images with alpha): Qt's
    raster engine enlarges those on its fast paths; 8-bit grey or 24-bit RGB take a
    several times slower path, a visible share of what a cursor move waits for before
    the new image is on screen (`scripts/bench_ui.py --only hover`).
    """
    pixels = np.ascontiguousarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8))
    h, w = pixels.shape[:2]
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        return to_qimage(image[..., 0])
    if pixels.ndim == 2:
        wrapped = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8)
    elif pixels.shape[2] == 3:
        wrapped = QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        wrapped = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    opaque = pixels.ndim == 2 or pixels.shape[2] == 3
    fast = QImage.Format.Format_RGB32 if opaque else QImage.Format.Format_ARGB32_Premultiplied
    return wrapped.convertToFormat(fast), pixels  # a copy: `pixels` may be dropped
