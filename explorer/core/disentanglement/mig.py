"""The Mutual Information Gap (Chen et al., 2018), computed as disentanglement_lib does.

Each latent dimension is discretised into `bins` equal-width histogram bins over its
range; the mutual information of every (binned) dimension with every factor is a
plug-in estimate from the joint counts, in nats. A factor's gap is the MI of its most
informative dimension minus that of the second, divided by the factor's entropy; MIG
is the mean gap over the factors. 1: every factor in one dimension of its own; 0: none.

Chen et al.'s own code estimates the MI from sampled codes with q(z|x) and leaves shape
out on dSprites; `MetricSettings` offers both switches (sampled codes, factors left out),
the estimator here stays the histogram.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.core.disentanglement.points import Points, Protocol


@dataclass(frozen=True)
class MIGResult:
    score: float  # mean normalised gap over factors, in [0, 1]
    gaps: tuple[float, ...]  # per factor: (top MI - second MI) / H(factor); NaN if constant
    best_dims: tuple[int, ...]  # per factor: the latent dimension with the most MI
    mutual_info: np.ndarray  # (d, K) MI between each latent and each factor, nats
    factor_names: tuple[str, ...]
    entropies: tuple[float, ...]  # per factor: H(factor) in nats, over the points used
    protocol: Protocol


def discretise(codes: np.ndarray, bins: int) -> np.ndarray:
    """(N, d) codes -> (N, d) bin indices 1..bins, equal-width bins over each column's
    range (np.histogram's edges, as disentanglement_lib)."""
    return np.stack([np.digitize(c, np.histogram(c, bins)[1][:-1]) for c in codes.T], axis=1)


def discrete_mi(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) of two non-negative integer sequences of equal length."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def entropy(a: np.ndarray) -> float:
    """Entropy (nats) of a non-negative integer sequence's empirical distribution."""
    p = np.bincount(a) / len(a)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mig(points: Points, bins: int = 20) -> MIGResult:
    """MIG of `points` (all of them: nothing is fitted, so there is no split)."""
    codes, factors = discretise(points.codes, bins), points.factors
    k, d = factors.shape[1], codes.shape[1]
    mi = np.array([[discrete_mi(codes[:, j], factors[:, f]) for f in range(k)] for j in range(d)])
    entropies = tuple(entropy(factors[:, f]) for f in range(k))
    gaps, best = [], []
    for f, h in enumerate(entropies):
        order = np.argsort(mi[:, f])[::-1]
        best.append(int(order[0]))
        if h <= 0:  # a constant factor carries nothing to disentangle
            gaps.append(math.nan)
            continue
        second = mi[order[1], f] if d > 1 else 0.0
        gaps.append(float((mi[order[0], f] - second) / h))
    valid = [g for g in gaps if not math.isnan(g)]
    return MIGResult(
        score=float(np.mean(valid)) if valid else 0.0,
        gaps=tuple(gaps),
        best_dims=tuple(best),
        mutual_info=mi,
        factor_names=points.names,
        entropies=entropies,
        protocol=points.protocol(
            "MIG",
            f"MI from histograms of {bins} equal-width bins",
            f"{bins}-bin histograms",
            split=False,
        ),
    )
