"""One image file's bytes to 8-bit pixels: what every loader of encoded images shares.

The folder loader and the table loader (Parquet / Arrow) both open images with Pillow,
bound each image's size from its header before any pixel is decoded, and turn every
mode into the same 8-bit RGB: 16-bit greys (Pillow's modes I;16*, and I for 32-bit
integers) are scaled from 0..65535, float images (mode F) from 0..1, and images with an
alpha channel are composited onto black (the background of the built-in data), so a
transparent pixel reads as background whatever colour it hides.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import numpy as np
from PIL import Image

from explorer.core.errors import DataError

# Pixels of one image. Pillow's own bomb check refuses only above 179 M; a model can be
# built for at most 1024×1024 (config.MAX_IMAGE_SIDE), so this leaves room to spare.
MAX_IMAGE_PIXELS = 8192 * 8192
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA = ("LA", "La", "PA", "RGBA", "RGBa")


class Unusable(Exception):
    """An image whose pixels cannot be read as 8-bit: named in the loader's message."""


@contextmanager
def opened(source: str | BinaryIO) -> Iterator[Image.Image]:
    """The image at `source` (a path or a binary file), its header read, no pixels yet.
    Pillow's bomb warning is silenced: callers bound the size with `check_size`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(source) as im:
            yield im


def check_size(w: int, h: int, where: str) -> None:
    """Raise DataError naming `where` when a w×h image is over MAX_IMAGE_PIXELS."""
    if w * h > MAX_IMAGE_PIXELS:
        raise DataError(
            f"{where}: an image of {w:,}×{h:,} pixels, more than the "
            f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels an image may have"
        )


def rgb_pixels(im: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 pixels of an opened image, whatever its mode; Unusable when its
    values are outside the range its mode allows."""
    if im.mode in _SIXTEEN_BIT or im.mode == "F":
        values = np.asarray(im).astype(np.float64)
        top = 1.0 if im.mode == "F" else 65535.0
        if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= top):
            raise Unusable(
                f"{im.mode} pixels run from {values.min():g} to {values.max():g}, "
                f"expected 0..{top:g}"
            )
        grey = np.rint(values * (255.0 / top)).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if im.mode in _ALPHA or (im.mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint16)
        return ((rgba[..., :3] * rgba[..., 3:] + 127) // 255).astype(np.uint8)
    return np.asarray(im.convert("RGB"))


def one_channel_if_grey(images: np.ndarray, grey: bool) -> np.ndarray:
    """(N, H, W, 3) decoded images, or (N, H, W) when every image was grey stored as RGB."""
    return np.ascontiguousarray(images[..., 0]) if grey else images
