"""The points the disentanglement metrics score, and the protocol each states.

Published disentanglement scores of one model disagree between libraries because each
chooses its points differently: which factors, posterior means or samples, how many
points, which seed, which estimator. Every metric here therefore returns, beside its
value, a `Protocol` saying all of that, and `MetricSettings` holds the switches for the
common variants (e.g. MIG without shape, as Chen et al. 2018 report it; sampled codes,
as their code scores).

`prepare` turns a model's codes of a dataset into `Points`: the chosen factors, a seeded
subset of at most `settings.points` points, sampled codes when asked for, and a seeded
split into a part the estimators are fitted on and a part they are tested on (DCI, SAP
and the FactorVAE score; MIG uses every point).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.core.errors import ConfigError

CODE_KINDS = ("means", "samples")
MAX_BINS = 1000
MIN_POINTS = 10  # fewer cannot be split into a part to fit on and one to test on


@dataclass(frozen=True)
class MetricSettings:
    """The protocol's switches; the defaults are disentanglement_lib's
    (unsupervised_study_v1: 10,000 points, means, 20 bins, seed 0)."""

    exclude: tuple[str, ...] = ()  # factors left out of every metric (e.g. ("shape",))
    codes: str = "means"  # "means": posterior means; "samples": one z ~ q(z|x) per point
    bins: int = 20  # MIG: histogram bins per latent dimension, 2..MAX_BINS
    points: int = 10_000  # at most this many points, a seeded subset
    seed: int = 0  # subset, sampled codes, train/test split, FactorVAE batches
    train_share: float = 2 / 3  # DCI, SAP, FactorVAE: share fitted on (10,000 : 5,000)
    sap_continuous: bool = False  # SAP: R² per dimension (True) or 1-D classifier accuracy

    def validate(self) -> MetricSettings:
        if self.codes not in CODE_KINDS:
            raise ConfigError(f"codes {self.codes!r}: choose {' or '.join(CODE_KINDS)}")
        if not 2 <= self.bins <= MAX_BINS:
            raise ConfigError(f"bins {self.bins}: choose 2 to {MAX_BINS}")
        if self.points < MIN_POINTS:
            raise ConfigError(f"points {self.points}: at least {MIN_POINTS} are needed")
        return self


DEFAULT_SETTINGS = MetricSettings()


@dataclass(frozen=True)
class Protocol:
    """How a score was measured: enough to reproduce it or to compare it with a paper's."""

    metric: str  # "MIG", "DCI", "SAP", "FactorVAE score"
    factors: tuple[str, ...]  # the factors included
    codes: str  # "means" or "samples"
    points: int  # points scored
    seed: int
    estimator: str  # how the metric measures (bins, probe, classifier)
    method: str = ""  # the estimator in a few words, for a crowded screen
    train: int = 0  # points the estimator was fitted on; 0 when nothing is fitted
    test: int = 0  # points its score was measured on

    def describe(self) -> str:
        """One line for the screen and the terminal."""
        split = f", fitted on {self.train:,} / tested on {self.test:,}" if self.train else ""
        return (
            f"{self.metric}: {', '.join(self.factors)}; posterior {self.codes}; "
            f"{self.points:,} points{split}; {self.estimator}; seed {self.seed}"
        )

    def to_dict(self) -> dict:
        return {
            "factors": list(self.factors),
            "codes": self.codes,
            "points": self.points,
            "train": self.train,
            "test": self.test,
            "estimator": self.estimator,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Points:
    """Codes and their ground-truth factors, as the metrics score them."""

    codes: np.ndarray  # (N, d) float: posterior means or samples
    factors: np.ndarray  # (N, K) non-negative int: the value index of each factor
    names: tuple[str, ...]  # K factor names
    train: np.ndarray  # (n_train,) indices into the N points the estimators are fitted on
    test: np.ndarray  # (n_test,) the others, which their scores are measured on
    kind: str = "means"  # what the codes are: "means" or "samples"
    seed: int = 0

    def protocol(self, metric: str, estimator: str, method: str, split: bool = True) -> Protocol:
        return Protocol(
            metric=metric,
            factors=self.names,
            codes=self.kind,
            points=len(self.codes),
            seed=self.seed,
            estimator=estimator,
            method=method,
            train=len(self.train) if split else 0,
            test=len(self.test) if split else 0,
        )


def split(n: int, train_share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A seeded split of n points: (train indices, test indices), each at least one."""
    order = rng.permutation(n)
    cut = min(max(1, round(n * train_share)), n - 1)
    return np.sort(order[:cut]), np.sort(order[cut:])


def points_of(
    codes: np.ndarray,
    factors: np.ndarray,
    names: list[str] | tuple[str, ...] | None = None,
    train_share: float = 2 / 3,
    seed: int = 0,
    kind: str = "means",
) -> Points:
    """All the given codes (N, d) and factors (N, K) as Points, split with `seed`."""
    factors = np.asarray(factors)
    names = tuple(names or (f"factor {i}" for i in range(factors.shape[1])))
    train, test = split(len(codes), train_share, np.random.default_rng(seed))
    return Points(np.asarray(codes, np.float64), factors, names, train, test, kind, seed)


def kept_factors(
    names: tuple[str, ...] | list[str], exclude: tuple[str, ...], option: str = "leaving out"
) -> list[int]:
    """Indices of the factors `names` less `exclude`; ConfigError (starting with `option`)
    names a factor to leave out that the data does not have, or says none would be left."""
    unknown = [n for n in exclude if n not in names]
    if unknown:
        raise ConfigError(
            f"{option}: the data has no factor {unknown[0]!r} (its factors: {', '.join(names)})"
        )
    keep = [i for i, n in enumerate(names) if n not in exclude]
    if not keep:
        raise ConfigError(f"{option}: every factor is left out; keep at least one to score")
    return keep


def prepare(
    mu: np.ndarray,
    logvar: np.ndarray | None,
    factors: np.ndarray,
    names: list[str] | tuple[str, ...],
    settings: MetricSettings = DEFAULT_SETTINGS,
) -> Points:
    """The points `settings` asks for from codes mu, logvar (N, d) and factors (N, K).

    Raises ConfigError naming a factor to leave out that the data does not have, when
    none would be left, or when there are fewer than MIN_POINTS points.
    """
    settings.validate()
    if len(mu) < MIN_POINTS:
        raise ConfigError(f"{len(mu)} points: at least {MIN_POINTS} are needed to score")
    names = tuple(names)
    keep = kept_factors(names, settings.exclude)
    rng = np.random.default_rng(settings.seed)
    pick = np.arange(len(mu))
    if len(pick) > settings.points:
        pick = np.sort(rng.choice(len(pick), settings.points, replace=False))
    codes = np.asarray(mu[pick], np.float64)
    if settings.codes == "samples" and logvar is not None:
        # one draw of q(z|x) per point; a deterministic model (logvar = -inf) keeps its code
        codes = codes + np.exp(0.5 * np.asarray(logvar[pick], np.float64)) * rng.standard_normal(
            codes.shape
        )
    train, test = split(len(pick), settings.train_share, rng)
    # Each factor's values as dense indices 0..k-1 in their order: the metrics size their
    # tables by the largest value, and a file may claim a value of 10**9 for three images.
    chosen = np.stack(
        [np.unique(factors[pick, f], return_inverse=True)[1].reshape(-1) for f in keep], axis=1
    ).astype(np.int64)
    return Points(
        codes,
        chosen,
        tuple(names[i] for i in keep),
        train,
        test,
        settings.codes,
        settings.seed,
    )
