"""`digits`: handwritten-style 28×28 digits 0-9, drawn from strokes. The MNIST-like case.

Each digit is a fixed set of pen strokes (polylines and elliptic arcs in a unit box).
Every sample jitters the stroke points and applies its own slant, scale, rotation,
shift and pen width, then rasterises with anti-aliased edges, so classes are clearly
distinct while styles vary continuously: what a 2-D VAE can lay out as a map.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from explorer.core.data.dataset import Dataset
from explorer.core.data.render import splat_strokes

SIZE = 28
_MARGIN = 4.0  # pixels between the unit box and the image border
_BOX = SIZE - 2 * _MARGIN
_SPACING = 0.35  # pixels between stroke samples at the largest scale
_CHUNK = 256  # digits rasterised at a time (see make_digits)


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int) -> np.ndarray:
    """Points on an ellipse from angle a0 to a1 (degrees, counter-clockwise, y down)."""
    a = np.deg2rad(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(a), cy - ry * np.sin(a)], axis=1)


def _line(*pts: tuple[float, float]) -> np.ndarray:
    return np.array(pts, dtype=float)


# Strokes per digit, unit box, x right, y down.
_STROKES: dict[int, list[np.ndarray]] = {
    0: [_arc(0.5, 0.5, 0.27, 0.4, 90, 450, 25)],
    1: [_line((0.36, 0.26), (0.55, 0.1), (0.55, 0.9))],
    2: [np.vstack([_arc(0.5, 0.33, 0.26, 0.23, 160, -20, 12), _line((0.22, 0.9), (0.8, 0.9))])],
    3: [
        np.vstack(
            [_arc(0.48, 0.3, 0.24, 0.2, 150, -90, 12), _arc(0.48, 0.7, 0.27, 0.2, 90, -150, 12)]
        )
    ],
    4: [_line((0.66, 0.9), (0.66, 0.1), (0.18, 0.64), (0.84, 0.64))],
    5: [np.vstack([_line((0.76, 0.1), (0.32, 0.1)), _arc(0.5, 0.65, 0.26, 0.25, 135, -140, 14)])],
    6: [
        np.vstack(
            [_arc(0.62, 0.55, 0.36, 0.45, 115, 200, 8), _arc(0.5, 0.68, 0.22, 0.21, 180, -180, 20)]
        )
    ],
    7: [_line((0.2, 0.1), (0.8, 0.1), (0.42, 0.9))],
    8: [_arc(0.5, 0.3, 0.2, 0.19, 270, 630, 20), _arc(0.5, 0.7, 0.25, 0.21, 90, 450, 20)],
    9: [np.vstack([_arc(0.5, 0.32, 0.23, 0.21, 0, 360, 20), _line((0.73, 0.32), (0.62, 0.9))])],
}


def _sampling_matrix(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (V, 2) of all strokes, and W (M, V) whose rows interpolate along them.

    Stroke samples are then `W @ vertices` for any (jittered, transformed) vertices:
    one matrix product per class instead of per-sample Python.
    """
    vertices = np.vstack(strokes)
    rows = []
    start = 0
    for s in strokes:
        for i in range(len(s) - 1):
            length = np.linalg.norm(s[i + 1] - s[i]) * _BOX * 1.15
            k = max(2, int(np.ceil(length / _SPACING)))
            t = np.linspace(0.0, 1.0, k, endpoint=False)
            w = np.zeros((k, len(vertices)))
            w[:, start + i] = 1 - t
            w[:, start + i + 1] = t
            rows.append(w)
        end = np.zeros((1, len(vertices)))
        end[0, start + len(s) - 1] = 1
        rows.append(end)
        start += len(s)
    return vertices, np.vstack(rows)


_TEMPLATES = {d: _sampling_matrix(s) for d, s in _STROKES.items()}


def make_digits(
    count: int = 20_000, seed: int = 0, progress: Callable[[float], None] | None = None
) -> Dataset:
    """`count` digits with balanced labels, reproducible from `seed`; `progress` hears
    the share drawn after each digit class."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 10)
    images = np.empty((count, SIZE, SIZE), dtype=np.uint8)
    for digit, (vertices, weights) in _TEMPLATES.items():
        idx = np.flatnonzero(labels == digit)
        n = len(idx)
        if n == 0:
            continue
        v = vertices[None] + rng.normal(0.0, 0.018, size=(n, *vertices.shape))
        v = v - 0.5
        # Per-sample affine style: scale, slant (shear), rotation, then shift.
        sx = rng.uniform(0.72, 1.05, n)
        sy = rng.uniform(0.8, 1.05, n)
        slant = rng.uniform(-0.4, 0.25, n)
        angle = np.deg2rad(rng.normal(0.0, 7.0, n))
        cos, sin = np.cos(angle), np.sin(angle)
        x = v[..., 0] * sx[:, None]
        y = v[..., 1] * sy[:, None]
        x = x - slant[:, None] * y
        xr = cos[:, None] * x - sin[:, None] * y
        yr = sin[:, None] * x + cos[:, None] * y
        shift = rng.uniform(-0.06, 0.06, (n, 2))
        v = np.stack([xr + shift[:, :1], yr + shift[:, 1:]], axis=-1) + 0.5
        points = np.matmul(weights, v) * _BOX + _MARGIN  # (M, V) @ (n, V, 2): BLAS, not einsum
        half_width = rng.uniform(0.85, 1.75, n)
        # In chunks that keep the rasteriser's (chunk, M, 5, 5) arrays in the CPU's
        # caches: larger chunks spill them to memory and draw slower (the generation row
        # of docs/performance.md).
        for lo in range(0, n, _CHUNK):
            sl = slice(lo, lo + _CHUNK)
            images[idx[sl]] = splat_strokes(points[sl], half_width[sl], SIZE)
        if progress is not None:
            progress((digit + 1) / len(_TEMPLATES))
    return Dataset(
        images=images,
        name="digits",
        labels=labels.astype(np.int64),
        class_names=[str(d) for d in range(10)],
    )
