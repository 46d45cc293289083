"""Lasso and box selection on the latent plot, drawn with Ctrl held.

A plain drag pans, a click pins and Shift+click picks interpolation ends; Ctrl is free on
the plot, so Ctrl+drag draws the region (a lasso following the cursor, or a box between
the press and the cursor, whichever `shape` says), Ctrl+Shift+drag adds its points to the
selection and Ctrl+Alt+drag takes them out (Esc, the window's View ▸ Clear selection,
empties it). The tool filters the plot's viewport events ahead of the plot, so the view
box never sees a selecting drag as a pan.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor

from explorer.core.point_grid import PointGrid
from explorer.core.selection import Combine, box_polygon, in_polygon
from explorer.ui.latent_view import LatentView
from explorer.ui.plot_marks import Outline
from explorer.ui.selection_model import SelectionModel

OUTLINE_COLOUR = "#808080"  # mid grey: legible on a light plot and on a dark one
_STEP_PX = 3.0  # a lasso takes a vertex per this many pixels the cursor moves


class Shape(Enum):
    LASSO = "lasso"
    BOX = "box"


def combine_for(modifiers: Qt.KeyboardModifier) -> Combine:
    """What a drag with these keys held does to the selection."""
    if modifiers & Qt.KeyboardModifier.AltModifier:
        return Combine.SUBTRACT
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        return Combine.ADD
    return Combine.REPLACE


class SelectionTool(QObject):
    drawn = Signal()  # a region was drawn and the selection met it

    def __init__(self, view: LatentView, selection: SelectionModel):
        super().__init__(view)
        self.view, self.selection = view, selection
        self.shape = Shape.LASSO
        self._how: Combine | None = None  # while a region is drawn: what it will do
        self._pixels: list[QPointF] = []  # the cursor's path in viewport pixels
        self._path: list[np.ndarray] = []  # the same on the plane, (2,) each
        pen = pg.mkPen(QColor(OUTLINE_COLOUR), width=1.5, style=Qt.PenStyle.DashLine)
        self.outline = Outline(pen)
        self.outline.setZValue(8)
        view.addItem(self.outline, ignoreBounds=True)
        # (installed after the view's own filter, so ours sees each event first)
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
            if event.button() == Qt.MouseButton.LeftButton and ctrl:
                self._how = combine_for(event.modifiers())
                self._pixels = [event.position()]
                self._path = [self.view.plane_point(event.position())]
                self.view.setFocus()
                return True
        elif self._how is not None and kind == QEvent.Type.MouseMove:
            self._follow(event.position())
            return True
        elif self._how is not None and kind == QEvent.Type.MouseButtonRelease:
            self._follow(event.position())
            self._finish()
            return True
        return False

    def _follow(self, pos: QPointF) -> None:
        last = self._pixels[-1]
        if self.shape is Shape.BOX:
            self._pixels, self._path = [self._pixels[0], pos], self._path[:1]
        elif abs(pos.x() - last.x()) + abs(pos.y() - last.y()) < _STEP_PX:
            return
        else:
            self._pixels.append(pos)
        self._path.append(self.view.plane_point(pos))
        polygon = self.polygon()
        self.outline.set_points(np.vstack([polygon, polygon[:1]]) if len(polygon) else polygon)

    def polygon(self) -> np.ndarray:
        """The region drawn so far on the plane: (k, 2) vertices."""
        points = np.array(self._path).reshape(-1, 2)
        if self.shape is Shape.BOX:
            if len(points) < 2:
                return np.zeros((0, 2))
            (x0, y0), (x1, y1) = points[0], points[-1]
            return box_polygon(x0, x1, y0, y1)
        return points

    def _finish(self) -> None:
        polygon, how = self.polygon(), self._how
        self._how, self._pixels, self._path = None, [], []
        self.outline.set_points(np.zeros((0, 2)))
        if len(polygon) < 3:
            return  # a Ctrl+click: no region
        grid = self.view.point_grid()
        if grid is None:  # (a large set still being bucketed for hover: bucketed here)
            grid = PointGrid.build(self.view.xy)
        self.selection.apply(in_polygon(grid, polygon), how)
        self.drawn.emit()
