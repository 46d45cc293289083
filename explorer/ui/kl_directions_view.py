"""Help ▸ Forward vs reverse KL: why a VAE's encoder picks one mode rather than spanning all.

A two-mode target p (shaded) and the two Gaussians fitted to it, one per direction of
the KL (`core.kl_directions`), drawn as their 1σ (solid) and 2σ (dashed) ellipses; a
slider moves the modes apart and both fits follow. The window is not modal and needs no
model: a learner can keep it open beside the KL tab.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from explorer.core.kl_directions import Fits, Gaussian, density_grid, fit_both
from explorer.core.posterior import ellipse_outlines
from explorer.ui.palette import CATEGORICAL
from explorer.ui.theme import (
    MIN_CONTRAST,
    follow_palette,
    legible_on,
    mix,
    style_legend,
    style_plot,
    style_sliders,
)

EXTENT = 7.0  # the plot shows [−EXTENT, EXTENT]²: the forward fit's 2σ ellipse at the
# largest distance reaches about this far
STEPS_PER_UNIT = 10  # the slider's steps per unit of distance between the modes
MAX_DISTANCE = 7.0
START_DISTANCE = 4.0  # far enough apart that the two fits differ at first sight
_GRID = 160  # density pixels per side
_LINE_CONTRAST = 3.0  # WCAG's least for graphics against their background
REVERSE_COLOUR = CATEGORICAL[3]  # vermilion
FORWARD_COLOUR = CATEGORICAL[0]  # blue
_FILL_SHARE = 0.5  # p's densest shade: this share of the way from background to text

# (z∣x with U+2223, not "|": a line may break after a "|", splitting the formula)
EXPLANATION = (
    "p (shaded) is a mixture of two Gaussians; each q is the one Gaussian that minimises "
    "one direction of the KL. <b>KL(q‖p)</b> = E<sub>q</sub>[log q/p] is large where q "
    "puts mass that p lacks, so q settles on one mode and ignores the other "
    "(<i>mode-seeking</i>). <b>KL(p‖q)</b> = E<sub>p</sub>[log p/q] is large where p has "
    "mass that q lacks, so q spreads over both modes and the gap between them "
    "(<i>mass-covering</i>); for a Gaussian q its minimum is moment matching: the "
    "mixture's own mean and covariance. A VAE fits its encoder the reverse way: the ELBO "
    "is log p(x) − KL(q(z∣x)‖p(z∣x)), so training lowers KL(q‖p) to the true posterior. "
    "Where that posterior has several modes, q(z∣x) commits to one rather than blurring "
    "them; and this is the direction that can be estimated: its expectation is over q, "
    "which we can sample, not over the posterior, which we cannot."
)


class KLDirectionsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("klDirectionsDialog")
        self.setWindowTitle("Forward vs reverse KL")
        self.fits: Fits | None = None  # what is drawn
        self._fitted: dict[int, Fits] = {}  # by slider value: a drag back costs no fit
        self._names: dict[str, str] = {}  # per fit, its table row's name in its line's hue
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("klDirectionsPlot")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.setRange(xRange=(-EXTENT, EXTENT), yRange=(-EXTENT, EXTENT), padding=0)
        self.plot.setLabel("bottom", "z₁")
        self.plot.setLabel("left", "z₂")
        self.density = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.density)
        self.legend = self.plot.addLegend(offset=(-8, 8))
        self.target_sample = pg.PlotDataItem(pen=None, symbol="s", symbolSize=12, symbolPen=None)
        self.legend.addItem(self.target_sample, "p: two Gaussians")
        self.curves = {
            name: (pg.PlotDataItem(), pg.PlotDataItem(), pg.PlotDataItem(symbol="+"))
            for name in ("forward", "reverse")
        }  # per fit: its 1σ and 2σ ellipses and its mean, the reverse fit's drawn last
        for one, two, centre in self.curves.values():
            for item in (two, one, centre):
                self.plot.addItem(item)
        self.legend.addItem(self.curves["reverse"][0], "q = argmin KL(q‖p): reverse")
        self.legend.addItem(self.curves["forward"][0], "q = argmin KL(p‖q): forward")
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="modeDistanceSlider")
        self.slider.setRange(0, round(MAX_DISTANCE * STEPS_PER_UNIT))
        self.slider.setValue(round(START_DISTANCE * STEPS_PER_UNIT))
        self.slider.setToolTip("Move the two modes of p apart or together")
        style_sliders(self.slider, self)
        self.distance_label = QLabel(objectName="modeDistanceLabel")
        self.numbers = QLabel(objectName="klDirectionsNumbers")
        text = QLabel(EXPLANATION, objectName="klDirectionsText")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        row = QHBoxLayout()
        row.addWidget(self.distance_label)
        row.addWidget(self.slider, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addLayout(row)
        layout.addWidget(self.numbers)
        layout.addWidget(text)
        # A drag sends many values per frame: only the last one is fitted and drawn.
        self._redraw = QTimer(self, singleShot=True, interval=0)
        self._redraw.timeout.connect(self.draw)
        self.slider.valueChanged.connect(self._redraw.start)
        follow_palette(self, self._recolour)  # draws the first fit too
        self.resize(580, 680)

    def distance(self) -> float:
        """The distance between the modes the slider sets."""
        return self.slider.value() / STEPS_PER_UNIT

    def _recolour(self, palette: QPalette) -> None:
        colours = style_plot(self.plot, palette)
        fill = mix(colours.background, colours.text, _FILL_SHARE)
        ramp = [mix(colours.background, fill, t / 255) for t in range(256)]
        self.density.setLookupTable(np.array([c.getRgb()[:3] for c in ramp], dtype=np.uint8))
        self.target_sample.setSymbolBrush(fill)
        for name, hue in (("reverse", REVERSE_COLOUR), ("forward", FORWARD_COLOUR)):
            ink = legible_on(QColor(hue), colours.background, _LINE_CONTRAST)
            one, two, centre = self.curves[name]
            # (the forward fit wider, under the reverse one: where they agree both show)
            one.setPen(pg.mkPen(ink, width=2 if name == "reverse" else 3.5))
            two.setPen(pg.mkPen(ink, width=1.5, style=Qt.PenStyle.DashLine))
            centre.setPen(None)
            centre.setSymbolPen(pg.mkPen(ink, width=2))
            centre.setSymbolSize(14)
            text = legible_on(QColor(hue), palette.color(QPalette.ColorRole.Window), MIN_CONTRAST)
            self._names[name] = f"<span style='color: {text.name()}'>{name} fit</span>"
        style_legend(self.legend, colours, boxed=True)
        self.draw()

    def draw(self) -> None:
        """Fit both ways for the slider's distance and draw p and the two fits."""
        value = self.slider.value()
        if value not in self._fitted:
            self._fitted[value] = fit_both(self.distance())
        self.fits = fits = self._fitted[value]
        # shaded by √p, so the tails out to where the 2σ ellipses run are seen too
        self.density.setImage(np.sqrt(density_grid(fits.target, EXTENT, _GRID)), autoLevels=True)
        # (placed after each image: the rect scales the image's own size, unknown before)
        self.density.setRect(QRectF(-EXTENT, -EXTENT, 2 * EXTENT, 2 * EXTENT))
        for name, q in (("reverse", fits.reverse), ("forward", fits.forward)):
            one, two, centre = self.curves[name]
            for item, k in ((one, 1.0), (two, 2.0)):
                outline = _outline(q, k)
                item.setData(outline[:, 0], outline[:, 1])
            centre.setData([q.mean[0]], [q.mean[1]])
        self.distance_label.setText(f"Distance between the modes: {self.distance():.1f}")
        self.numbers.setText(
            "<table cellspacing=6><tr><td></td><td>KL(q‖p)</td><td>KL(p‖q)</td></tr>"
            + "".join(
                f"<tr><td>{self._names[name]}</td><td>{kls[0]:.3f}</td><td>{kls[1]:.3f}</td></tr>"
                for name, kls in (("reverse", fits.reverse_kls), ("forward", fits.forward_kls))
            )
            + "</table>In nats: each fit scores no higher than the other on the KL it minimises."
        )


def _outline(q: Gaussian, n_sigma: float) -> np.ndarray:
    """The closed n-σ ellipse of q: (points, 2)."""
    return ellipse_outlines(q.mean[None], q.cov[None], n_sigma)[0]


def show_kl_directions(window: QWidget) -> KLDirectionsDialog:
    """Open the view beside `window`, or bring the open one to the front."""
    dialog = window.findChild(KLDirectionsDialog)
    if dialog is None:
        dialog = KLDirectionsDialog(window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
