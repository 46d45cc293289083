"""DCI: disentanglement, completeness and informativeness (Eastwood & Williams, 2018).

A predictor of each factor from the codes gives an importance matrix R (d, K): how much
dimension j is used to predict factor k; each factor's column is normalised to sum to
1, as scikit-learn's feature importances are in disentanglement_lib. Then, with
P = R normalised per row (over factors) and per column (over dimensions):

- disentanglement of dimension j: 1 - H_K(P_j·), the entropy in base K of how its
  importance spreads over the factors; the score weights each dimension by its share
  of all importance.
- completeness of factor k: 1 - H_d(P_·k), the entropy in base d of how its importance
  spreads over the dimensions; the score weights each factor by its share.
- informativeness: the predictor's accuracy on held-out points (and on those it was
  fitted on), as disentanglement_lib reports it (the paper used a regression error).

Estimator: disentanglement_lib fits gradient-boosted trees; here each factor gets a
linear discriminant (`probe.py`: LDA, closed form) on the codes standardised over the
fitted part, and the importance of dimension j for factor k is the prior-weighted root
mean square of j's discriminant weights over k's classes (weights taken about the mean
class, so they do not depend on an offset common to all classes). A linear probe reads
the factor orderings a trained VAE produces and is fitted in milliseconds; trees would
be a second dependency or a slow numpy re-implementation (see `probe.py` for what the
probe cannot read). Stated in the protocol so a score is never compared unlabelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.core.disentanglement.points import Points, Protocol
from explorer.core.disentanglement.probe import RIDGE, fit_lda, standardise


@dataclass(frozen=True)
class DCIResult:
    disentanglement: float  # in [0, 1]; NaN with fewer than two factors
    completeness: float  # in [0, 1]
    informativeness: float  # mean test accuracy of the probes over the factors
    informativeness_train: float  # the same on the points they were fitted on
    importance: np.ndarray  # (d, K) R: each factor's column sums to 1 (0 if constant)
    per_dim: tuple[float, ...]  # disentanglement of each dimension
    per_factor: tuple[float, ...]  # completeness of each factor; NaN for a constant one
    accuracy: tuple[float, ...]  # test accuracy of each factor's probe; NaN if constant
    factor_names: tuple[str, ...]
    protocol: Protocol


def _entropy_rows(p: np.ndarray, base: int) -> np.ndarray:
    """Entropy in `base` of each row of p (rows sum to 1); as disentanglement_lib, 1e-11
    is added before normalising so an all-zero row is uniform."""
    q = p + 1e-11
    q = q / q.sum(1, keepdims=True)
    return -(q * np.log(q)).sum(1) / math.log(base)


def scores(importance: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(disentanglement, completeness, per dimension, per factor) of R: (d, K)."""
    d, k = importance.shape
    total = importance.sum()
    weights = importance if total > 0 else np.ones_like(importance)
    per_dim = 1.0 - _entropy_rows(importance, k) if k > 1 else np.full(d, math.nan)
    per_factor = 1.0 - _entropy_rows(importance.T, d) if d > 1 else np.ones(k)
    dim_share = weights.sum(1) / weights.sum()
    factor_share = weights.sum(0) / weights.sum()
    return (
        float((per_dim * dim_share).sum()),
        float((per_factor * factor_share).sum()),
        per_dim,
        per_factor,
    )


def dci(points: Points) -> DCIResult:
    """DCI of `points`: probes fitted on points.train, accuracy measured on points.test."""
    train, test = standardise(points.codes[points.train], points.codes[points.test])
    d, k = points.codes.shape[1], points.factors.shape[1]
    importance = np.zeros((d, k))
    acc_test, acc_train = [], []
    constant = []
    for f in range(k):
        y = points.factors[:, f]
        if len(np.unique(y)) < 2:  # nothing to predict
            constant.append(f)
            acc_test.append(math.nan)
            acc_train.append(math.nan)
            continue
        probe = fit_lda(train[None], y[points.train], int(y.max()) + 1)
        norms = probe.importance()[0]
        importance[:, f] = norms / norms.sum() if norms.sum() > 0 else 0.0
        acc_train.append(float((probe.predict(train[None])[0] == y[points.train]).mean()))
        acc_test.append(float((probe.predict(test[None])[0] == y[points.test]).mean()))
    used = [f for f in range(k) if f not in constant]
    d_score = c_score = math.nan
    per_dim, completeness = np.full(d, math.nan), np.full(k, math.nan)
    if used:
        d_score, c_score, per_dim, completeness[used] = scores(importance[:, used])
    return DCIResult(
        disentanglement=d_score,
        completeness=c_score,
        informativeness=float(np.nanmean(acc_test)) if used else math.nan,
        informativeness_train=float(np.nanmean(acc_train)) if used else math.nan,
        importance=importance,
        per_dim=tuple(float(v) for v in per_dim),
        per_factor=tuple(float(v) for v in completeness),
        accuracy=tuple(acc_test),
        factor_names=points.names,
        protocol=points.protocol(
            "DCI",
            f"importance from a linear discriminant (LDA, ridge {RIDGE:g}), not boosted "
            "trees; informativeness its test accuracy",
            "LDA importance",
        ),
    )
