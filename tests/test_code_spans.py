"""Each latent dimension's span (core/code_spans.py): the prior's ±3 for a kind with a
prior, where the data's codes lie for one without."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.code_spans import PRIOR_SPAN, code_spans, codes_gaussian


def test_a_kind_with_a_prior_spans_plus_minus_three_whatever_its_codes():
    codes = np.random.default_rng(0).normal(0, 10, (1000, 3))
    assert np.array_equal(code_spans(codes, 3, prior=True), [[-PRIOR_SPAN, PRIOR_SPAN]] * 3)
    assert np.array_equal(code_spans(None, 2, prior=False), [[-PRIOR_SPAN, PRIOR_SPAN]] * 2)


def test_codes_without_a_prior_span_their_middle_99_percent_and_a_tenth_more():
    # dimension 0 evenly over 0..10, dimension 1 over -100..-60, plus one wild outlier
    codes = np.stack([np.linspace(0, 10, 10_001), np.linspace(-100, -60, 10_001)], axis=1)
    codes[0] = [1e6, -1e6]
    spans = code_spans(codes, 2, prior=False)
    low, high = np.percentile(codes, [0.5, 99.5], axis=0)
    np.testing.assert_allclose(spans[:, 0], low - 0.1 * (high - low))
    np.testing.assert_allclose(spans[:, 1], high + 0.1 * (high - low))
    assert -1.1 < spans[0, 0] < 0 and 10 < spans[0, 1] < 11.1  # the outlier stretched nothing


def test_rows_that_are_not_finite_are_left_out_and_a_still_dimension_gets_a_width():
    codes = np.array([[0.5, 2.0], [0.5, 4.0], [np.nan, 3.0], [0.5, np.inf]])
    spans = code_spans(codes, 2, prior=False)
    assert np.isfinite(spans).all()
    assert spans[0, 0] < 0.5 < spans[0, 1] and spans[0, 1] - spans[0, 0] > 0  # centred, wide
    assert spans[1, 0] < 2.0 and spans[1, 1] > 4.0
    nothing = np.full((5, 2), np.nan)
    assert np.array_equal(code_spans(nothing, 2, prior=False), [[-3, 3]] * 2)


def test_the_gaussian_fitted_to_codes_has_their_mean_and_covariance():
    rng = np.random.default_rng(0)
    cov = np.array([[4.0, 1.2], [1.2, 1.0]])
    codes = rng.multivariate_normal([5.0, -2.0], cov, size=50_000)
    codes[::1000] = np.nan  # rows that are not finite are left out
    mean, chol = codes_gaussian(codes)
    np.testing.assert_allclose(mean, [5.0, -2.0], atol=0.05)
    np.testing.assert_allclose(chol @ chol.T, cov, atol=0.08)
    one_mean, one_chol = codes_gaussian(codes[1:2])  # one code: no spread, still a factor
    np.testing.assert_allclose(one_mean, codes[1])
    assert np.isfinite(one_chol).all() and np.abs(one_chol).max() < 0.01
    with pytest.raises(ValueError):
        codes_gaussian(np.full((3, 2), np.nan))
