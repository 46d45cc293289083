"""Turn an array from a file into the container's uint8 image layout, or say why not."""

from __future__ import annotations

import math

import numpy as np

from explorer.core.errors import DataError


def image_layout(shape: tuple[int, ...]) -> str | None:
    """How an array of this shape holds images, or None when it does not look like images.

    "nhw": N×H×W; "nhwc": N×H×W×C; "nchw": N×C×H×W; "flat": N×D with D a square number.
    """
    if len(shape) == 3 and min(shape[1:]) >= 2:
        return "nhw"
    if len(shape) == 4:
        if shape[3] in (1, 3, 4) and min(shape[1:3]) >= 2:
            return "nhwc"
        if shape[1] in (1, 3) and min(shape[2:]) >= 2:
            return "nchw"
    if len(shape) == 2 and shape[1] >= 4 and math.isqrt(shape[1]) ** 2 == shape[1]:
        return "flat"
    return None


def to_uint8_images(array: np.ndarray, where: str) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) uint8 from any image-like numeric array.

    Floats in [0, 1] are scaled to 0..255; integers and floats in [0, 255] are kept.
    NaN/inf, negative values or values above 255 are refused: guessing a scale for
    them would silently show the user something other than their data.
    """
    layout = image_layout(array.shape)
    if layout is None:
        raise DataError(
            f"{where}: an array of shape {array.shape} does not look like images "
            "(expected N×H×W, N×H×W×C, N×C×H×W or N×D with D square)"
        )
    if len(array) == 0:
        raise DataError(f"{where}: the image array is empty")
    if layout == "flat":
        side = math.isqrt(array.shape[1])
        array = array.reshape(len(array), side, side)
    elif layout == "nchw":
        array = np.moveaxis(array, 1, 3)
    if array.ndim == 4 and array.shape[3] == 1:
        array = array[..., 0]
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    # By kind, not issubdtype: timedelta64 counts as a signed integer there.
    if array.dtype.kind not in "iuf":
        raise DataError(f"{where}: images must be integers or floats, got {array.dtype} values")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        raise DataError(f"{where}: {bad} pixel values are NaN or infinite")
    lo, hi = float(array.min()), float(array.max())
    if lo < 0 or hi > 255:
        raise DataError(f"{where}: pixel values run from {lo:g} to {hi:g}; expected 0..1 or 0..255")
    if array.dtype.kind == "f" and hi <= 1.0:
        array = array * 255.0
    return np.ascontiguousarray(np.rint(array).astype(np.uint8))
