"""SAP, the Separated Attribute Predictability score (Kumar et al., 2018), as
disentanglement_lib's sap_score defines it.

A score matrix S (d, K) says how well each latent dimension alone predicts each factor:

- discrete factors (disentanglement_lib's study setting, the default): the accuracy on
  held-out points of a classifier fitted on that one dimension. disentanglement_lib
  fits a linear SVM (C = 0.01, balanced classes); here a linear discriminant with
  equal class priors (`probe.py`), which, like the SVM on one dimension, assigns each
  class an interval of the line.
- continuous factors: R² of a linear fit, cov(z_j, v_k)² / (var z_j · var v_k), over the
  fitted part (0 for a dimension with no variance).

A factor's SAP is the gap between its two best dimensions' scores; SAP is the mean gap.
With discrete factors a perfect code does not reach 1: the second-best dimension still
guesses at chance (1/values or the most common value's share), so the ceiling is 1 minus
that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.core.disentanglement.points import Points, Protocol
from explorer.core.disentanglement.probe import RIDGE, fit_lda, standardise


@dataclass(frozen=True)
class SAPResult:
    score: float  # mean gap over factors
    gaps: tuple[float, ...]  # per factor: best dimension's score - second's; NaN if constant
    matrix: np.ndarray  # (d, K) S: each dimension's score for each factor
    continuous: bool  # R² (True) or classification accuracy (False)
    factor_names: tuple[str, ...]
    protocol: Protocol


def r_squared(z: np.ndarray, v: np.ndarray) -> np.ndarray:
    """R² of each column of z: (N, d) against v: (N,) -> (d,); 0 where var z = 0."""
    z = z - z.mean(0)
    v = v - v.mean()
    var_z, var_v = (z**2).sum(0), (v**2).sum()
    cov = z.T @ v
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var_z > 1e-12 * len(z), cov**2 / (var_z * var_v), 0.0)


def accuracy_per_dim(points: Points, f: int) -> np.ndarray:
    """(d,) held-out accuracy of a one-dimension probe on each dimension for factor f."""
    y = points.factors[:, f]
    one = points.codes.T[:, :, None]  # (d, N, 1): d one-feature problems
    train, test = standardise(one[:, points.train], one[:, points.test])
    probe = fit_lda(train, y[points.train], int(y.max()) + 1, balanced=True)
    return (probe.predict(test) == y[points.test]).mean(1)


def sap(points: Points, continuous: bool = False) -> SAPResult:
    d, k = points.codes.shape[1], points.factors.shape[1]
    matrix = np.zeros((d, k))
    gaps = []
    for f in range(k):
        y = points.factors[:, f]
        if len(np.unique(y)) < 2:
            gaps.append(math.nan)
            continue
        if continuous:
            matrix[:, f] = r_squared(points.codes, y.astype(float))
        else:
            matrix[:, f] = accuracy_per_dim(points, f)
        top = np.sort(matrix[:, f])[::-1]
        gaps.append(float(top[0] - (top[1] if d > 1 else 0.0)))
    valid = [g for g in gaps if not math.isnan(g)]
    estimator = (
        "R² of each dimension (factors continuous)"
        if continuous
        else f"test accuracy of a 1-D linear discriminant (LDA, equal priors, ridge {RIDGE:g}) "
        "per dimension, not a linear SVM"
    )
    return SAPResult(
        score=float(np.mean(valid)) if valid else 0.0,
        gaps=tuple(gaps),
        matrix=matrix,
        continuous=continuous,
        factor_names=points.names,
        protocol=points.protocol(
            "SAP", estimator, "R²" if continuous else "1-D LDA accuracy", split=not continuous
        ),
    )
