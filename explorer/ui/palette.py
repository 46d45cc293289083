"""Colours for the scatter: one group of points per class, or per value range of a factor.

Each set has a variant for a dark plot background, where black points and the dark end
of viridis would vanish.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from explorer.core.data import Dataset

# A latent dimension the model uses, and one it does not (KL bars, slider names)
ACTIVE_COLOUR = "#1f77b4"
INACTIVE_COLOUR = "#b0b0b0"

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
# On a dark background: black becomes light grey.
CATEGORICAL_DARK = [c if c != "#000000" else "#e6e6e6" for c in CATEGORICAL]
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
# On a dark background: viridis from 0.3 up, its darkest third left out.
SEQUENTIAL_DARK = [
    "#35608d",
    "#2a788e",
    "#21918d",
    "#22a884",
    "#43bf71",
    "#7ad151",
    "#bcdf27",
    "#fde725",
]
_NEUTRAL = "#4a6fa5"
_MAX_GROUPS = 8  # an ordered factor with more values is shown as this many ranges


def group_points(
    dataset: Dataset, by: str = "label", dark: bool = False
) -> Iterator[tuple[str, str, np.ndarray]]:
    """(legend name, colour, point indices) per group, for a light or a `dark` plot;
    alpha is added for overlap."""
    categorical = CATEGORICAL_DARK if dark else CATEGORICAL
    sequential = SEQUENTIAL_DARK if dark else SEQUENTIAL
    if by != "label" and dataset.factors is not None and by in (dataset.factor_names or []):
        f = dataset.factor_names.index(by)
        values = dataset.factors[:, f]
        size = (dataset.factor_sizes or [int(values.max()) + 1] * (f + 1))[f]
        # A size may be claimed far beyond the values used: past a few groups, only the
        # values present are walked (a sort of N, not a pass over N per claimed value).
        present = range(size) if size <= _MAX_GROUPS else np.unique(values).tolist()
        if len(present) <= _MAX_GROUPS and (by == "shape" or size <= _MAX_GROUPS):
            names = dataset.class_names if by == "shape" and dataset.class_names else None
            for v in present:
                idx = np.flatnonzero(values == v)
                colour = (
                    categorical[v % len(categorical)]
                    if by == "shape"
                    else sequential[round(v * (len(sequential) - 1) / max(size - 1, 1))]
                )
                named = names is not None and v < len(names)
                yield (names[v] if named else f"{by} {v}"), colour + "b0", idx
            return
        edges = np.linspace(0, size, _MAX_GROUPS + 1).round().astype(int)
        for g in range(_MAX_GROUPS):
            idx = np.flatnonzero((values >= edges[g]) & (values < edges[g + 1]))
            yield f"{by} {edges[g]}–{edges[g + 1] - 1}", sequential[g] + "b0", idx
        return
    if dataset.labels is None:
        yield "", _NEUTRAL + "90", np.arange(len(dataset))
        return
    names = dataset.class_names or [str(i) for i in range(dataset.num_classes)]
    for k in range(dataset.num_classes):
        idx = np.flatnonzero(dataset.labels == k)
        if len(idx):
            yield names[k], categorical[k % len(categorical)] + "b0", idx
