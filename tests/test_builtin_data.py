"""The built-in generators: seeded, on spec, and fast enough to build at start-up."""

import numpy as np
import torch

from explorer.core.data import load_dataset, make_digits, make_sprites
from explorer.core.data import sprites as sp


def test_digits_are_seeded_and_balanced():
    a, b, c = make_digits(500, seed=3), make_digits(500, seed=3), make_digits(500, seed=4)
    assert a.images.shape == (500, 28, 28) and a.images.dtype == np.uint8
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert np.bincount(a.labels).tolist() == [50] * 10
    assert a.class_names == [str(d) for d in range(10)]


def test_digits_vary_in_style_and_stay_in_frame():
    d = make_digits(400, seed=0)
    ones = d.images[d.labels == 1].astype(float)
    assert ones.std(0).max() > 50  # samples of a class differ (slant, width, jitter)
    assert d.images[:, 0, :].max() == 0 and d.images[:, -1, :].max() == 0  # no stroke clipped
    ink = (d.images > 0).mean((1, 2))
    assert ink.min() > 0.05 and ink.max() < 0.45


def test_digit_classes_are_recognisably_distinct():
    """A nearest-class-mean classifier, fitted on one seed, labels another seed's digits."""
    train, test = make_digits(2000, seed=0), make_digits(1000, seed=1)
    x = train.images.reshape(len(train), -1).astype(float)
    means = np.stack([x[train.labels == k].mean(0) for k in range(10)])
    y = test.images.reshape(len(test), -1).astype(float)
    dist = ((y[:, None, :] - means[None]) ** 2).sum(-1)
    accuracy = (dist.argmin(1) == test.labels).mean()
    assert accuracy > 0.8, accuracy


def test_sprites_lie_on_the_dsprites_grid():
    s = make_sprites(3000, seed=0)
    assert s.images.shape == (3000, 64, 64)
    assert set(np.unique(s.images)) <= {0, 255}  # binary
    assert s.factor_names == ["shape", "scale", "orientation", "x", "y"]
    assert s.factor_sizes == [3, 6, 40, 32, 32] and sp.GRID_SIZE == 737_280
    assert (s.factors >= 0).all() and (s.factors < np.array(s.factor_sizes)).all()
    assert len(np.unique(sp.factor_grid_index(s.factors))) == 3000  # no repeats
    assert np.array_equal(s.labels, s.factors[:, 0])
    assert (s.images[:].reshape(3000, -1).max(1) == 255).all()  # every sprite drawn


def _reference_render(f: np.ndarray) -> np.ndarray:
    """Whole-frame rendering of one sprite, to check the windowed fast path."""
    c = torch.arange(64, dtype=torch.float64) + 0.5
    px, py = c[None, :], c[:, None]
    cx = sp._LO + sp._SPAN * sp.POSITIONS[f[3]]
    cy = sp._LO + sp._SPAN * sp.POSITIONS[f[4]]
    r = sp.SCALES[f[1]] * sp._RADIUS
    t = sp.ORIENTATIONS[f[2]]
    dx, dy = px - cx, cy - py
    u = (np.cos(t) * dx + np.sin(t) * dy) / r
    v = (np.cos(t) * dy - np.sin(t) * dx) / r
    return sp._inside(int(f[0]), u, v).numpy().astype(np.uint8) * 255


def test_sprite_windows_lose_nothing_at_the_extremes():
    """Largest shapes at the corners, every orientation: the 28×28 window holds them whole."""
    rows = [
        [shape, 5, o, x, y]
        for shape in range(3)
        for o in range(0, 40, 3)
        for x, y in [(0, 0), (31, 31), (0, 31), (31, 0)]
    ]
    f = np.array(rows)
    fast = sp.render_sprites(f)
    for i in range(len(f)):
        ref = _reference_render(f[i])
        assert np.array_equal(fast[i], ref) or (fast[i] != ref).sum() <= 2  # float32 vs 64 edge


def test_sprite_factors_move_what_they_name():
    base = np.array([1, 0, 0, 0, 10])
    imgs = {}
    for name, idx, vals in [("scale", 1, (0, 5)), ("x", 3, (0, 31)), ("y", 4, (0, 31))]:
        f = np.stack([base, base]).copy()
        f[:, idx] = vals
        imgs[name] = sp.render_sprites(f) > 0
    assert imgs["scale"][1].sum() > 3 * imgs["scale"][0].sum()  # area grows ~ scale²
    cols = np.arange(64)
    assert (imgs["x"][1] * cols).sum() / imgs["x"][1].sum() > (imgs["x"][0] * cols).sum() / imgs[
        "x"
    ][0].sum() + 30
    rows = np.arange(64)[:, None]
    assert (imgs["y"][1] * rows).sum() / imgs["y"][1].sum() > (imgs["y"][0] * rows).sum() / imgs[
        "y"
    ][0].sum() + 30


def test_load_dataset_by_name_with_count():
    d = load_dataset("digits", count=30, seed=2)
    assert len(d) == 30 and d.name == "digits" and d.source is None
    assert d.image_shape == (1, 28, 28)
    assert load_dataset("sprites", count=10).image_shape == (1, 64, 64)
