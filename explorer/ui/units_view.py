"""Which code units fire and how often (`unitsPlot`, `unitHistogram`): a deterministic
model's code, unit by unit.

A deterministic model (the autoencoders, PCA) has no KL to show per dimension; what a
sparse autoencoder's penalty changes is how many units carry each image. The bars give
the share of the data each unit fires on (its activation above a tenth of the largest
any unit reaches: core/sparsity.py's `firing`); under them, a histogram of each unit's
activations over the data, one column per unit, brighter where more of its images fall
(each column scaled to its own peak). A
sparse code shows short bars and columns massed at zero; a plain autoencoder's, tall
bars and columns spread along their range.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.core.sparsity import FIRE_SHARE, firing, unit_histograms
from explorer.ui.palette import ACTIVE_COLOUR
from explorer.ui.theme import follow_palette, style_plot

BINS = 40  # activation bins of each unit's histogram
_TICKED_UNITS = 20  # up to this many units each get a tick label


class UnitsView(QWidget):
    """Firing shares and activation histograms of codes (N, d), drawn by `show_codes`."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary = QLabel(objectName="unitsSummary")
        self.summary.setWordWrap(True)
        self.plot = pg.PlotWidget(objectName="unitsPlot")
        self.plot.setLabel("left", "fires")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.plot.addItem(self.bars)
        self.histogram = pg.PlotWidget(objectName="unitHistogram")
        self.histogram.setLabel("left", "activation")
        self.histogram.setLabel("bottom", "code unit")
        self.image = pg.ImageItem()
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.histogram.addItem(self.image)
        for plot in (self.plot, self.histogram):
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.getAxis("left").enableAutoSIPrefix(False)  # activations as they are
        self.histogram.setXLink(self.plot)
        follow_palette(self, self._recolour)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.histogram, 2)
        self.shares = np.zeros(0)  # (d,) the share of the data each unit fires on, as shown
        self.counts = np.zeros((BINS, 0))  # (BINS, d) the histograms, as shown

    def _recolour(self, palette: QPalette) -> None:
        for plot in (self.plot, self.histogram):
            style_plot(plot, palette)

    def show_codes(self, codes: np.ndarray, noun: str) -> None:
        """Draw the units of codes (N, d) of a model called `noun` in the summary."""
        on = firing(codes)
        n, d = on.shape
        self.shares = on.mean(0) if n else np.zeros(d)
        self.counts, edges = unit_histograms(codes, BINS)
        self.bars.setOpts(
            x=np.arange(d), height=self.shares, width=0.8, pen=None, brush=ACTIVE_COLOUR
        )
        # each unit's column scaled to its own peak (a unit massed at zero and one spread
        # out both show their shape), a square root so the tails show beside the peak
        peaks = np.maximum(self.counts.max(0, initial=0.0), 1e-12)
        self.image.setImage(np.sqrt(self.counts / peaks), levels=(0.0, 1.0))
        self.image.setRect(QRectF(-0.5, edges[0], d, edges[-1] - edges[0]))
        ticks = [[(i, f"z{i}") for i in range(d)]] if d <= _TICKED_UNITS else None
        for plot in (self.plot, self.histogram):
            plot.getAxis("bottom").setTicks(ticks)
        if d:
            self.plot.setXRange(-0.6, d - 0.4, padding=0)
            self.plot.setYRange(0, 1.05, padding=0)
            self.histogram.setYRange(edges[0], edges[-1], padding=0.02)
        per_image = float(on.sum(1).mean()) if n else 0.0
        self.summary.setText(
            f"No KL: {'an' if noun[:1] in 'aeiou' else 'a'} {noun} encodes each image to a "
            f"point. Its units fire on {per_image:.1f} "
            f"of {d} per image on average (activation above {FIRE_SHARE:.0%} of the largest); "
            "below, each unit's activations over the data"
        )
