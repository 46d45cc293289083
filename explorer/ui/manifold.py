"""The manifold map: decoded images tiled over the latent plane, under the scatter.

An n×n grid of codes over the plane (off-plane coordinates from the current code, as
for the cursor) is decoded in the background and each image drawn in its own cell.
Cells are even over the visible range, and follow panning and zooming; for a 2-D model
on its own plane they can instead sit at the prior's inverse-CDF quantiles (Kingma &
Welling's figure), each cell holding an equal share of the prior's mass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QSpinBox, QWidget

from explorer.core.figures import decode_images, grid_codes, prior_quantiles
from explorer.core.model import LatentModel
from explorer.core.projection import Plane
from explorer.ui.latent_view import LatentView
from explorer.ui.state import Session
from explorer.ui.workers import LatestJob

SPACINGS = ("even", "prior")
_OPACITY = 0.85  # the scatter stays readable on top


@dataclass(frozen=True)
class Cells:
    """An n×n grid of cells on the plane: where each tile goes and the code it shows."""

    x_edges: np.ndarray  # (n + 1,) cell boundaries along the plot's x
    y_edges: np.ndarray  # (n + 1,) along y
    xs: np.ndarray  # (n,) the plane point decoded for each column
    ys: np.ndarray  # (n,) and for each row


def even_cells(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> Cells:
    """n×n equal cells over the given ranges, each decoded at its centre."""
    xe, ye = np.linspace(*x_range, n + 1), np.linspace(*y_range, n + 1)
    return Cells(xe, ye, (xe[1:] + xe[:-1]) / 2, (ye[1:] + ye[:-1]) / 2)


def quantile_cells(n: int) -> Cells:
    """Cells centred on the prior's quantiles, bounded halfway between neighbours."""
    c = prior_quantiles(n)
    inner = (c[1:] + c[:-1]) / 2
    e = np.concatenate([[2 * c[0] - inner[0]], inner, [2 * c[-1] - inner[-1]]])
    return Cells(e, e, c, c)


@dataclass(frozen=True)
class Manifold:
    cells: Cells
    frames: np.ndarray  # (n * n, H, W, C): row 0 is the top row (largest y), left to right


def compute_manifold(model: LatentModel, plane: Plane, z: np.ndarray, cells: Cells) -> Manifold:
    return Manifold(cells, decode_images(model, grid_codes(plane, z, cells.xs, cells.ys)))


class ManifoldControls(QWidget):
    """The map's switch, grid size and spacing; owns the tiles drawn in `latent_view`."""

    shown = Signal()  # new tiles are on screen

    def __init__(self, session: Session, latent_view: LatentView, parent=None):
        super().__init__(parent)
        self.session = session
        self.latent_view = latent_view
        self.tiles: list[pg.ImageItem] = []
        self.result: Manifold | None = None
        self._requested: tuple | None = None  # what the last request was for
        self.check = QCheckBox("Map", objectName="manifoldCheck")
        self.check.setToolTip("Manifold map: decoded images tiled over the plane, under the points")
        self.size_spin = QSpinBox(objectName="manifoldSize", minimum=3, maximum=40, value=15)
        self.size_spin.setPrefix("n = ")
        self.size_spin.setToolTip("Tiles per side")
        self.spacing_combo = QComboBox(objectName="manifoldSpacing")
        self.spacing_combo.addItems(SPACINGS)
        self.spacing_combo.setToolTip(
            "Tiles evenly over the view, or (2-D models) at the prior's quantiles, each "
            "cell holding an equal share of p(z)"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.check, self.size_spin, self.spacing_combo):
            layout.addWidget(w)
        self.check.toggled.connect(self._toggled)
        self.size_spin.valueChanged.connect(self.request)
        self.spacing_combo.currentIndexChanged.connect(self.request)
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        session.planeChanged.connect(self._plane_changed)
        for signal in (session.codesChanged, session.modelChanged):
            signal.connect(self.request)
        session.decoderChanged.connect(self.request)
        session.codeChanged.connect(self.request)  # off-plane coordinates (in-plane: cached)
        latent_view.plotItem.vb.sigRangeChanged.connect(self.request)
        self._toggled(False)

    def prior_spacing_possible(self) -> bool:
        plane = self.session.plane
        return self.session.latent_dim == 2 and plane is not None and plane.kind == "dims"

    def cells(self) -> Cells:
        n = self.size_spin.value()
        if self.spacing_combo.currentIndex() == 1 and self.prior_spacing_possible():
            return quantile_cells(n)
        x_range, y_range = self.latent_view.plotItem.vb.viewRange()
        return even_cells(tuple(x_range), tuple(y_range), n)

    def _toggled(self, on: bool) -> None:
        self.size_spin.setEnabled(on)
        self.spacing_combo.setEnabled(on and self.prior_spacing_possible())
        for t in self.tiles:
            t.setVisible(on)
        self._requested = None
        self.request()

    def _plane_changed(self) -> None:
        self.spacing_combo.setEnabled(self.check.isChecked() and self.prior_spacing_possible())
        self.request()

    def request(self) -> None:
        s = self.session
        if not self.check.isChecked() or s.model is None or s.plane is None or s.latent_dim < 2:
            return
        cells = self.cells()
        off_plane = s.plane.to_latent(np.zeros(2), s.z)  # in-plane moves change nothing
        key = (s.model_version, id(s.plane), off_plane.tobytes(), cells.x_edges.tobytes())
        key += (cells.y_edges.tobytes(),)
        if key == self._requested:
            return
        self._requested = key
        self.job.submit(compute_manifold, s.model_snapshot(), s.plane, s.z.copy(), cells)

    def _show(self, result: Manifold) -> None:
        if not self.check.isChecked():
            return
        self.result = result
        n = len(result.cells.xs)
        while len(self.tiles) < n * n:
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(-10)
            item.setOpacity(_OPACITY)
            self.latent_view.addItem(item, ignoreBounds=True)
            self.tiles.append(item)
        for item in self.tiles[n * n :]:
            self.latent_view.removeItem(item)
        del self.tiles[n * n :]
        xe, ye = result.cells.x_edges, result.cells.y_edges
        for i, (item, frame) in enumerate(zip(self.tiles, result.frames, strict=True)):
            r, c = divmod(i, n)
            y_lo, y_hi = ye[n - 1 - r], ye[n - r]  # row 0 is the top row
            image = frame[::-1]  # the plot's y grows upwards; image rows grow downwards
            item.setImage(image[..., 0] if image.shape[2] == 1 else image, levels=(0.0, 1.0))
            item.setRect(QRectF(xe[c], y_lo, xe[c + 1] - xe[c], y_hi - y_lo))
            item.setVisible(True)
        self.shown.emit()
