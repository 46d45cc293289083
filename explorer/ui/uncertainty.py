"""The encoder's uncertainty drawn on the latent plot: ellipses of q(z|x), or its samples.

For the data point in focus (hovered or clicked last) the 1σ (solid) and 2σ (dashed)
ellipses of its posterior projected onto the plane; optionally the 1σ ellipses of a
fixed random subset of the data, which shows how much the codes overlap (small, apart
at low β; wide and overlapping at high β). Everything comes from the session's means
and log-variances, so redrawing on a new plane or new codes needs no encoder call.

A posterior that is no Gaussian (the planar-flow VAE's) has no ellipse: the focused
point and the subset get clouds of codes drawn from the model's q(z|x) instead, which
show the bent, skewed shapes the flow gives it. Those are drawn by the encoder, once
per point and model (kept until the model or the data changes).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QPalette

from explorer.core.kind_table import KIND_TABLE
from explorer.core.model import images_to_tensor
from explorer.core.posterior import ellipse_outlines, joined, model_samples, plane_gaussian
from explorer.ui.plot_marks import Outline, Symbol
from explorer.ui.state import Session
from explorer.ui.theme import PlotColours, follow_palette

FOCUS_COLOUR = "#d62728"
_SUBSET_ALPHA = 130  # of the text colour: translucent, so overlap reads as denser areas
FOCUS_SAMPLES = 400  # codes in the focused point's cloud: its shape reads at a glance
SUBSET_SAMPLES = 40  # codes in each cloud of the subset (up to a few hundred points)


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
        # a flow's samples: the focused point's (objectName for tests and tools) and the subset's
        self.cloud = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(FOCUS_COLOUR))
        self.cloud.setObjectName("posteriorCloud")
        self.subset_cloud = pg.ScatterPlotItem(size=2, pen=None)
        self._drawn: dict[int, np.ndarray] = {}  # point -> its (k, d) samples, this model's
        follow_palette(plot, self._recolour)
        layers = [self.subset, self.subset_cloud, self.cloud, self.two_sigma, self.one_sigma]
        for z, item in enumerate([*layers, self.ring]):
            item.setZValue(5 + z)  # over the scatter, under the cursor's marker
            plot.addItem(item, ignoreBounds=True)  # never rescale the plot
        session.focusChanged.connect(self.draw_focus)
        for signal in (session.modelChanged, session.codesChanged, session.datasetChanged):
            signal.connect(self._drawn.clear)
        for signal in (session.codesChanged, session.planeChanged, session.datasetChanged):
            signal.connect(self.redraw)

    def _recolour(self, palette: QPalette) -> None:
        ink = QColor(PlotColours.of(palette).text)
        ink.setAlpha(_SUBSET_ALPHA)
        self.subset.setPen(pg.mkPen(ink, width=1))
        self.subset_cloud.setBrush(pg.mkBrush(ink))

    def sampled(self) -> bool:
        """The model's posterior is drawn as samples (a flow's), not as ellipses."""
        model = self.session.model
        return model is not None and KIND_TABLE[model.kind].flow

    def samples(self, points: np.ndarray, k: int) -> np.ndarray:
        """k codes from q(z|x) of each data point of `points` (P,): (P, k, d), drawn once
        per model, in one pass for the points not drawn yet (seeded by the first of them)."""
        s = self.session
        missing = [int(i) for i in points if len(self._drawn.get(int(i), ())) < k]
        if missing:
            images = images_to_tensor(s.dataset.images[np.array(missing)])
            drawn = model_samples(s.model, images, k, seed=missing[0])
            self._drawn.update(zip(missing, drawn, strict=True))
        return np.stack([self._drawn[int(i)][:k] for i in points])

    def _ready(self) -> bool:
        s = self.session
        return (
            s.logvars is not None
            and s.plane is not None
            and s.latent_dim > 1  # a 1-D model's plot has no second latent axis
            and s.logvars.shape[1] == s.latent_dim
        )

    def draw_focus(self) -> None:
        """The 1σ and 2σ ellipses of the focused point (a flow's: its cloud of samples),
        and a ring on the point."""
        s = self.session
        for outline in (self.one_sigma, self.two_sigma):
            outline.set_points(np.zeros((0, 2)))
        self.cloud.setData([], [])
        if s.focus is None or not self._ready() or s.focus >= len(s.codes):
            self.ring.hide()
            return
        centre, cov = plane_gaussian(s.plane, s.codes[s.focus], s.logvars[s.focus])
        if self.sampled() and s.dataset is not None and s.focus < len(s.dataset):
            points = s.plane.to_plane(self.samples(np.array([s.focus]), FOCUS_SAMPLES)[0])
            self.cloud.setData(points[:, 0], points[:, 1])
        else:
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
        self.subset.setData([], [])
        self.subset_cloud.setData([], [])
        if self.subset_size == 0 or not self._ready():
            return
        pick = self.subset_indices()
        if self.sampled() and s.dataset is not None and len(s.dataset) == len(s.codes):
            points = s.plane.to_plane(self.samples(pick, SUBSET_SAMPLES)).reshape(-1, 2)
            self.subset_cloud.setData(points[:, 0], points[:, 1])
            return
        centre, cov = plane_gaussian(s.plane, s.codes[pick], s.logvars[pick])
        line = joined(ellipse_outlines(centre, cov, 1.0))
        self.subset.setData(line[:, 0], line[:, 1])

    def set_subset_size(self, n: int) -> None:
        self.subset_size = n
        self.draw_subset()

    def redraw(self) -> None:
        self.draw_focus()
        self.draw_subset()
