"""The codes behind the explanatory views, and decoding and tiling them.

Each view of what a model learned is a set of codes decoded at once:
- `traversal_codes`: one row per latent dimension, that coordinate swept from -3 to +3
  (or across the dimension's span of the data, core/code_spans.py) around the current
  code, the others kept (the figure of the β-VAE papers);
- `grid_codes`: an n×n grid over the latent plane (the "manifold map"), evenly spaced
  over a range or, for the prior's view, at its inverse-CDF quantiles;
- `interpolation_codes`: k codes on the straight line between two codes, or on the
  spherical (slerp) path.
`decode_images` decodes any such batch; `tile` lays the images out as one picture and
`save_png` writes it, with `GridLabels` around it (what each row and column is) so the
file reads on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from explorer.core.files import atomic_write
from explorer.core.label_font import drawable, label_font
from explorer.core.model import LatentModel
from explorer.core.pass_size import images_per_pass
from explorer.core.projection import Plane

_DECODE_CHUNK = 512  # codes per decoder call: bounded memory for large grids
_LABEL_PX = 14  # text size of the labels around an exported grid
_LABEL_PAD = 6  # pixels around the labels
_INK = (34, 34, 34)  # dark grey on white: what a printed figure uses


@dataclass(frozen=True)
class GridLabels:
    """Text around a picture of `tile`d images, for a reader of the exported file."""

    rows: Sequence[str] = ()  # left of each row of tiles, top to bottom (or none)
    columns: Sequence[str] = ()  # above each column of tiles, left to right (or none)
    title: str = ""  # one line above everything


@torch.inference_mode()
def decode_images(model: LatentModel, z: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Mean images of codes z: (B, d) -> float32 (B, H, W, C) in [0, 1], on the CPU.

    y: (B,) classes for a conditional model (default: its `condition` for all).
    """
    z = torch.as_tensor(np.asarray(z), dtype=torch.float32)
    labels = None if y is None else torch.as_tensor(np.asarray(y), dtype=torch.long)
    device = model.device
    chunk = images_per_pass(model.config.image_shape, _DECODE_CHUNK)
    parts = [
        model.decode(
            z[i : i + chunk].to(device),
            None if labels is None else labels[i : i + chunk].to(device),
        )
        .float()
        .cpu()
        for i in range(0, len(z), chunk)
    ]
    _, h, w = model.config.image_shape
    if not parts:
        return np.zeros((0, h, w, model.config.image_shape[0]), np.float32)
    return torch.cat(parts).permute(0, 2, 3, 1).contiguous().numpy()


def traversal_codes(z: np.ndarray, dims: Sequence[int], values: np.ndarray) -> np.ndarray:
    """z: (d,), values: (k,) for every row or (len(dims), k) one per row ->
    (len(dims) * k, d); row r sweeps dimension dims[r] over its values."""
    z = np.asarray(z, dtype=np.float64)
    values = np.broadcast_to(values, (len(dims), np.shape(values)[-1]))
    k = values.shape[1]
    codes = np.repeat(z[None], len(dims) * k, axis=0)
    for r, dim in enumerate(dims):
        codes[r * k : (r + 1) * k, dim] = values[r]
    return codes


def prior_quantiles(n: int) -> np.ndarray:
    """The n points that split N(0, 1) into equal-probability cells: Φ⁻¹((i + ½) / n)."""
    p = (np.arange(n) + 0.5) / n
    return np.array([_normal_ppf(q) for q in p])


def _normal_ppf(p: float) -> float:
    """Φ⁻¹(p) by Newton's method on the error function (no SciPy dependency)."""
    x = 0.0
    for _ in range(50):
        cdf = 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
        step = (cdf - p) / (math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))
        x -= step
        if abs(step) < 1e-12:
            break
    return x


def grid_codes(plane: Plane, z_current: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Codes at plane points (xs[j], ys[i]) -> (len(ys) * len(xs), d), row-major from the top.

    Row 0 is the largest y, so the tiles read like the plot (y grows upwards). Off-plane
    coordinates come from z_current, as for the cursor.
    """
    gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float)[::-1])
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    return plane.to_latent(points, z_current)


def interpolation_codes(
    z0: np.ndarray, z1: np.ndarray, k: int, spherical: bool = False
) -> np.ndarray:
    """k codes from z0 to z1, both included: (k, d).

    The spherical path is slerp (White, "Sampling Generative Networks", 2016): it
    follows the great circle between the two codes instead of cutting through the
    low-norm middle, where a high-dimensional prior has almost no mass.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.linspace(0.0, 1.0, k)[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if spherical and n0 > 0 and n1 > 0:
        omega = math.acos(float(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0)))
        if omega > 1e-6:
            return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / math.sin(omega)
    return (1 - t) * z0 + t * z1


def tile(images: np.ndarray, rows: int, cols: int, gap: int = 1, fill: float = 1.0) -> np.ndarray:
    """images: (rows * cols, H, W, C) -> one (rows·H + gaps, cols·W + gaps, C) picture."""
    _, h, w, c = images.shape
    out = np.full(
        (rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, c), fill, dtype=images.dtype
    )
    for i, img in enumerate(images[: rows * cols]):
        r, col = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, col * (w + gap) : col * (w + gap) + w] = img
    return out


def save_png(
    path: str | Path, image: np.ndarray, scale: int = 1, labels: GridLabels | None = None
) -> None:
    """Write a float image in [0, 1], (H, W) or (H, W, C), enlarged `scale`× with crisp
    pixels, and `labels` on a white margin around it.

    Raises OSError or ValueError (e.g. an unknown suffix); the message does not name the
    file, so callers add the path. Written whole or not at all (`atomic_write`): a full
    disk leaves no half-written picture, and any earlier file as it was.
    """
    path = Path(path)
    kind = Image.registered_extensions().get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"unknown image type {path.suffix or '(no suffix)'}: use .png")
    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    pil = Image.fromarray(pixels)
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    with atomic_write(path) as tmp:
        (pil if labels is None else labelled(pil, labels)).save(tmp, format=kind)


def labelled(grid: Image.Image, labels: GridLabels) -> Image.Image:
    """`grid` (tiles of equal size) on a white RGB canvas with `labels`: the row labels
    right-aligned in a margin at its left, the column labels centred above, the title
    above them."""
    font = label_font(_LABEL_PX)
    labels = GridLabels(
        rows=[drawable(t, font) for t in labels.rows],
        columns=[drawable(t, font) for t in labels.columns],
        title=drawable(labels.title, font),
    )
    pad, line = _LABEL_PAD, _LABEL_PX + _LABEL_PAD
    left = math.ceil(max((font.getlength(t) for t in labels.rows), default=-pad) + 2 * pad)
    top = pad + line * (bool(labels.title) + bool(labels.columns))
    width = max(left + grid.width + pad, math.ceil(font.getlength(labels.title)) + 2 * pad)
    out = Image.new("RGB", (width, top + grid.height + pad), "white")
    out.paste(grid.convert("RGB"), (left, top))
    draw = ImageDraw.Draw(out)
    if labels.title:
        draw.text((pad, pad), labels.title, fill=_INK, font=font)
    for i, text in enumerate(labels.rows):
        y = top + (i + 0.5) * grid.height / len(labels.rows)
        draw.text((left - pad, y), text, fill=_INK, font=font, anchor="rm")
    for j, text in enumerate(labels.columns):
        x = left + (j + 0.5) * grid.width / len(labels.columns)
        draw.text((x, top - pad // 2), text, fill=_INK, font=font, anchor="md")
    return out
