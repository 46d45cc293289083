"""What the decoded-image view draws: every pixel at its value, in any channel layout."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.ui.qimage import to_qimage
from tests.gui import rgba


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1), (16, 12, 3), (9, 7, 4)])
def test_the_drawn_image_holds_every_pixel_at_its_value(shape):
    image = np.random.default_rng(0).random(shape, dtype=np.float32)
    qimage, pixels = to_qimage(image)
    h, w = shape[:2]
    assert (qimage.width(), qimage.height()) == (w, h)
    assert np.array_equal(pixels, np.round(255 * image).astype(np.uint8).reshape(pixels.shape))
    drawn = rgba(qimage)  # (H, W, 4): r, g, b, a
    if pixels.ndim == 2:
        assert np.array_equal(drawn[..., :3], np.repeat(pixels[..., None], 3, axis=2))
        assert (drawn[..., 3] == 255).all()
    elif pixels.shape[2] == 3:
        assert np.array_equal(drawn[..., :3], pixels) and (drawn[..., 3] == 255).all()
    else:  # stored premultiplied: colours come back within rounding of a premultiply
        assert np.array_equal(drawn[..., 3], pixels[..., 3])
        visible = pixels[..., 3] > 32
        error = np.abs(drawn[..., :3].astype(int) - pixels[..., :3])[visible]
        assert error.max() <= 255 // 32
