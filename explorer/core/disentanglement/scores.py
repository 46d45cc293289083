"""All four disentanglement metrics of one set of codes, with their protocols."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.core.disentanglement.dci import DCIResult, dci
from explorer.core.disentanglement.factor_vae_score import FactorVAEResult, factor_vae_score
from explorer.core.disentanglement.mig import MIGResult, mig
from explorer.core.disentanglement.points import DEFAULT_SETTINGS, MetricSettings, Points, prepare
from explorer.core.disentanglement.sap import SAPResult, sap


@dataclass(frozen=True)
class Scores:
    mig: MIGResult
    dci: DCIResult
    sap: SAPResult
    factor_vae: FactorVAEResult
    settings: MetricSettings

    @property
    def factor_names(self) -> tuple[str, ...]:
        return self.mig.factor_names

    def to_dict(self) -> dict:
        """Plain data for JSON: each metric's value(s) and its protocol."""

        def per_factor(values) -> dict:
            return {n: _plain(v) for n, v in zip(self.factor_names, values, strict=True)}

        m, c, s, f = self.mig, self.dci, self.sap, self.factor_vae
        return {
            "mig": {"score": m.score, "per_factor": per_factor(m.gaps), **_p(m)},
            "dci": {
                "disentanglement": _plain(c.disentanglement),
                "completeness": _plain(c.completeness),
                "informativeness": _plain(c.informativeness),
                "informativeness_train": _plain(c.informativeness_train),
                "completeness_per_factor": per_factor(c.per_factor),
                "accuracy_per_factor": per_factor(c.accuracy),
                "importance": c.importance.round(4).tolist(),
                **_p(c),
            },
            "sap": {
                "score": s.score,
                "per_factor": per_factor(s.gaps),
                "factors_as": "continuous" if s.continuous else "discrete",
                **_p(s),
            },
            "factor_vae_score": {
                "score": _plain(f.score),
                "train_accuracy": _plain(f.train_accuracy),
                "per_factor": per_factor(f.per_factor),
                "active_dims": f.active_dims,
                **_p(f),
            },
        }


def _plain(value: float) -> float | None:
    """JSON has no NaN: an undefined figure is null."""
    return None if np.isnan(value) else float(value)


def _p(result) -> dict:
    return {"protocol": result.protocol.to_dict()}


def score_points(points: Points, settings: MetricSettings = DEFAULT_SETTINGS) -> Scores:
    return Scores(
        mig=mig(points, settings.bins),
        dci=dci(points),
        sap=sap(points, settings.sap_continuous),
        factor_vae=factor_vae_score(points),
        settings=settings,
    )


def score(
    mu: np.ndarray,
    logvar: np.ndarray | None,
    factors: np.ndarray,
    names: list[str] | tuple[str, ...],
    settings: MetricSettings = DEFAULT_SETTINGS,
) -> Scores:
    """Every metric of codes mu, logvar (N, d) against factors (N, K), as `settings` says."""
    return score_points(prepare(mu, logvar, factors, names, settings), settings)
