"""Disentanglement metrics, each with the protocol it was measured under.

- `mig`: the Mutual Information Gap (Chen et al., 2018)
- `dci`: disentanglement, completeness, informativeness (Eastwood & Williams, 2018)
- `sap`: the SAP score (Kumar et al., 2018)
- `factor_vae_score`: the FactorVAE score (Kim & Mnih, 2018)

`points` chooses the codes scored (`MetricSettings`: factors, means or samples, points,
bins, seed) and states them (`Protocol`); `scores.score` computes all four. Each module
says where it follows disentanglement_lib and where its estimator differs.
"""

from explorer.core.disentanglement.mig import MIGResult, mig
from explorer.core.disentanglement.points import (
    DEFAULT_SETTINGS,
    MetricSettings,
    Points,
    Protocol,
    points_of,
    prepare,
)
from explorer.core.disentanglement.scores import Scores, score, score_points

__all__ = [
    "DEFAULT_SETTINGS",
    "MIGResult",
    "MetricSettings",
    "Points",
    "Protocol",
    "Scores",
    "mig",
    "points_of",
    "prepare",
    "score",
    "score_points",
]
