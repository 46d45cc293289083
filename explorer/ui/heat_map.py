"""A labelled heat map of a small matrix (`metricMatrix`): one row per factor, one
column per latent dimension, each cell shaded by its value in [0, 1] and printed in it.

Drawn with QPainter from the palette at paint time, so it follows a live light/dark
switch: the ramp runs from the palette's base colour (0) to a blue (1) that stands out
on it, each cell's text is black or white, whichever contrasts more with the cell (at
least 4.58:1 for any cell colour), and the axis labels are the palette's text colour.
The largest cell of each row is printed bold: the dimension that carries the factor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from explorer.ui.theme import contrast, is_dark, mix

_LIGHT_HIGH = QColor("#1f77b4")  # the KL bars' blue, on a light base
_DARK_HIGH = QColor("#6baed6")  # lighter on a dark base, where the dark blue sinks
_CELL = QSize(34, 20)  # a cell that holds ".25" in the default font with room around it
_PAD = 6  # between the labels and the cells


def _short(value: float) -> str:
    """A share in [0, 1] as compactly as tables print it: .25, 1.0, – (undefined)."""
    if np.isnan(value):
        return "–"
    return "1.0" if value >= 0.995 else f"{value:.2f}".removeprefix("0")


class HeatMap(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent, objectName="metricMatrix")
        self.values = np.zeros((0, 0))  # (rows, columns), shown clipped to [0, 1]
        self.rows: list[str] = []
        self.columns: list[str] = []
        self.tips: list[list[str]] = []  # tooltip of each cell
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def show_matrix(
        self,
        values: np.ndarray,
        rows: Sequence[str],
        columns: Sequence[str],
        tips: Sequence[Sequence[str]] = (),
    ) -> None:
        """Show `values`: (len(rows), len(columns)), labelled; `tips` per cell."""
        self.values = np.asarray(values, float)
        self.rows, self.columns = list(rows), list(columns)
        self.tips = [list(t) for t in tips]
        self.updateGeometry()
        self.update()

    def high_colour(self) -> QColor:
        return _DARK_HIGH if is_dark(self.palette()) else _LIGHT_HIGH

    def colour(self, value: float) -> QColor:
        """The fill of a cell holding `value` (NaN: the base colour)."""
        base = self.palette().color(QPalette.ColorRole.Base)
        if np.isnan(value):
            return base
        return mix(base, self.high_colour(), float(np.clip(value, 0.0, 1.0)))

    def _label_width(self) -> int:
        fm = QFontMetrics(self.font())
        return max((fm.horizontalAdvance(r) for r in self.rows), default=0) + _PAD

    def _header_height(self) -> int:
        return QFontMetrics(self.font()).height() + _PAD // 2

    def cell_rect(self, row: int, column: int) -> QRect:
        """Where cell (row, column) is drawn, in widget coordinates."""
        left, top = self._label_width(), self._header_height()
        n_rows, n_cols = max(len(self.rows), 1), max(len(self.columns), 1)
        w = max(_CELL.width(), (self.width() - left) // n_cols)
        least = QFontMetrics(self.font()).height() + 2  # rows shrink to their text, no less
        h = max(least, min((self.height() - top) // n_rows, 2 * _CELL.height()))
        return QRect(left + column * w, top + row * h, w, h)

    def sizeHint(self) -> QSize:
        return QSize(
            self._label_width() + _CELL.width() * max(len(self.columns), 1),
            self._header_height() + _CELL.height() * max(len(self.rows), 1),
        )

    def minimumSizeHint(self) -> QSize:
        rows = max(len(self.rows), 1) * (QFontMetrics(self.font()).height() + 2)
        return QSize(self.sizeHint().width(), self._header_height() + rows)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window))
        text = palette.color(QPalette.ColorRole.WindowText)
        bold = QFont(self.font())
        bold.setBold(True)
        best = (
            np.nanargmax(np.where(np.isnan(self.values), -np.inf, self.values), axis=1)
            if self.values.size
            else []
        )
        for j, name in enumerate(self.columns):
            r = self.cell_rect(0, j)
            painter.setPen(text)
            painter.drawText(
                QRect(r.left(), 0, r.width(), self._header_height()),
                Qt.AlignmentFlag.AlignCenter,
                name,
            )
        for i, name in enumerate(self.rows):
            r = self.cell_rect(i, 0)
            painter.setPen(text)
            painter.setFont(self.font())
            painter.drawText(
                QRect(0, r.top(), self._label_width() - _PAD, r.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            for j in range(len(self.columns)):
                cell = self.cell_rect(i, j)
                value = self.values[i, j]
                fill = self.colour(value)
                painter.fillRect(cell.adjusted(0, 0, -1, -1), fill)
                ink = max((QColor("black"), QColor("white")), key=lambda c: contrast(c, fill))
                painter.setPen(ink)
                painter.setFont(bold if j == best[i] and not np.isnan(value) else self.font())
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, _short(value))
        painter.end()

    def cell_at(self, point: QPoint) -> tuple[int, int] | None:
        for i in range(len(self.rows)):
            for j in range(len(self.columns)):
                if self.cell_rect(i, j).contains(point):
                    return i, j
        return None

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            cell = self.cell_at(event.pos())
            if cell is not None and self.tips:
                QToolTip.showText(event.globalPos(), self.tips[cell[0]][cell[1]], self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
