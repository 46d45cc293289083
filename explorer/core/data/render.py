"""Small vectorised rasterisers shared by the built-in generators (torch on the CPU)."""

from __future__ import annotations

import numpy as np
import torch

_REACH = 2  # a stroke sample touches the 5×5 pixels around it (radius < 2.5 px)


def splat_strokes(points: np.ndarray, half_width: np.ndarray, size: int) -> np.ndarray:
    """Draw anti-aliased strokes through densely sampled points.

    points: (N, M, 2) float, (x, y) in pixels, spaced well under a pixel along each stroke.
    half_width: (N,) stroke half-widths in pixels (≤ 1.9 so the 5×5 reach suffices).
    Returns (N, size, size) uint8. A pixel's value is max over samples of
    clip(half_width + 0.5 - distance, 0, 1): a stroke with a one-pixel soft edge.
    """
    n, _m, _ = points.shape
    pad = _REACH + 1  # draw on a padded canvas so no index needs bounds checks
    side = size + 2 * pad
    p = torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)) + pad
    p.clamp_(_REACH, side - _REACH - 1)
    base = p.floor()
    frac = p - base  # (N, M, 2) position inside the base pixel
    off = torch.arange(-_REACH, _REACH + 1, dtype=torch.float32)
    dx = off + 0.5 - frac[..., 0:1]  # (N, M, 5) pixel-centre offsets along x
    dy = off + 0.5 - frac[..., 1:2]
    dist = (dx[..., None, :] ** 2 + dy[..., :, None] ** 2).sqrt_()  # (N, M, 5y, 5x)
    hw = torch.from_numpy(half_width.astype(np.float32))[:, None, None, None]
    value = (hw + 0.5 - dist).clamp_(0.0, 1.0)
    base = base.long()
    start = (base[..., 1] - _REACH) * side + (base[..., 0] - _REACH)
    start += (torch.arange(n) * side * side)[:, None]
    k = torch.arange(2 * _REACH + 1)
    window = k[:, None] * side + k[None, :]  # (5y, 5x) flat offsets
    index = start[..., None, None] + window
    canvas = torch.zeros(n * side * side)
    canvas.scatter_reduce_(0, index.reshape(-1), value.reshape(-1), reduce="amax")
    canvas = canvas.reshape(n, side, side)[:, pad : pad + size, pad : pad + size]
    return (canvas * 255.0).round_().to(torch.uint8).numpy()
