"""A linear classifier in closed form, linear discriminant analysis (LDA): the
estimator DCI and SAP use where disentanglement_lib uses scikit-learn's.

disentanglement_lib takes DCI's importances from gradient-boosted trees and SAP's
per-dimension accuracy from a linear SVM. scikit-learn is not a dependency here, so both
use LDA: class means m_c and one within-class covariance Σ (plus a small ridge), and the
linear scores w_c·z + b_c with w_c = Σ⁻¹(m_c − m̄). Why LDA: it is a linear classifier
like the SVM, fitted exactly with one small solve (no optimiser, no seed, no iteration
count, no thread pool: an iteratively fitted softmax probe was many times slower on a
busy machine, its small torch operations contending for threads); on one dimension its
classes take consecutive intervals of the line in any order, so it reads a factor
stored monotonically or as any ordering of its values (a shape as three ranges); on
several dimensions it reads a factor spread over them (an angle on a circle as sectors).
It cannot read a factor folded onto one dimension non-monotonically (two separate
ranges for one value), which trees can.

Several independent probes are fitted at once (SAP fits one per latent dimension).
Features are standardised over the fitted points first, so weights compare across
dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RIDGE = 1e-3  # added to Σ's diagonal (features have unit variance): a constant one is solvable


def standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale features (..., N, F) by the train part's mean and std (a constant feature
    by 1)."""
    mean = train.mean(-2, keepdims=True)
    std = train.std(-2, keepdims=True)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (train, *others)]


@dataclass(frozen=True)
class LDA:
    """B fitted probes over F features and C classes."""

    weights: np.ndarray  # (B, F, C): Σ⁻¹(m_c − m̄), column c for class c
    bias: np.ndarray  # (B, C); -inf for a class absent from the fitted points
    priors: np.ndarray  # (C,) the classes' shares among the fitted points

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Classes of features x: (B, N, F) -> (B, N)."""
        return (x @ self.weights + self.bias[:, None, :]).argmax(-1)

    def importance(self) -> np.ndarray:
        """(B, F) how much each feature moves the class scores: the prior-weighted root
        mean square of its weights over the classes."""
        return np.sqrt((self.weights**2 * self.priors).sum(-1))


def fit_lda(x: np.ndarray, y: np.ndarray, classes: int, balanced: bool = False) -> LDA:
    """B probes on features x: (B, N, F) for labels y: (N,) in [0, classes). `balanced`
    gives every class the same prior, as scikit-learn's class_weight="balanced" does."""
    counts = np.bincount(y, minlength=classes).astype(float)
    present = counts > 0
    onehot = np.zeros((len(y), classes))
    onehot[np.arange(len(y)), y] = 1.0
    means = np.einsum("bnf,nc->bcf", x, onehot) / np.maximum(counts, 1)[:, None]  # (B, C, F)
    centred = x - means[:, y]
    dof = max(len(y) - int(present.sum()), 1)
    cov = np.einsum("bnf,bng->bfg", centred, centred) / dof + RIDGE * np.eye(x.shape[-1])
    priors = present / present.sum() if balanced else counts / counts.sum()
    overall = np.einsum("bcf,c->bf", means, priors)
    weights = np.linalg.solve(cov, (means - overall[:, None, :]).transpose(0, 2, 1))
    with np.errstate(divide="ignore"):
        log_prior = np.log(priors)
    # z·Σ⁻¹m_c − ½ m_cᵀΣ⁻¹m_c + log π_c, less what is the same for every class
    bias = -0.5 * np.einsum("bfc,bcf->bc", weights, means + overall[:, None, :]) + log_prior
    return LDA(weights, np.where(present, bias, -np.inf), priors)
