"""The encoder's uncertainty drawn on the latent plot: ellipses of q(z|x).

For the data point in focus (hovered or clicked last) the 1σ (solid) and 2σ (dashed)
ellipses of its posterior projected onto the plane; optionally the 1σ ellipses of a
fixed random subset of the data, which shows how much the codes overlap (small, apart
at low β; wide and overlapping at high β). Everything comes from the session's means
and log-variances, so redrawing on a new plane or new codes needs no encoder call.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QPalette

from explorer.core.posterior import ellipse_outlines, joined, plane_gaussian
from explorer.ui.plot_marks import Outline, Symbol
from explorer.ui.state import Session
from explorer.ui.theme import PlotColours, follow_palette

FOCUS_COLOUR = "#d62728"
_SUBSET_ALPHA = 130  # of the text colour: translucent, so overlap reads as denser areas


class UncertaintyOverlay(QObject):
    def __init__(self, session: Session, plot: pg.PlotWidget):
        super().__init__(plot)
        self.session = session
        self.subset_size = 0  # how many random data points get ellipses (0: none)
        # (they follow the cursor: Qt's own items, see plot_marks)
        self.ring = Symbol("o", 11, pg.mkPen(FOCUS_COLOUR, width=2))
        self.one_sigma = Outline(pg.mkPen(FOCUS_COLOUR, width=2))
        self.two_sigma = Outline(pg.mkPen(FOCUS_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        self.subset = pg.PlotDataItem(connect="finite")
        follow_palette(plot, self._recolour)
        for z, item in enumerate([self.subset, self.two_sigma, self.one_sigma, self.ring]):
            item.setZValue(5 + z)  # over the scatter, under the cursor's marker
            plot.addItem(item, ignoreBounds=True)  # never rescale the plot
        session.focusChanged.connect(self.draw_focus)
        for signal in (session.codesChanged, session.planeChanged, session.datasetChanged):
            signal.connect(self.redraw)

    def _recolour(self, palette: QPalette) -> None:
        ink = QColor(PlotColours.of(palette).text)
        ink.setAlpha(_SUBSET_ALPHA)
        self.subset.setPen(pg.mkPen(ink, width=1))

    def _ready(self) -> bool:
        s = self.session
        return (
            s.logvars is not None
            and s.plane is not None
            and s.latent_dim > 1  # a 1-D model's plot has no second latent axis
            and s.logvars.shape[1] == s.latent_dim
        )

    def draw_focus(self) -> None:
        """The 1σ and 2σ ellipses of the focused point, and a ring on the point."""
        s = self.session
        if s.focus is None or not self._ready() or s.focus >= len(s.codes):
            for outline in (self.one_sigma, self.two_sigma):
                outline.set_points(np.zeros((0, 2)))
            self.ring.hide()
            return
        centre, cov = plane_gaussian(s.plane, s.codes[s.focus], s.logvars[s.focus])
        for outline, k in ((self.one_sigma, 1.0), (self.two_sigma, 2.0)):
            outline.set_points(ellipse_outlines(centre[None], cov[None], k)[0])
        self.ring.place(centre[0], centre[1])

    def subset_indices(self) -> np.ndarray:
        """The data points given ellipses: a fixed random choice, the same for every model."""
        n = len(self.session.codes)
        k = min(self.subset_size, n)
        return np.sort(np.random.default_rng(0).choice(n, k, replace=False))

    def draw_subset(self) -> None:
        s = self.session
        if self.subset_size == 0 or not self._ready():
            self.subset.setData([], [])
            return
        pick = self.subset_indices()
        centre, cov = plane_gaussian(s.plane, s.codes[pick], s.logvars[pick])
        line = joined(ellipse_outlines(centre, cov, 1.0))
        self.subset.setData(line[:, 0], line[:, 1])

    def set_subset_size(self, n: int) -> None:
        self.subset_size = n
        self.draw_subset()

    def redraw(self) -> None:
        self.draw_focus()
        self.draw_subset()
