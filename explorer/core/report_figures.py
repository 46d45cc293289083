"""The pictures of a report, computed and drawn without Qt (the CLI runs it headless).

Each is what the window shows, fixed for a page: the latent scatter on the window's
default plane (the latent space itself for d ≤ 2, else its principal plane), the manifold
map over that plane, traversals of the active dimensions around one data point's code,
and the straight path between two data points of different classes. The decoded grids
are PNG bytes (tiles enlarged with crisp pixels, labelled as the window's exports are);
the charts are SVG text (`svg_chart`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from explorer.core.code_spans import code_spans
from explorer.core.data.dataset import Dataset
from explorer.core.figures import (
    GridLabels,
    decode_images,
    grid_codes,
    interpolation_codes,
    labelled,
    prior_quantiles,
    tile,
    traversal_codes,
)
from explorer.core.kind_table import KIND_TABLE
from explorer.core.metrics import dataset_labels, encode
from explorer.core.model import LatentModel, images_to_tensor
from explorer.core.projection import Plane, dims_plane, pca_plane
from explorer.core.svg_chart import Axes, scatter_chart

MAX_POINTS = 2000  # points of the scatter: enough to see its shape, a page of ~100 kB
MAP_CELLS = 12  # the manifold map's grid, n×n
TRAVERSAL_STEPS = 9  # columns of the traversals, evenly over each dimension's span
MAX_TRAVERSAL_ROWS = 12
INTERPOLATION_STEPS = 10
_PIXELS = 64  # a tile is enlarged to about this many pixels across: a 12×12 map fits a page
_GAP_FILL = 0.3  # grey lines between tiles, visible on black and on white images


@dataclass(frozen=True)
class Pictures:
    """A report's pictures: SVG text and PNG bytes."""

    scatter: str  # SVG
    groups: list[str]  # what each colour of the scatter is (its legend), in PALETTE order
    manifold: bytes  # PNG
    traversals: bytes  # PNG
    interpolation: bytes  # PNG
    plane: str  # the scatter's and the map's plane, in words


def png(image: np.ndarray | Image.Image) -> bytes:
    """A float image in [0, 1] (H, W) or (H, W, C), or a PIL image, as PNG bytes."""
    if isinstance(image, np.ndarray):
        pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _grid(frames: np.ndarray, rows: int, cols: int, labels: GridLabels) -> bytes:
    """Tiles (rows·cols, H, W, C) enlarged to about _PIXELS each, labelled, as PNG."""
    picture = tile(frames, rows, cols, gap=1, fill=_GAP_FILL)
    pixels = np.round(np.clip(picture, 0.0, 1.0) * 255).astype(np.uint8)
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    scale = max(1, _PIXELS // frames.shape[1])
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    return png(labelled(image, labels))


def sample(dataset: Dataset, seed: int = 0) -> np.ndarray:
    """Which images the scatter shows: a seeded subset of at most MAX_POINTS, in order."""
    if len(dataset) <= MAX_POINTS:
        return np.arange(len(dataset))
    return np.sort(np.random.default_rng(seed).choice(len(dataset), MAX_POINTS, replace=False))


def pictures(model: LatentModel, dataset: Dataset, kl_per_dim: tuple[float, ...]) -> Pictures:
    """The report's pictures of `model` over (a sample of) `dataset`; `kl_per_dim` (d,)
    names the traversals' rows (empty for a deterministic model)."""
    pick = sample(dataset)
    labels = dataset_labels(model, dataset)
    mu, _ = encode(
        model,
        images_to_tensor(dataset.images[pick]),
        None if labels is None else labels[pick],
    )
    prior = KIND_TABLE[model.kind].prior
    plane = dims_plane(mu.shape[1]) if mu.shape[1] <= 2 else pca_plane(mu)
    points = plane.points(mu)
    groups, names = _groups(dataset, pick)
    x_label, y_label = plane.axis_labels
    if mu.shape[1] == 1:
        points[:, 1] = 0.0
    scatter = scatter_chart(
        points,
        groups,
        Axes(
            title=f"{dataset.name}: {len(pick):,} codes (posterior means)",
            x_label=x_label,
            y_label=y_label,
            x_range=_span(points[:, 0]),
            y_range=_span(points[:, 1]),
        ),
    )
    a, b = _two_points(dataset, pick)
    return Pictures(
        scatter=scatter,
        groups=names,
        manifold=_manifold(model, plane, mu, points),
        traversals=_traversals(model, mu[a], kl_per_dim, code_spans(mu, mu.shape[1], prior)),
        interpolation=_interpolation(model, mu[a], mu[b]),
        plane=_plane_text(plane),
    )


def _span(values: np.ndarray) -> tuple[float, float]:
    return float(values.min()), float(values.max())


def _groups(dataset: Dataset, pick: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """The scatter's colour of each point (its class), and the name of each colour."""
    if dataset.labels is None:
        return None, []
    labels = dataset.labels[pick]
    names = dataset.class_names or [str(c) for c in range(dataset.num_classes)]
    return labels, [str(n) for n in names]


def _two_points(dataset: Dataset, pick: np.ndarray) -> tuple[int, int]:
    """Positions in `pick` of the interpolation's ends: the first image, and the first of
    another class (the middle one without classes)."""
    if dataset.labels is not None:
        labels = dataset.labels[pick]
        other = np.flatnonzero(labels != labels[0])
        if len(other):
            return 0, int(other[0])
    return 0, len(pick) // 2


def _plane_text(plane: Plane) -> str:
    if plane.kind == "pca" and plane.shares is not None:
        x, y = plane.shares
        return (
            f"the plane of the codes' two principal directions (PC1 {x:.0%}, PC2 {y:.0%} of "
            "their variance), through their mean"
        )
    if plane.latent_dim == 1:
        return "the one latent dimension, z0"
    return "the latent space itself, z0 across and z1 up"


def _manifold(model: LatentModel, plane: Plane, mu: np.ndarray, points: np.ndarray) -> bytes:
    """An n×n grid of decodes over the plane: at the prior's quantiles where the plane is
    a prior's whole 2-D latent space (Kingma & Welling's figure), else evenly over the
    middle 96% of the codes; off-plane coordinates at the codes' mean."""
    d = mu.shape[1]
    if d == 2 and KIND_TABLE[model.kind].prior:
        xs = ys = prior_quantiles(MAP_CELLS)
        how = "at the prior's quantiles"
    else:
        lo, hi = np.percentile(points, [2, 98], axis=0)
        xs, ys = np.linspace(lo[0], hi[0], MAP_CELLS), np.linspace(lo[1], hi[1], MAP_CELLS)
        how = "evenly over the codes"
    if d == 1:
        ys = np.zeros(1)
    codes = grid_codes(plane, mu.mean(0), xs, ys)
    x_label, y_label = plane.axis_labels
    labels = GridLabels(
        rows=[f"{y_label} {v:+.3g}" for v in ys[::-1]] if d > 1 else [],
        columns=[f"{v:+.2g}" for v in xs],
        title=f"decoded {how}: {x_label} across" + (f", {y_label} up" if d > 1 else ""),
    )
    return _grid(decode_images(model, codes), len(ys), len(xs), labels)


def _traversals(
    model: LatentModel, z: np.ndarray, kl_per_dim: tuple[float, ...], spans: np.ndarray
) -> bytes:
    """One row per dimension (the active ones by KL, at most MAX_TRAVERSAL_ROWS, else
    all), that coordinate swept across its span (d, 2) around `z` (d,): the prior's
    ±3, or the data's span of it for a kind without a prior (core/code_spans.py)."""
    d = len(z)
    order = np.argsort(kl_per_dim)[::-1] if len(kl_per_dim) == d else np.arange(d)
    dims = sorted(int(i) for i in order[:MAX_TRAVERSAL_ROWS])
    values = np.linspace(spans[dims, 0], spans[dims, 1], TRAVERSAL_STEPS, axis=1)
    frames = decode_images(model, traversal_codes(z, dims, values))
    rows = [f"z{i} · KL {kl_per_dim[i]:.2f}" if len(kl_per_dim) == d else f"z{i}" for i in dims]
    if (values == values[0]).all():  # the prior's span: one set of values for every row
        columns = ["0" if v == 0 else f"{v:+.3g}" for v in values[0]]
        title = "each row sets one coordinate of a data point's code to the value above"
    else:
        rows = [f"{r}: {v[0]:+.3g} to {v[-1]:+.3g}" for r, v in zip(rows, values, strict=True)]
        columns = [f"{t:.0%}" for t in np.linspace(0, 1, TRAVERSAL_STEPS)]
        title = (
            "each row sweeps one coordinate of a data point's code across the data's span "
            "of it (the share of the way above)"
        )
    return _grid(frames, len(dims), TRAVERSAL_STEPS, GridLabels(rows, columns, title))


def _interpolation(model: LatentModel, a: np.ndarray, b: np.ndarray) -> bytes:
    codes = interpolation_codes(a, b, INTERPOLATION_STEPS)
    steps = [f"{t:.2f}" for t in np.linspace(0, 1, INTERPOLATION_STEPS)[1:-1]]
    labels = GridLabels(columns=["A", *steps, "B"], title="from A to B on the straight path")
    return _grid(decode_images(model, codes), 1, INTERPOLATION_STEPS, labels)
