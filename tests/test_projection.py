"""The latent plane and its exact inverse (docs/architecture.md, "The latent plane")."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.errors import ConfigError
from explorer.core.projection import Plane, dims_plane, pca_plane


@st.composite
def plane_and_points(draw):
    d = draw(st.integers(2, 64))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(d, 2)))
    plane = Plane(rng.normal(size=d), basis, ("a", "b"), "test")
    z = rng.normal(size=d) * draw(st.floats(0.1, 10))
    p = rng.normal(size=2) * draw(st.floats(0.1, 10))
    return plane, z, p


@settings(max_examples=300, deadline=None)
@given(plane_and_points())
def test_cursor_point_maps_back_exactly(case):
    plane, z, p = case
    z_new = plane.to_latent(p, z)
    assert np.allclose(plane.to_plane(z_new), p, atol=1e-9)
    # Off-plane coordinates keep the sliders' values.
    off = np.eye(len(z)) - plane.basis @ plane.basis.T
    assert np.allclose(off @ z_new, off @ z, atol=1e-9)
    # A code already on the cursor point does not move.
    assert np.allclose(plane.to_latent(plane.to_plane(z), z), z, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(plane_and_points())
def test_points_for_drawing_are_the_plane_coordinates_in_float32(case):
    plane, z, _ = case
    codes = (np.random.default_rng(len(z)).normal(size=(500, len(z))) + z).astype(np.float32)
    xy = plane.points(codes)
    assert xy.dtype == np.float32 and xy.shape == (500, 2)
    exact = plane.to_plane(codes)
    assert np.allclose(xy, exact, rtol=1e-5, atol=1e-5 * (1 + np.abs(exact).max()))


def test_dims_plane_of_a_2d_model_is_the_latent_space():
    plane = dims_plane(2)
    assert np.allclose(plane.to_latent([0.3, -1.5], np.array([9.0, 9.0])), [0.3, -1.5], atol=1e-12)
    assert plane.axis_labels == ("z0", "z1")


def test_dims_plane_sets_only_the_chosen_dims():
    plane = dims_plane(5, 3, 1)
    z = plane.to_latent([2.0, -2.0], np.arange(5.0))
    assert np.array_equal(z, [0.0, -2.0, 2.0, 2.0, 4.0])
    assert plane.axis_labels == ("z3", "z1")
    with pytest.raises(ConfigError, match="two different numbers"):
        dims_plane(5, 2, 2)
    with pytest.raises(ConfigError, match=r"0\.\.4"):
        dims_plane(5, 0, 5)


def test_one_dimensional_model_uses_x_only():
    plane = dims_plane(1)
    assert np.allclose(plane.to_latent([0.7, 5.0], np.array([-2.0])), [0.7])


def test_pca_plane_finds_the_spread_directions():
    rng = np.random.default_rng(0)
    d = 6
    codes = rng.normal(size=(2000, d)) * 0.05
    codes[:, 4] += rng.normal(size=2000) * 3.0  # the widest direction
    codes[:, 1] += rng.normal(size=2000) * 1.0  # the second
    codes += 2.0
    plane = pca_plane(codes)
    assert np.allclose(plane.basis.T @ plane.basis, np.eye(2), atol=1e-12)
    assert abs(plane.basis[4, 0]) > 0.99 and abs(plane.basis[1, 1]) > 0.99
    assert plane.basis[4, 0] > 0  # sign fixed: the largest entry is positive
    assert np.allclose(plane.origin, codes.mean(0))
    s = np.linalg.svd(codes - codes.mean(0), compute_uv=False)  # the shares, another way
    share = s**2 / (s**2).sum()
    assert plane.axis_labels == ("PC1", "PC2") and np.allclose(plane.shares, share[:2])
