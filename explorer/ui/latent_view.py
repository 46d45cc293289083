"""The latent plot (`latentPlot`): the dataset's codes on the current plane, a marker at z.

Hover decodes the point under the cursor. pyqtgraph's scene drops mouse moves that
come sooner than its rate limit, so a fast flick could end on a stale point; instead
the viewport's own move events are coalesced: the latest position is kept and decoded
once when the event queue is drained, so the image always ends where the cursor ended.
Click pins the code (a second click or Esc releases it); a click on a data point pins
its code exactly and puts the point in focus for inspection. Hovering near a data point
puts it in focus too (its encoder ellipses follow the cursor), and the focus stays on
the last point until another is reached. Shift-click picks a code for the
interpolation view, snapping to a data point within a few pixels of the click.

The data points are drawn one by one, or as their density where the view holds too many
(explorer.ui.level_of_detail); hover, click and the marks are the same at both.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette

from explorer.ui.cached import cache_pixmaps
from explorer.ui.colour_by import PointStyle, colour_groups, is_quantity, value_scale
from explorer.ui.level_of_detail import LevelOfDetail
from explorer.ui.plot_grid import PlotGrid
from explorer.ui.plot_marks import Symbol
from explorer.ui.state import Session
from explorer.ui.theme import follow_palette, is_dark, style_legend, style_plot


class NoteLabel(pg.LabelItem):
    """A line of text over the plot, on a box of the plot's background (translucent, as
    the legend's): legible over the manifold map's tiles as over the points."""

    box = QColor(0, 0, 0, 0)  # none until the palette gives one

    def paint(self, painter, *args) -> None:
        if self.text:
            painter.fillRect(self.boundingRect(), self.box)


class LatentView(LevelOfDetail, pg.PlotWidget):
    hoverDecoded = Signal()  # the code under the cursor was handed to the session
    codePicked = Signal(object)  # (d,) the code shift-clicked (a data point's, when near one)
    pointInspected = Signal(int)  # a data point was clicked: its code is pinned

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.setObjectName("latentPlot")
        self.session = session
        # its own grid item, not the axes' grid: see plot_grid
        self.grid = PlotGrid(self.plotItem, alpha=0.15)
        self.addItem(self.grid, ignoreBounds=True)
        # for the items that follow the cursor (plot_marks): pyqtgraph's own items set it
        self.setAntialiasing(True)
        # The axes' ticks and labels are laid out in Python: cached, they are redrawn only
        # when the range changes, not on every marker move (`scripts/bench_ui.py --only
        # scatter`).
        for name in ("left", "bottom"):
            axis = self.plotItem.getAxis(name)
            cache_pixmaps(axis)
            axis.enableAutoSIPrefix(False)  # latent units have no SI prefix ("(x0.001)")
        self.plotItem.setMenuEnabled(False)
        self.legend = self.plotItem.addLegend(offset=(-8, 8))
        # A PCA plane's variance shares, in the plot's top-left corner: not in the axis
        # labels, which would then change every training epoch, and a new label redraws
        # both gridded axes on the GUI thread.
        self.shares = NoteLabel(size="9pt")
        self.shares.setParentItem(self.plotItem.vb)
        self.shares.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(6, 2))
        cache_pixmaps(self.shares)  # (it changes once an epoch at most)
        self._init_levels()  # the data points, one by one or as their density
        self.point_style = PointStyle()  # the user's point size and opacity
        self.groups: list[tuple[str, str, np.ndarray]] = []  # (legend name, colour, indices)
        self._legend_samples: list[pg.ScatterPlotItem] = []  # what the legend draws
        self._ink = QColor("#111")  # the marker's colour: the palette's text colour
        self.marker = Symbol("o", 18, pg.mkPen(self._ink, width=2.5))
        self.marker.setZValue(10)
        # The marker never drives the view's range: a moving marker must not rescale
        # the plot (which would invalidate the cached scatter).
        self.addItem(self.marker, ignoreBounds=True)
        self.path = pg.PlotDataItem(
            pen=pg.mkPen("#d62728", width=2, style=Qt.PenStyle.DashLine),
            symbol="o",
            symbolSize=5,
            symbolBrush="#d62728",
            symbolPen=None,
        )
        self.path.setZValue(9)
        self.addItem(self.path, ignoreBounds=True)
        self._path_codes: np.ndarray | None = None
        self.plotItem.vb.disableAutoRange()
        self._pending: QPointF | None = None
        # The plane point last hovered, the code and focus it gave: a drag pans the plane
        # along with the cursor, so each of its moves finds the cursor on the same spot.
        self._hovered: tuple[np.ndarray, np.ndarray, int | None] | None = None
        self._hover_timer = QTimer(self, singleShot=True, interval=0)
        self._hover_timer.timeout.connect(self._apply_hover)
        self.viewport().installEventFilter(self)
        self.setMouseTracking(True)
        self.scene().sigMouseClicked.connect(self._clicked)
        # The view is fitted to the codes when they first arrive on a plane; while
        # training replaces them every epoch it moves only when they leave it or fill
        # under half of it: a steady frame to watch them re-arrange in, and the axes
        # (cached pixmaps) are not redrawn every epoch on the GUI thread.
        self._fitted = False  # the range fits the codes on the current plane
        session.codesChanged.connect(self.refresh)
        session.planeChanged.connect(self._new_frame)
        session.datasetChanged.connect(self._new_frame)
        session.codeChanged.connect(self.move_marker)
        session.pinnedChanged.connect(self._show_pinned)
        session.colourByChanged.connect(self.refresh)
        follow_palette(self, self._recolour)

    # -- drawing ------------------------------------------------------------------
    def _recolour(self, palette: QPalette) -> None:
        """The plot in the palette's colours (light or dark), points included."""
        colours = style_plot(self, palette)
        style_legend(self.legend, colours, boxed=True)
        self.shares.setAttr("color", colours.axis.name())
        self.shares.box = colours.legend
        self.shares.setText(self.shares.text)
        self._ink = colours.text
        self._dark = is_dark(palette)
        self._show_pinned(self.session.pinned)
        self.groups = []  # so the legend is rebuilt in the new colours
        self.refresh()

    def _new_frame(self) -> None:
        self._fitted = False
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the scatter from the session's codes on its plane."""
        self._hovered = None
        s = self.session
        if s.plane is not None:
            for name, label in zip(("bottom", "left"), s.plane.axis_labels, strict=True):
                axis = self.plotItem.getAxis(name)
                if axis.labelText != label:  # setting it redraws the axis and its grid
                    self.setLabel(name, label)
        self._show_shares()
        if (
            s.codes is None
            or s.plane is None
            or s.dataset is None
            or len(s.codes) != len(s.dataset)
        ):
            self._set_points(np.zeros((0, 2)), [])
            self._show_legend([])
            self.move_marker()
            return
        xy = s.plane.points(s.codes)
        if s.latent_dim == 1:  # spread a 1-D model's codes vertically by class to see them
            xy[:, 1] = (
                s.dataset.labels if s.dataset.labels is not None else 0
            ) + np.random.default_rng(0).uniform(-0.3, 0.3, len(xy))
        groups = colour_groups(s, self._dark, self.point_style)
        values = s.colour_values if is_quantity(s.colour_by) else None
        values = values if values is not None and len(values) == len(xy) else None
        scale = None if values is None else value_scale(values, self._dark)
        self._set_points(xy, groups, values, scale)
        self._show_legend(groups)
        self._fit_range()
        self.move_marker()
        self.set_path(self._path_codes)

    def set_point_style(self, style: PointStyle) -> None:
        """Draw the points at the user's size and opacity (the codes as they are)."""
        if style != self.point_style:
            self.point_style = style
            self.refresh()

    def _show_shares(self) -> None:
        plane = self.session.plane
        text = ""
        if plane is not None and plane.shares is not None:
            (x, y), (sx, sy) = plane.axis_labels, plane.shares
            text = f"{x} {sx:.0%} · {y} {sy:.0%} of the variance"
        if self.shares.text != text:
            self.shares.setText(text)

    def _fit_range(self) -> None:
        """Fit the view to the points on a new plane, else only when they leave it or fill
        under half of its width or height (pyqtgraph's auto-range stays off)."""
        x0, x1, y0, y1 = self._extent
        (vx0, vx1), (vy0, vy1) = self.plotItem.vb.viewRange()
        inside = vx0 <= x0 and x1 <= vx1 and vy0 <= y0 and y1 <= vy1
        filled = x1 - x0 >= 0.5 * (vx1 - vx0) and y1 - y0 >= 0.5 * (vy1 - vy0)
        if not (self._fitted and inside and filled):
            self.autoRange(padding=0.05)
            self._fitted = True

    def _show_legend(self, groups: list[tuple[str, str, np.ndarray]]) -> None:
        """Rebuilt only when names or colours change: a rebuild lays out every entry's text,
        and the codes change every epoch."""
        same = [(n, c) for n, c, _ in groups] == [(n, c) for n, c, _ in self.groups]
        self.groups = groups
        if same and (self._legend_samples or not groups):
            return
        self.legend.clear()
        self._legend_samples = []
        for name, colour, _ in groups:
            if name:
                sample = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(colour))
                self._legend_samples.append(sample)
                self.legend.addItem(sample, name)
        cache_pixmaps(self.legend)  # its entries are new items

    def move_marker(self) -> None:
        s = self.session
        if s.plane is None or len(s.z) == 0:
            self.marker.hide()
            return
        p = s.plane.to_plane(s.z)
        self.marker.place(p[0], p[1] if s.latent_dim > 1 else 0.0)

    def set_path(self, codes: np.ndarray | None) -> None:
        """Draw a path of codes (k, d) on the plane (the interpolation's), or none."""
        self._path_codes = codes
        if codes is None or self.session.plane is None:
            self.path.setData([], [])
            return
        xy = self.session.plane.to_plane(codes)
        self.path.setData(xy[:, 0], xy[:, 1] if self.session.latent_dim > 1 else 0 * xy[:, 0])

    def _show_pinned(self, pinned: bool) -> None:
        self.marker.setPen(pg.mkPen("#d62728" if pinned else self._ink, width=3 if pinned else 2.5))
        self.marker.set_symbol("star" if pinned else "o")

    # -- mouse --------------------------------------------------------------------
    def plane_point(self, pos: QPointF) -> np.ndarray:
        """Viewport pixel position -> plane coordinates."""
        p = self.plotItem.vb.mapSceneToView(self.mapToScene(pos.toPoint()))
        return np.array([p.x(), p.y()])

    def point_near(self, point: np.ndarray, radius_px: float = 8.0) -> int | None:
        """The data point drawn nearest to plane point `point`, if within `radius_px`."""
        grid = self.point_grid() if len(self.xy) else None
        if grid is None:
            return None  # (or a large set still being bucketed: a moment after new codes)
        px, py = self.plotItem.vb.viewPixelSize()  # plane units per screen pixel
        return grid.nearest(float(point[0]), float(point[1]), radius_px * px, radius_px * py)

    def code_near(self, point: np.ndarray, radius_px: float = 8.0) -> np.ndarray:
        """The code of the data point within `radius_px` of plane point `point`, if any,
        else the code at `point` itself (off-plane coordinates from the current code)."""
        s = self.session
        i = self.point_near(point, radius_px)
        if i is not None:
            return s.codes[i].astype(float)
        return s.plane.to_latent(point, s.z)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseMove:
            self._pending = event.position()
            if not self._hover_timer.isActive():
                self._hover_timer.start()
            # A plain move is ours alone: pyqtgraph's scene would look through its items
            # for ones to hover on every move (none here; `scripts/bench_ui.py --only
            # hover`). Drags still reach it (panning).
            return event.buttons() == Qt.MouseButton.NoButton
        return False

    def _apply_hover(self) -> None:
        if self._pending is None or self.session.pinned:
            return
        point = self.plane_point(self._pending)
        self._pending = None
        if not self._on_hovered_spot(point):
            self.session.hover(point)
            near = self.point_near(point)
            if near is not None:
                self.session.set_focus(near)
            self._hovered = (point, self.session.z.copy(), self.session.focus)
        self.hoverDecoded.emit()

    def _on_hovered_spot(self, point: np.ndarray) -> bool:
        """Plane point `point` is within a quarter pixel of the one last hovered, and the
        code and focus are still what that hover gave: decoded and found already."""
        if self._hovered is None:
            return False
        last, z, focus = self._hovered
        px, py = self.plotItem.vb.viewPixelSize()
        return (
            abs(point[0] - last[0]) < 0.25 * px
            and abs(point[1] - last[1]) < 0.25 * py
            and focus == self.session.focus
            and np.array_equal(z, self.session.z)
        )

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            p = self.plotItem.vb.mapSceneToView(event.scenePos())
            self.codePicked.emit(self.code_near(np.array([p.x(), p.y()])))
            return
        s = self.session
        p = self.plotItem.vb.mapSceneToView(event.scenePos())
        point = np.array([p.x(), p.y()])
        near = self.point_near(point)
        if near is not None and not (s.pinned and s.focus == near):
            s.set_focus(near)  # inspect it: pin its own code, not the cursor's
            s.set_z(s.codes[near].astype(float))
            s.set_pinned(True)
            self.pointInspected.emit(near)
        elif s.pinned:
            s.set_pinned(False)
        else:
            s.set_pinned(True, point)

    # What the mouse and keys do on the plot, for Help ▸ Keyboard shortcuts
    GESTURES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("Hover", "decode the code under the cursor"),
        ("Click", "pin the code (a data point: inspect it); click again to release"),
        ("Shift+Click", "set the ends A and B of an interpolation"),
        ("Ctrl+Drag", "select the points in a lasso (or a box: Selection tab)"),
        ("Ctrl+Shift+Drag", "add the points in a lasso or box to the selection"),
        ("Ctrl+Alt+Drag", "take the points in a lasso or box out of the selection"),
        ("Arrow keys", "nudge a pinned code (with Shift: ten times as far)"),
    )
    _NUDGE: ClassVar[dict[Qt.Key, tuple[int, int]]] = {
        Qt.Key.Key_Left: (-1, 0),
        Qt.Key.Key_Right: (1, 0),
        Qt.Key.Key_Up: (0, 1),
        Qt.Key.Key_Down: (0, -1),
    }

    def keyPressEvent(self, event) -> None:
        s = self.session  # Esc (release the pin) is the window's View ▸ Release pinned code
        if event.key() in self._NUDGE and s.pinned and s.plane is not None:
            # 1% of the visible range per press, 10% with Shift.
            (x0, x1), (y0, y1) = self.plotItem.vb.viewRange()
            scale = 0.1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.01
            dx, dy = self._NUDGE[event.key()]
            p = s.plane.to_plane(s.z) + scale * np.array([dx * (x1 - x0), dy * (y1 - y0)])
            s.set_z(s.plane.to_latent(p, s.z))
            return
        super().keyPressEvent(event)
