"""The FactorVAE score (Kim & Mnih, 2018), as disentanglement_lib computes it, on a
fixed set of codes rather than on fresh renders of the data's generator.

1. Each dimension's code is divided by its standard deviation over all the points;
   dimensions whose std is under 0.05 (collapsed to the prior) are left out, as in
   disentanglement_lib's study setting.
2. A vote: choose a factor at random, and a value of it (that of a random point, so
   values come as often as in the data); take 64 points sharing that value (drawn with
   replacement among them, since a fixed set may hold fewer); the dimension whose
   normalised code varies least over them votes for the factor.
3. The classifier is a majority vote: each dimension predicts the factor it got most
   votes for. The score is its accuracy on votes drawn from held-out points; the
   training votes come from the fitted part (10,000 and 5,000 votes by default).

A perfectly factorised code scores 1; chance is about 1/K for K factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.core.disentanglement.points import Points, Protocol

BATCH = 64  # points per vote
TRAIN_VOTES = 10_000
EVAL_VOTES = 5_000
PRUNE_STD = 0.05  # dimensions with a smaller std over the data do not vote
_CHUNK = 1024  # votes whose batches are gathered at once: (1024, 64, d) floats


@dataclass(frozen=True)
class FactorVAEResult:
    score: float  # accuracy of the majority-vote classifier on held-out votes; NaN if K < 2
    train_accuracy: float  # on the votes it was built from
    votes: np.ndarray  # (K, d) held-out votes: how often dimension j varied least for k
    per_factor: tuple[float, ...]  # per factor: share of its held-out votes classified right
    active_dims: int  # dimensions that vote (std ≥ PRUNE_STD)
    factor_names: tuple[str, ...]
    protocol: Protocol


def draw(
    factors: np.ndarray, pool: np.ndarray, votes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`votes` batches from the points in `pool`: (factor of each (votes,), the BATCH point
    indices of each (votes, BATCH)). Only factors with a value shared by two or more
    pool points are drawn."""
    groups = []
    for f in range(factors.shape[1]):
        values = factors[pool, f]
        order = np.argsort(values, kind="stable")
        _, start, count = np.unique(values[order], return_index=True, return_counts=True)
        group_of = np.repeat(np.arange(len(count)), count)  # of each point in `order`
        eligible = np.flatnonzero(count[group_of] >= 2)
        if len(eligible):
            groups.append((f, pool[order], start, count, group_of, eligible))
    which = rng.integers(len(groups), size=votes) if groups else np.zeros(0, int)
    chosen = np.empty(len(which), np.int64)
    members = np.empty((len(which), BATCH), np.int64)
    for g, (f, sorted_pool, start, count, group_of, eligible) in enumerate(groups):
        rows = np.flatnonzero(which == g)
        group = group_of[eligible[rng.integers(len(eligible), size=len(rows))]]
        offset = rng.integers(0, count[group][:, None], size=(len(rows), BATCH))
        chosen[rows] = f
        members[rows] = sorted_pool[start[group][:, None] + offset]
    return chosen, members


def count_votes(
    normalised: np.ndarray, chosen: np.ndarray, members: np.ndarray, k: int
) -> np.ndarray:
    """(K, d') votes: for each batch, its factor's vote goes to the dimension of
    `normalised` (N, d') with the least variance over the batch's points."""
    votes = np.zeros((k, normalised.shape[1]), np.int64)
    for lo in range(0, len(chosen), _CHUNK):
        batch = normalised[members[lo : lo + _CHUNK]]  # (chunk, BATCH, d')
        argmin = batch.var(1, ddof=1).argmin(1)
        np.add.at(votes, (chosen[lo : lo + _CHUNK], argmin), 1)
    return votes


def factor_vae_score(
    points: Points, train_votes: int = TRAIN_VOTES, eval_votes: int = EVAL_VOTES
) -> FactorVAEResult:
    k, d = points.factors.shape[1], points.codes.shape[1]
    std = points.codes.std(0, ddof=1)
    active = np.flatnonzero(std >= PRUNE_STD)
    protocol = points.protocol(
        "FactorVAE score",
        f"{train_votes:,} / {eval_votes:,} votes of {BATCH} points sharing a factor's value, "
        f"codes ÷ std, dimensions with std < {PRUNE_STD:g} out",
        f"{train_votes:,} / {eval_votes:,} votes of {BATCH}",
    )
    votes = np.zeros((k, d), np.int64)
    if k < 2:  # a classifier of one factor is always right: no score
        nan = math.nan
        return FactorVAEResult(nan, nan, votes, (nan,) * k, len(active), points.names, protocol)
    if not len(active):  # a collapsed model: nothing votes (disentanglement_lib scores 0)
        return FactorVAEResult(0.0, 0.0, votes, (math.nan,) * k, 0, points.names, protocol)
    normalised = points.codes[:, active] / std[active]
    rng = np.random.default_rng(points.seed)
    train = count_votes(normalised, *draw(points.factors, points.train, train_votes, rng), k)
    test = count_votes(normalised, *draw(points.factors, points.test, eval_votes, rng), k)
    classifier = train.argmax(0)  # the factor each active dimension predicts
    columns = np.arange(len(active))
    votes[:, active] = test
    right = np.zeros(k)
    np.add.at(right, classifier, test[classifier, columns])
    per_votes = test.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_factor = np.where(per_votes > 0, right / per_votes, math.nan)
    return FactorVAEResult(
        score=float(test[classifier, columns].sum() / max(test.sum(), 1)),
        train_accuracy=float(train[classifier, columns].sum() / max(train.sum(), 1)),
        votes=votes,
        per_factor=tuple(float(v) for v in per_factor),
        active_dims=len(active),
        factor_names=points.names,
        protocol=protocol,
    )
