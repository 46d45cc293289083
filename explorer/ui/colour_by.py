"""Colouring the latent plot's points: by label or factor (categorical groups, `palette`),
or by a quantity that explains the model (core/per_point.py) through a perceptual colour
map (viridis), with how dense and how opaque the points are drawn.

`PointValues` computes the quantity the session colours by, off the GUI thread, once
per new model or codes (a reconstruction error is a decode pass over the data), and
hands it to the session (`Session.set_colour_values`). `colour_groups` turns what the
session colours by into the plot's groups of points; a quantity is cut into
`LEVELS` groups, one colour each, so the point item draws it as it draws classes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject

from explorer.core.density import ValueScale
from explorer.core.errors import ExplorerError
from explorer.core.metrics import dataset_labels
from explorer.core.model import images_to_tensor
from explorer.core.per_point import QUANTITIES, available, point_values
from explorer.logs import LOGGER
from explorer.ui.palette import group_points
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

log = logging.getLogger(LOGGER)

LEVELS = 64  # colours a quantity's points are drawn in: finer than the eye tells apart
_LUT_SIZE = 256
# On a dark plot the darkest quarter of viridis vanishes into the background.
_DARK_START = 0.25
DEFAULT_OPACITY = 0.69  # the points' opacity as designed (alpha b0 of the palette's colours)


@dataclass(frozen=True)
class PointStyle:
    """How the points are drawn, whatever colours them (the user's, kept in settings)."""

    size: int = 0  # dot diameter in pixels; 0: by the number of points (5, or 3 when many)
    opacity: float = DEFAULT_OPACITY  # of a lone dot, 0..1


def is_quantity(what: str) -> bool:
    return what in QUANTITIES


def colour_lut(dark: bool) -> np.ndarray:
    """Viridis as (256, 3) colours 0..1, without its darkest quarter on a `dark` plot."""
    start = _DARK_START if dark else 0.0
    lut = pg.colormap.get("viridis").getLookupTable(start, 1.0, _LUT_SIZE, alpha=False)
    return np.asarray(lut, np.float64) / 255.0


def value_scale(values: np.ndarray, dark: bool) -> ValueScale:
    """The map of `values` (N,): their finite minimum to maximum."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    return ValueScale(colour_lut(dark), lo, hi)


def _with_opacity(colour: str, opacity: float) -> str:
    """A palette colour "#rrggbb[aa]" with its alpha scaled so the default is as designed."""
    alpha = int(colour[7:9], 16) / 255 if len(colour) == 9 else 1.0
    scaled = min(alpha * opacity / DEFAULT_OPACITY, 1.0)
    return f"{colour[:7]}{round(255 * scaled):02x}"


def colour_groups(
    session: Session, dark: bool, style: PointStyle
) -> list[tuple[str, str, np.ndarray]]:
    """(legend name, colour "#rrggbbaa", point indices) per group of the session's points.

    A quantity's points fall in LEVELS unnamed groups along the map (no legend entries:
    the colour bar tells their values); one neutral group until its values are known.
    """
    what, values = session.colour_by, session.colour_values
    if is_quantity(what) and values is not None and len(values) == len(session.dataset):
        scale = value_scale(values, dark)
        span = scale.hi - scale.lo
        t = (values - scale.lo) / span if span > 0 else np.zeros_like(values)
        level = np.minimum((np.nan_to_num(t) * LEVELS).astype(np.int64), LEVELS - 1)
        order = np.argsort(level, kind="stable")
        bounds = np.searchsorted(level[order], np.arange(LEVELS + 1))
        centres = scale.colours(scale.lo + (np.arange(LEVELS) + 0.5) / LEVELS * span)
        groups = []
        for g in range(LEVELS):
            r, gr, b = (round(255 * c) for c in centres[g])
            colour = _with_opacity(f"#{r:02x}{gr:02x}{b:02x}b0", style.opacity)
            groups.append(("", colour, order[bounds[g] : bounds[g + 1]]))
        return groups
    by = "label" if is_quantity(what) else what
    return [
        (name, _with_opacity(colour, style.opacity), index)
        for name, colour, index in group_points(session.dataset, by, dark=dark)
    ]


class PointValues(QObject):
    """Works out the quantity the session colours by, in the background, whenever the
    model, the data or their codes change while one is chosen."""

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.job = LatestJob(self)
        self.job.done.connect(self._done)
        self.job.failed.connect(lambda message: log.warning("colour by: %s", message))
        self._asked: tuple | None = None  # what the newest job computes
        for signal in (session.codesChanged, session.colourByChanged, session.modelChanged):
            signal.connect(self._update)

    def _update(self) -> None:
        s = self.session
        what = s.colour_by
        if not is_quantity(what) or s.colour_values is not None:
            return
        if s.model is None or s.codes is None or s.dataset is None:
            return
        if what not in available(s.model) or len(s.codes) != len(s.dataset):
            return
        asked = (what, s.codes, s.model_version)
        if self._asked is not None and _same(asked, self._asked):
            return  # (already under way)
        self._asked = asked
        model = s.model_snapshot()
        images = images_to_tensor(s.dataset.images)
        try:
            labels = dataset_labels(model, s.dataset)
        except ExplorerError:  # (a cvae on data without labels: its encode said so)
            return
        codes, logvars = s.codes, s.logvars
        self.job.submit(lambda: (asked, point_values(what, model, images, codes, logvars, labels)))

    def _done(self, result: tuple[tuple, np.ndarray]) -> None:
        asked, values = result
        s = self.session
        if _same(asked, (s.colour_by, s.codes, s.model_version)):  # still what is shown
            self._asked = None
            s.set_colour_values(values)


def _same(a: tuple, b: tuple) -> bool:
    """Two (quantity, codes, model version) asked for: the same codes object, not equal
    arrays (comparing a million codes would cost more than it saves)."""
    return a[0] == b[0] and a[1] is b[1] and a[2] == b[2]
