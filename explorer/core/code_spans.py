"""Where each latent dimension's values lie: the span the sliders and traversals cover.

A kind with a prior (its codes follow N(0, I): a VAE, or PCA's whitened components)
spans ±3 on every dimension, the prior's ±3σ, whatever the data. A kind without one has
codes wherever training put them: an autoencoder's may run from 0 to 13 on one dimension
and from −9 to 5 on the next, and a sparse KL autoencoder's sigmoid units lie in (0, 1).
There ±3 would clip most of the data on one slider, use a sixth of another's travel, and
sweep traversals through codes the decoder never saw. So such a kind spans where its
data's codes lie: from the 0.5th to the 99.5th percentile of each dimension, widened by
a tenth on each side, so the ends decode images like the data's extremes. And where a
prior would be sampled, such a kind is sampled from the Gaussian fitted to its codes
(their mean and covariance), the most generous stand-in (`codes_gaussian`; the on-data
check, core/on_data.py, draws from it too).
"""

from __future__ import annotations

import numpy as np

PRIOR_SPAN = 3.0  # a kind with a prior: ±3 prior standard deviations on every dimension
_TAIL_PERCENT = 0.5  # of the codes left beyond each end (outliers do not stretch a span)
_MARGIN = 0.1  # each end moved out by this share of the span
_SAMPLE = 100_000  # codes read at most (evenly strided): the span costs the same at 10M
_NARROWEST = 1e-3  # a dimension whose codes barely move spans at least this, centred
_JITTER = 1e-6  # added to the covariance's diagonal: codes on a subspace still factorise


def _finite_sample(codes: np.ndarray) -> np.ndarray:
    """At most _SAMPLE rows of codes (N, d), evenly strided, those wholly finite."""
    sample = codes[:: max(1, len(codes) // _SAMPLE)]
    return sample[np.isfinite(sample).all(axis=1)]


def prior_spans(d: int) -> np.ndarray:
    """(d, 2): ±PRIOR_SPAN on each of d dimensions."""
    return np.tile([-PRIOR_SPAN, PRIOR_SPAN], (d, 1))


def code_spans(codes: np.ndarray | None, d: int, prior: bool) -> np.ndarray:
    """(d, 2): each dimension's low and high end, for a model of latent size d whose
    dataset's codes are `codes` (N, d) (None: not encoded yet). A kind with a `prior`,
    or codes with no finite row, get the prior's span."""
    if prior or codes is None:
        return prior_spans(d)
    sample = _finite_sample(codes)
    if not len(sample):
        return prior_spans(d)
    low, high = np.percentile(sample, [_TAIL_PERCENT, 100 - _TAIL_PERCENT], axis=0)
    margin = _MARGIN * (high - low)
    low, high = low - margin, high + margin
    centre = (low + high) / 2
    half = np.maximum((high - low) / 2, _NARROWEST / 2)
    return np.stack([centre - half, centre + half], axis=1)


def codes_gaussian(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian fitted to codes (N, d), N ≥ 1: its mean (d,) and the Cholesky factor
    (d, d) of its covariance, so mean + L @ ε with ε ~ N(0, I) draws from it."""
    sample = _finite_sample(np.asarray(codes, dtype=np.float64))
    if not len(sample):
        raise ValueError("no code with finite values to fit a Gaussian to")
    d = sample.shape[1]
    cov = np.atleast_2d(np.cov(sample.T)) if len(sample) > 1 else np.zeros((d, d))
    return sample.mean(axis=0), np.linalg.cholesky(cov + _JITTER * np.eye(d))
