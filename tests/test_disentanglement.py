"""The disentanglement metrics on synthetic codes whose answer is known (a factorised
code, a rotated one, noise), and each against a direct computation from its definition
on a small case."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from explorer.core.disentanglement import (
    MetricSettings,
    points_of,
    prepare,
    score,
    score_points,
)
from explorer.core.disentanglement.dci import dci, scores
from explorer.core.disentanglement.factor_vae_score import BATCH, count_votes, draw
from explorer.core.disentanglement.mig import mig
from explorer.core.disentanglement.probe import fit_lda
from explorer.core.disentanglement.sap import sap
from explorer.core.errors import ConfigError

SIZES = (3, 6, 10, 8)  # values per factor
N = 4000


def factors(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, N) for s in SIZES], axis=1)


def standardised(f: np.ndarray) -> np.ndarray:
    return (f - f.mean(0)) / f.std(0)


def factorised(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each factor in a dimension of its own (a little noise), plus two unused dimensions."""
    rng = np.random.default_rng(seed)
    f = factors(seed)
    codes = np.hstack([standardised(f) + rng.normal(0, 0.02, f.shape), rng.normal(0, 0.01, (N, 2))])
    return codes, f


# Orthogonal, every entry ±1/2: each code dimension carries all four factors equally.
HADAMARD = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2


@pytest.fixture(scope="module")
def perfect():
    return score_points(points_of(*factorised()))


@pytest.fixture(scope="module")
def rotated():
    codes, f = factorised(1)
    return score_points(points_of(codes[:, :4] @ HADAMARD, f))


@pytest.fixture(scope="module")
def noise():
    f = factors(2)
    return score_points(points_of(np.random.default_rng(2).normal(size=(N, 6)), f))


def test_a_factorised_code_scores_about_one(perfect):
    assert perfect.mig.score > 0.95
    assert perfect.mig.best_dims == (0, 1, 2, 3)
    assert perfect.dci.disentanglement > 0.95 and perfect.dci.completeness > 0.95
    assert perfect.dci.informativeness > 0.98
    assert perfect.factor_vae.score > 0.98
    # discrete SAP's ceiling: the second-best dimension still guesses at chance, 1/values
    ceiling = np.mean([1 - 1 / s for s in SIZES])
    assert perfect.sap.score == pytest.approx(ceiling, abs=0.04)
    continuous = sap(points_of(*factorised()), continuous=True)
    assert continuous.score > 0.98


def test_a_rotated_code_scores_low(rotated):
    assert rotated.mig.score < 0.1
    assert rotated.dci.disentanglement < 0.1 and rotated.dci.completeness < 0.1
    assert rotated.dci.informativeness > 0.95  # all the information is there, mixed
    assert rotated.sap.score < 0.1
    assert rotated.factor_vae.score < 0.5  # chance is 1/4


def test_noise_scores_about_zero(noise):
    assert noise.mig.score < 0.02
    assert noise.dci.disentanglement < 0.1 and noise.dci.completeness < 0.1
    assert noise.dci.informativeness < 0.3  # about chance for 3 to 10 values
    assert noise.sap.score < 0.05
    assert noise.factor_vae.score < 0.4


def test_mig_against_explicit_histogram_sums():
    rng = np.random.default_rng(3)
    f = rng.integers(0, 3, (300, 2))
    # factor 0 in z0 and, noisier, in z2: its gap is z0's MI less z2's, not less z1's
    codes = np.stack(
        [f[:, 0] + rng.normal(0, 0.5, 300), rng.normal(size=300), f[:, 0] + rng.normal(0, 1, 300)],
        1,
    )
    bins = 5
    result = mig(points_of(codes, f), bins)
    for j in range(3):
        c = codes[:, j]
        lo, hi = c.min(), c.max()
        binned = [min(int((v - lo) / (hi - lo) * bins), bins - 1) for v in c]
        for k in range(2):
            pairs = Counter(zip(binned, f[:, k].tolist(), strict=True))
            pa, pb = Counter(binned), Counter(f[:, k].tolist())
            n = len(c)
            mi = sum(
                m / n * math.log((m / n) / (pa[a] / n * pb[b] / n)) for (a, b), m in pairs.items()
            )
            assert result.mutual_info[j, k] == pytest.approx(mi, abs=1e-9)
    for k in range(2):
        h = -sum(m / 300 * math.log(m / 300) for m in Counter(f[:, k].tolist()).values())
        top, second, _ = sorted(result.mutual_info[:, k], reverse=True)
        assert result.gaps[k] == pytest.approx((top - second) / h)
    assert result.score == pytest.approx(np.mean(result.gaps))


def test_dci_scores_against_their_definition():
    r = np.array([[0.7, 0.1, 0.0], [0.2, 0.0, 0.5], [0.1, 0.9, 0.5], [0.0, 0.0, 0.0]])
    d, c, per_dim, per_factor = scores(r)

    def one_minus_entropy(p: list[float], base: int) -> float:
        p = [v + 1e-11 for v in p]
        total = sum(p)
        return 1 - sum(-v / total * math.log(v / total, base) for v in p)

    want_dim = [one_minus_entropy(list(row), 3) for row in r]
    want_factor = [one_minus_entropy(list(col), 4) for col in r.T]
    assert per_dim == pytest.approx(want_dim) and per_factor == pytest.approx(want_factor)
    assert d == pytest.approx(sum(w * s for w, s in zip(want_dim, r.sum(1) / r.sum(), strict=True)))
    assert c == pytest.approx(
        sum(w * s for w, s in zip(want_factor, r.sum(0) / r.sum(), strict=True))
    )
    assert scores(np.eye(3))[:2] == pytest.approx((1.0, 1.0))
    assert scores(np.ones((3, 3)))[:2] == pytest.approx((0.0, 0.0), abs=1e-9)


def test_dci_importance_columns_sum_to_one_and_name_the_dimension():
    result = dci(points_of(*factorised()))
    assert result.importance.sum(0) == pytest.approx(np.ones(4))
    assert result.importance.argmax(0).tolist() == [0, 1, 2, 3]


def test_sap_continuous_is_the_squared_correlation():
    rng = np.random.default_rng(4)
    f = rng.integers(0, 5, (500, 2))
    codes = np.stack([f[:, 0] + rng.normal(0, 1, 500), f[:, 1] - f[:, 0], np.zeros(500)], 1)
    result = sap(points_of(codes, f), continuous=True)
    for j in range(2):
        for k in range(2):
            r = np.corrcoef(codes[:, j], f[:, k])[0, 1]
            assert result.matrix[j, k] == pytest.approx(r**2)
    assert result.matrix[2].tolist() == [0.0, 0.0]  # no variance, no score
    for k in range(2):
        top, second = sorted(result.matrix[:, k], reverse=True)[:2]
        assert result.gaps[k] == pytest.approx(top - second)


def test_a_one_dimension_probe_reads_values_in_any_order():
    """Like the SVM SAP uses: a shape stored as three ranges in an arbitrary order."""
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 900)
    place = np.array([1.0, -1.0, 0.0])[y]  # class 0 on the right, 1 on the left, 2 between
    x = (place + rng.normal(0, 0.1, 900))[None, :, None]
    assert (fit_lda(x, y, 3, balanced=True).predict(x)[0] == y).mean() > 0.99


def test_a_probe_reads_an_angle_stored_on_a_circle():
    rng = np.random.default_rng(8)
    y = rng.integers(0, 8, 2000)
    angle = y * np.pi / 4
    x = np.stack([np.cos(angle), np.sin(angle)], 1) + rng.normal(0, 0.1, (2000, 2))
    assert (fit_lda(x[None], y, 8).predict(x[None])[0] == y).mean() > 0.99


def test_factor_vae_votes_against_a_slow_count():
    codes, f = factorised(6)
    codes = codes[:500]
    f = f[:500]
    rng = np.random.default_rng(0)
    chosen, members = draw(f, np.arange(300), 200, rng)
    assert members.shape == (200, BATCH)
    for k, batch in zip(chosen, members, strict=True):  # each batch shares k's value
        assert len(set(f[batch, k].tolist())) == 1
    normalised = codes / codes.std(0, ddof=1)
    slow = np.zeros((4, 6), int)
    for k, batch in zip(chosen, members, strict=True):
        variances = [np.var(normalised[batch, j], ddof=1) for j in range(6)]
        slow[k, int(np.argmin(variances))] += 1
    assert (count_votes(normalised, chosen, members, 4) == slow).all()


def test_prepare_leaves_out_factors_and_samples_codes():
    rng = np.random.default_rng(7)
    mu = rng.normal(size=(50, 3))
    logvar = np.full((50, 3), np.log(0.25))
    f = rng.integers(0, 4, (50, 3))
    names = ["shape", "x", "y"]
    p = prepare(mu, logvar, f, names, MetricSettings(exclude=("shape",), points=20))
    assert p.names == ("x", "y") and p.factors.shape == (20, 2)
    assert len(p.train) + len(p.test) == 20 and not set(p.train) & set(p.test)
    means = prepare(mu, logvar, f, names, MetricSettings(points=20))
    samples = prepare(mu, logvar, f, names, MetricSettings(points=20, codes="samples"))
    assert np.isin(means.codes, mu).all() and not np.allclose(samples.codes, means.codes)
    assert np.std(samples.codes - means.codes) == pytest.approx(0.5, rel=0.3)  # σ = 0.5
    fixed = prepare(mu, np.full_like(mu, -np.inf), f, names, MetricSettings(codes="samples"))
    assert np.allclose(fixed.codes, mu)  # a deterministic model's code is its sample
    with pytest.raises(ConfigError, match=r"no factor 'shap' .*shape, x, y"):
        prepare(mu, logvar, f, names, MetricSettings(exclude=("shap",)))
    with pytest.raises(ConfigError, match="every factor is left out"):
        prepare(mu, logvar, f, names, MetricSettings(exclude=tuple(names)))


def test_every_metric_states_its_protocol():
    codes, f = factorised()
    settings = MetricSettings(exclude=("factor 0",), bins=12, points=1000, seed=3)
    result = score(codes, None, f, [f"factor {i}" for i in range(4)], settings)
    for r in (result.mig, result.dci, result.sap, result.factor_vae):
        p = r.protocol
        assert p.factors == ("factor 1", "factor 2", "factor 3") and p.points == 1000
        assert p.seed == 3 and p.codes == "means" and p.estimator
        assert "factor 1, factor 2, factor 3" in p.describe() and "1,000 points" in p.describe()
    assert "12 equal-width bins" in result.mig.protocol.estimator
    assert result.dci.protocol.train + result.dci.protocol.test == 1000
    out = result.to_dict()
    assert set(out) == {"mig", "dci", "sap", "factor_vae_score"}
    assert out["dci"]["protocol"]["estimator"].startswith("importance from a linear")


def test_factor_values_far_apart_cost_what_their_count_costs():
    # A factor of three values claimed as 0, 1 and 10**9 (a hostile file, or a user's
    # own numbering): the metrics see three values, not a table of a billion columns.
    rng = np.random.default_rng(0)
    n = 600
    f = rng.integers(0, 3, n)
    spread = np.array([0, 1, 10**9])[f]
    codes = np.stack([f + 0.1 * rng.standard_normal(n), rng.standard_normal(n)], axis=1)
    far = score(codes, None, spread[:, None], ["f"])
    near = score(codes, None, f[:, None], ["f"])
    assert far.mig.score == pytest.approx(near.mig.score)
    assert far.sap.score == pytest.approx(near.sap.score)
