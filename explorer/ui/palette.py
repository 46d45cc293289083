"""Colours for the scatter: one group of points per class, or per value range of a factor."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from explorer.core.data import Dataset

# Colour-blind-friendly categorical colours (Okabe-Ito, then Tableau for the rest).
CATEGORICAL = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
    "#8c564b",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
# Sequential ramp for ordered factors (viridis, 8 steps).
SEQUENTIAL = [
    "#440154",
    "#46327e",
    "#365c8d",
    "#277f8e",
    "#1fa187",
    "#4ac16d",
    "#a0da39",
    "#fde725",
]
_NEUTRAL = "#4a6fa5"
_MAX_GROUPS = 8  # an ordered factor with more values is shown as this many ranges


def group_points(dataset: Dataset, by: str = "label") -> Iterator[tuple[str, str, np.ndarray]]:
    """(legend name, colour, point indices) per group; alpha is added for overlap."""
    if by != "label" and dataset.factors is not None and by in (dataset.factor_names or []):
        f = dataset.factor_names.index(by)
        values = dataset.factors[:, f]
        size = (dataset.factor_sizes or [int(values.max()) + 1] * (f + 1))[f]
        if by == "shape" or size <= _MAX_GROUPS:
            names = dataset.class_names if by == "shape" and dataset.class_names else None
            for v in range(size):
                idx = np.flatnonzero(values == v)
                colour = (
                    CATEGORICAL[v % len(CATEGORICAL)]
                    if by == "shape"
                    else SEQUENTIAL[round(v * (len(SEQUENTIAL) - 1) / max(size - 1, 1))]
                )
                yield (names[v] if names else f"{by} {v}"), colour + "b0", idx
            return
        edges = np.linspace(0, size, _MAX_GROUPS + 1).round().astype(int)
        for g in range(_MAX_GROUPS):
            idx = np.flatnonzero((values >= edges[g]) & (values < edges[g + 1]))
            yield f"{by} {edges[g]}–{edges[g + 1] - 1}", SEQUENTIAL[g] + "b0", idx
        return
    if dataset.labels is None:
        yield "", _NEUTRAL + "90", np.arange(len(dataset))
        return
    names = dataset.class_names or [str(i) for i in range(dataset.num_classes)]
    for k in range(dataset.num_classes):
        idx = np.flatnonzero(dataset.labels == k)
        if len(idx):
            yield names[k], CATEGORICAL[k % len(CATEGORICAL)] + "b0", idx
