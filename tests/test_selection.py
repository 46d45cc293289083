"""The core of selections: points inside a lasso or box, adding and subtracting, and the
direction between two selections (explorer.core.selection, no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.point_grid import PointGrid
from explorer.core.selection import (
    Combine,
    as_set,
    box_polygon,
    combine,
    group_direction,
    in_polygon,
    means,
    walk,
)


def inside_one_by_one(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The textbook even-odd test, a point and an edge at a time (horizontal ray)."""
    found = []
    k = len(polygon)
    for i, (x, y) in enumerate(xy):
        crossings = 0
        for j in range(k):
            (ax, ay), (bx, by) = polygon[j], polygon[(j + 1) % k]
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                crossings += 1
        if crossings % 2:
            found.append(i)
    return np.array(found, np.int64)


def test_a_lasso_holds_what_the_textbook_test_says():
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(3000, 2))
    angles = np.sort(rng.uniform(0, 2 * np.pi, 40))
    radii = rng.uniform(0.5, 2.0, 40)  # a ragged, non-convex outline
    polygon = np.c_[radii * np.cos(angles), radii * np.sin(angles)]
    got = in_polygon(PointGrid.build(xy), polygon)
    expected = inside_one_by_one(xy, polygon)
    assert 300 < len(expected) < 2900  # a test that could tell the two apart
    np.testing.assert_array_equal(got, expected)


def test_a_self_crossing_lasso_follows_the_even_odd_rule():
    bowtie = np.array([[0, 0], [2, 2], [2, 0], [0, 2]], float)
    xy = np.array([[1.0, 0.5], [1.0, 1.5], [0.3, 1.0], [1.7, 1.0]])
    np.testing.assert_array_equal(in_polygon(PointGrid.build(xy), bowtie), [2, 3])


def test_a_box_holds_the_points_between_its_corners():
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.2], [2.0, 0.5], [0.5, -1.0]])
    got = in_polygon(PointGrid.build(xy), box_polygon(-0.5, 1.5, -0.5, 1.5))
    np.testing.assert_array_equal(got, [0, 1, 2])


def test_too_few_vertices_or_points_select_nothing():
    xy = np.zeros((3, 2))
    assert len(in_polygon(PointGrid.build(xy), np.zeros((2, 2)))) == 0
    assert len(in_polygon(PointGrid.build(np.zeros((0, 2))), box_polygon(0, 1, 0, 1))) == 0


def test_adding_and_subtracting():
    current = np.array([1, 3, 5])
    drawn = np.array([3, 4])
    np.testing.assert_array_equal(combine(current, drawn, Combine.REPLACE), [3, 4])
    np.testing.assert_array_equal(combine(current, drawn, Combine.ADD), [1, 3, 4, 5])
    np.testing.assert_array_equal(combine(current, drawn, Combine.SUBTRACT), [1, 5])


def test_the_direction_from_b_to_a_is_the_difference_of_their_means():
    codes = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]])
    mean_b, mean_a = means(codes, [2, 3], [0, 1])
    np.testing.assert_allclose(mean_a - mean_b, [-1.0, 5.0])
    with pytest.raises(ValueError, match="at least one point"):
        means(codes, np.zeros(0, int), [0])


def test_a_group_against_the_rest():
    codes = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    rest, group = group_direction(codes, np.array([False, False, True]))
    np.testing.assert_allclose(group - rest, [-1.0, 4.0])
    with pytest.raises(ValueError, match="at least one point"):
        group_direction(codes, np.ones(3, bool))


def test_a_walk_along_a_direction():
    codes = walk(np.array([1.0, 1.0]), np.array([0.0, 2.0]), np.array([-1.0, 0.0, 0.5]))
    np.testing.assert_allclose(codes, [[1.0, -1.0], [1.0, 1.0], [1.0, 2.0]])


def test_a_selection_is_sorted_and_holds_each_index_once():
    np.testing.assert_array_equal(as_set(np.array([5, 1, 5, 3, 1])), [1, 3, 5])
    assert as_set(np.zeros(0)).dtype == np.int64
