"""The codes behind the explanatory views (core/figures.py) and the codes file."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from explorer.core.codes_file import save_codes
from explorer.core.config import ModelConfig
from explorer.core.errors import ExplorerError
from explorer.core.figures import (
    decode_images,
    grid_codes,
    interpolation_codes,
    prior_quantiles,
    tile,
    traversal_codes,
)
from explorer.core.kinds import build_model
from explorer.core.projection import dims_plane, pca_plane


def test_traversal_rows_sweep_one_dimension_each():
    z = np.array([0.5, -1.0, 2.0])
    values = np.array([-3.0, 0.0, 3.0])
    codes = traversal_codes(z, [2, 0], values).reshape(2, 3, 3)
    assert np.array_equal(codes[0, :, 2], values) and np.array_equal(codes[1, :, 0], values)
    assert np.all(codes[0, :, :2] == z[:2]) and np.all(codes[1, :, 1:] == z[1:])


def test_prior_quantiles_split_the_prior_into_equal_shares():
    q = prior_quantiles(15)
    cdf = np.array([0.5 * (1 + math.erf(x / math.sqrt(2))) for x in q])
    assert np.allclose(cdf, (np.arange(15) + 0.5) / 15, atol=1e-10)
    assert np.allclose(q, -q[::-1]) and q[7] == pytest.approx(0.0, abs=1e-12)


def test_grid_codes_read_like_the_plot():
    """Row 0 is the top of the plot (largest y); off-plane coordinates come from z."""
    rng = np.random.default_rng(0)
    plane = pca_plane(rng.normal(size=(200, 4)) * [3, 2, 1, 0.5])
    z = rng.normal(size=4)
    xs, ys = np.array([-1.0, 0.0, 1.0]), np.array([-2.0, 2.0])
    codes = grid_codes(plane, z, xs, ys).reshape(2, 3, 4)
    p = plane.to_plane(codes)
    assert np.allclose(p[0, :, 1], 2.0) and np.allclose(p[1, :, 1], -2.0)
    assert np.allclose(p[:, :, 0], xs)
    off = codes - plane.to_latent(p, z)  # nothing but the in-plane part differs from z
    assert np.allclose(off, 0)


def test_interpolation_ends_at_both_codes():
    z0, z1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    for spherical in (False, True):
        path = interpolation_codes(z0, z1, 7, spherical)
        assert path.shape == (7, 3)
        assert np.allclose(path[0], z0) and np.allclose(path[-1], z1)
    line = interpolation_codes(z0, z1, 5)
    assert np.allclose(np.diff(line, axis=0), (z1 - z0) / 4)


def test_slerp_keeps_to_the_sphere():
    rng = np.random.default_rng(1)
    z0, z1 = rng.normal(size=16), rng.normal(size=16)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    norms = np.linalg.norm(interpolation_codes(z0, z1, 11, spherical=True), axis=1)
    assert np.allclose(norms, np.linalg.norm(z0))
    assert np.linalg.norm(interpolation_codes(z0, z1, 11)[5]) < 0.9 * np.linalg.norm(z0)


def test_decode_images_matches_the_model_and_tile_lays_them_out():
    model = build_model(ModelConfig(latent_dim=3, hidden=(16,), image_shape=(1, 6, 5)))
    z = np.random.default_rng(2).normal(size=(6, 3))
    frames = decode_images(model, z)
    with torch.inference_mode():
        expected = model.decode(torch.as_tensor(z, dtype=torch.float32)).permute(0, 2, 3, 1)
    assert frames.shape == (6, 6, 5, 1) and np.allclose(frames, expected.numpy())
    picture = tile(frames, rows=2, cols=3, gap=1, fill=0.5)
    assert picture.shape == (2 * 6 + 1, 3 * 5 + 2, 1)
    assert np.array_equal(picture[7:13, 12:17], frames[5])  # row 1, column 2
    assert np.all(picture[6, :, 0] == 0.5)  # the gap between the rows


def test_codes_files_reload_to_the_same_numbers(tmp_path, tiny_digits):
    rng = np.random.default_rng(3)
    n = len(tiny_digits)
    mu = rng.normal(size=(n, 4)).astype(np.float32)
    logvar = rng.normal(size=(n, 4)).astype(np.float32)
    table = np.load(save_codes(tmp_path / "codes.npy", mu, logvar, tiny_digits))
    assert np.array_equal(table["mu"], mu) and np.array_equal(table["logvar"], logvar)
    assert np.array_equal(table["label"], tiny_digits.labels)
    csv = tmp_path / "codes with spaces é.csv"
    save_codes(csv, mu, logvar, tiny_digits)
    header = csv.read_text().splitlines()[0].split(",")
    rows = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert header[:3] == ["index", "label", "mu0"] and header[-1] == "logvar3"
    assert np.array_equal(rows[:, 1], tiny_digits.labels)
    assert np.array_equal(rows[:, 2:6].astype(np.float32), mu)  # 9 digits: exact float32
    assert np.array_equal(rows[:, 6:].astype(np.float32), logvar)


def test_codes_file_with_factors_and_bad_suffix(tmp_path):
    from explorer.core.data import make_sprites

    data = make_sprites(50, seed=0)
    mu = np.zeros((50, 2), np.float32)
    table = np.load(save_codes(tmp_path / "c.npy", mu, mu, data))
    assert np.array_equal(table["factors"], data.factors)
    save_codes(tmp_path / "c.csv", mu, mu, data)
    header = (tmp_path / "c.csv").read_text().splitlines()[0].split(",")
    assert header[2 : 2 + len(data.factor_names)] == data.factor_names
    with pytest.raises(ExplorerError, match=r"c\.txt: codes are saved as \.csv or \.npy"):
        save_codes(tmp_path / "c.txt", mu, mu, data)


def test_dims_plane_grid_is_the_latent_grid():
    codes = grid_codes(dims_plane(2), np.zeros(2), np.array([-1.0, 1.0]), np.array([0.5]))
    assert np.array_equal(codes, [[-1.0, 0.5], [1.0, 0.5]])
