"""`sprites`: 64×64 binary shapes on the exact dSprites factor grid, factors kept.

Factors (Matthey et al., 2017): shape 3 (square, ellipse, heart), scale 6 values in
[0.5, 1], orientation 40 values in [0, 2π), x 32 and y 32 values in [0, 1]: 737,280
combinations. Because the ground truth is known, disentanglement (MIG) is measurable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from explorer.core.data.dataset import Dataset
from explorer.core.data.packed import PackedImages

SIZE = 64
FACTOR_NAMES = ["shape", "scale", "orientation", "x", "y"]
FACTOR_SIZES = [3, 6, 40, 32, 32]
SHAPE_NAMES = ["square", "ellipse", "heart"]
GRID_SIZE = int(np.prod(FACTOR_SIZES))  # 737,280

SCALES = np.linspace(0.5, 1.0, 6)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, 40, endpoint=False)
POSITIONS = np.linspace(0.0, 1.0, 32)
_RADIUS = 11.0  # pixels of a unit-size shape at scale 1
_LO, _SPAN = 14.0, 36.0  # shape centres run from 14 to 50 pixels


def factor_grid_index(factors: np.ndarray) -> np.ndarray:
    """Flat grid index of each row of factor indices (N, 5)."""
    return np.ravel_multi_index(tuple(factors.T), FACTOR_SIZES)


_WINDOW = 28  # every shape fits in a 28×28 window around its centre (radius ≤ 12.5 px)


def _inside(shape: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Which shape-local points (unit size, y up) lie inside the shape."""
    if shape == 0:  # square
        return (u.abs() <= 0.8) & (v.abs() <= 0.8)
    if shape == 1:  # ellipse, twice as wide as tall
        return u**2 + (v / 0.5) ** 2 <= 1.0
    hu, hv = u * 1.2, v * 1.2 + 0.1  # heart curve; spans about ±1.15 before this scaling
    return (hu**2 + hv**2 - 1) ** 3 - hu**2 * hv**3 <= 0


def render_sprites(factors: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Rasterise factor rows (N, 5) of indices into (N, 64, 64) uint8 images in {0, 255}.

    Only the window around each shape is evaluated, one shape kind at a time.
    """
    out = np.zeros((len(factors), SIZE, SIZE), dtype=np.uint8)
    k = torch.arange(_WINDOW, dtype=torch.float32)
    for shape in range(FACTOR_SIZES[0]):
        rows = np.flatnonzero(factors[:, 0] == shape)
        for lo in range(0, len(rows), chunk):
            idx = rows[lo : lo + chunk]
            f = factors[idx]
            cx = _LO + _SPAN * POSITIONS[f[:, 3]]
            cy = _LO + _SPAN * POSITIONS[f[:, 4]]
            x0 = np.floor(cx).astype(np.int64) - _WINDOW // 2  # window corner, ≥ 0
            y0 = np.floor(cy).astype(np.int64) - _WINDOW // 2

            def col(a: np.ndarray) -> torch.Tensor:
                return torch.from_numpy(a.astype(np.float32))[:, None, None]

            radius = col(SCALES[f[:, 1]] * _RADIUS)
            theta = col(ORIENTATIONS[f[:, 2]])
            dx = col(x0 - cx) + 0.5 + k[None, None, :]  # pixel centre minus shape centre
            dy = col(cy - y0) - 0.5 - k[None, :, None]  # y up, so rotation is counter-clockwise
            cos, sin = torch.cos(theta), torch.sin(theta)
            u = (cos * dx + sin * dy) / radius
            v = (cos * dy - sin * dx) / radius
            window = _inside(shape, u, v).to(torch.uint8).numpy() * np.uint8(255)
            ii = np.arange(_WINDOW)
            out[idx[:, None, None], y0[:, None, None] + ii[:, None], x0[:, None, None] + ii] = (
                window
            )
    return out


def render_packed(
    factors: np.ndarray,
    chunk: int = 8192,
    progress: Callable[[float], None] | None = None,
) -> PackedImages:
    """Like `render_sprites`, kept bit-packed (the images are binary): rendered a chunk at
    a time, so the full grid never exists unpacked (377 MB instead of 3.0 GB).
    `progress` hears the share rendered after each chunk."""
    bits = np.empty((len(factors), SIZE * SIZE // 8), dtype=np.uint8)
    for lo in range(0, len(factors), chunk):
        bits[lo : lo + chunk] = PackedImages.pack(render_sprites(factors[lo : lo + chunk])).bits
        if progress is not None:
            progress(min(lo + chunk, len(factors)) / len(factors))
    return PackedImages(bits, (len(factors), SIZE, SIZE))


def make_sprites(
    count: int | None = 50_000, seed: int = 0, progress: Callable[[float], None] | None = None
) -> Dataset:
    """A seeded random subset of `count` grid points (all 737,280 when count is None);
    `progress` hears the share drawn."""
    rng = np.random.default_rng(seed)
    if count is None or count >= GRID_SIZE:
        flat = np.arange(GRID_SIZE)
    else:
        flat = np.sort(rng.choice(GRID_SIZE, size=count, replace=False))
        flat = rng.permutation(flat)
    factors = np.stack(np.unravel_index(flat, FACTOR_SIZES), axis=1).astype(np.int64)
    return Dataset(
        images=render_packed(factors, progress=progress),
        name="sprites",
        labels=factors[:, 0].copy(),
        class_names=list(SHAPE_NAMES),
        factors=factors,
        factor_names=list(FACTOR_NAMES),
        factor_sizes=list(FACTOR_SIZES),
    )
