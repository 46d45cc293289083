"""KL per latent dimension (`klPlot`): which dimensions the model uses, and collapse.

One bar per dimension, the KL(q(z_i|x) ‖ p(z_i)) averaged over the data, in nats.
A dimension is active when the variance over the data of its posterior mean exceeds
0.01 (`metrics.active_units`); inactive bars are grey, like their sliders. A model
with no active dimension, or almost no KL at all, has collapsed to its prior: the
decoder ignores z, and the view says so. A deterministic model (an autoencoder, a
sparse one, PCA) has no KL: the view shows its code units instead, which fire and how
often (ui/units_view.py), so a sparse autoencoder's code reads beside a plain one's.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.core.kind_table import KIND_TABLE
from explorer.core.metrics import ACTIVE_THRESHOLD
from explorer.ui.palette import ACTIVE_COLOUR, INACTIVE_COLOUR
from explorer.ui.state import Session, active_dims
from explorer.ui.theme import follow_palette, style_plot, warning_colour
from explorer.ui.units_view import UnitsView

COLLAPSE_KL = 0.1  # nats: below this in total the posterior is the prior, whatever x is


class KLView(QWidget):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("klPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("left", "KL (nats)")
        self.plot.setLabel("bottom", "latent dimension")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self.plot.addItem(self.bars)
        self.summary = QLabel(objectName="klSummary")
        self.summary.setWordWrap(True)
        self.warning = QLabel(objectName="collapseWarning")
        self.warning.setWordWrap(True)
        self.units = UnitsView()
        self.units.hide()
        follow_palette(self, self._recolour)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.warning)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.units, 1)
        session.modelChanged.connect(self.refresh)
        session.codesChanged.connect(self.refresh)

    def _recolour(self, palette: QPalette) -> None:
        style_plot(self.plot, palette)
        self.warning.setStyleSheet(f"color: {warning_colour(palette).name()}; font-weight: bold;")

    def kl(self) -> np.ndarray:
        """(d,) the KL of each dimension, as shown; empty when it is not known."""
        kl = np.asarray(self.session.info.kl_per_dim, dtype=float)
        return kl if len(kl) == self.session.latent_dim else np.zeros(0)

    def refresh(self) -> None:
        model, codes = self.session.model, self.session.codes
        units = model is not None and model.deterministic and codes is not None
        units = units and codes.shape[1:] == (self.session.latent_dim,)
        self.units.setVisible(units)
        for widget in (self.plot, self.summary):
            widget.setVisible(not units)
        if units:
            self.units.show_codes(codes, KIND_TABLE[model.kind].noun)
        kl, active = self.kl(), active_dims(self.session)
        d = len(kl)
        colours = [
            ACTIVE_COLOUR if active is None or active[i] else INACTIVE_COLOUR for i in range(d)
        ]
        # (pyqtgraph 0.13 fails on an empty `brushes` list: give none when there are no bars)
        self.bars.setOpts(x=np.arange(d), height=kl, width=0.8, pen=None, brushes=colours or None)
        self.plot.getAxis("bottom").setTicks(
            [[(i, f"z{i}") for i in range(d)]] if d <= 20 else None
        )
        if d:
            self.plot.setXRange(-0.6, d - 0.4, padding=0)
            self.plot.setYRange(0, max(float(kl.max()), COLLAPSE_KL) * 1.1, padding=0)
        model = self.session.model
        if d == 0 and model is not None and model.deterministic:
            self.summary.setText(
                f"No KL: a {model.kind} encodes each image to a point, not a distribution, "
                "so nothing pulls its codes towards a prior"
            )
        elif d == 0:
            self.summary.setText("KL per dimension: not known for this model yet")
        elif active is None:
            self.summary.setText(f"Total KL {kl.sum():.2f} nats · encoding the data…")
        else:
            self.summary.setText(
                f"Total KL {kl.sum():.2f} nats · active units {int(active.sum())} of {d} "
                f"(variance of the mean over the data > {ACTIVE_THRESHOLD})"
            )
        if d and model is not None and KIND_TABLE[model.kind].flow:
            # a flow's q is no product of dimensions: the bars are its Gaussian summary's
            sampled = self.session.info.metrics.get("kl")
            own = f"; its own KL, sampled through the flow: {sampled:.2f} nats" if sampled else ""
            self.summary.setText(
                f"{self.summary.text()} · bars: q(z|x) linearised at its centre{own}"
            )
        collapsed = d > 0 and bool(
            kl.sum() < COLLAPSE_KL or (active is not None and not active.any())
        )
        self.warning.setText(
            "Posterior collapse: no dimension carries information, so the decoder ignores "
            "z. Lower β, or train with KL warm-up."
            if collapsed
            else ""
        )
        self.warning.setVisible(collapsed)
