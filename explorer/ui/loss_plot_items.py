"""The loss plot's own axis and legend (`loss_curves`), drawn where pyqtgraph's are not
fit for it: the loss axis's tick labels on a log scale, and the legend in a row of its
own above the curves, its entries flowing in lines as wide as the plot.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QSizePolicy

_LEGEND_GAP = 8  # px between the legend's entries on a line


class LossAxis(pg.AxisItem):
    """The loss axis: on a log scale, a label between decades (2, 3, … 9) is left out
    where it would touch another; pyqtgraph wrote them all, and on a low plot spanning
    less than a decade (the empty plot's 1 to 10) they piled into one another."""

    def logTickStrings(self, values, scale, spacing) -> list[str]:
        strings = super().logTickStrings(values, scale, spacing)
        lo, hi = self.range
        if hi <= lo or self.height() <= 0:
            return strings
        per_unit = self.height() / (hi - lo)  # px per decade
        room = QFontMetrics(self.style.get("tickFont") or self.font()).height() + 2
        taken = [float(d) for d in range(math.ceil(lo), math.floor(hi) + 1)]  # decades
        shown = []
        for value, text in zip(values, strings, strict=True):
            if float(value).is_integer():
                shown.append(text)
            elif all(abs(value - t) * per_unit >= room for t in taken):
                taken.append(value)
                shown.append(text)
            else:
                shown.append("")
        return shown


class RowLegend(pg.LegendItem):
    """The legend in a row of the plot's layout, above the curves rather than over them.
    Its entries flow in lines as wide as the plot, each as wide as its own name: a grid's
    columns, as wide as the longest name, took a third line on a narrow plot."""

    def __init__(self) -> None:
        super().__init__()
        self._width = 0.0  # px the entries flow in: the plot's (`fit_width`)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    @classmethod
    def above(cls, plot: pg.PlotItem) -> RowLegend:
        """A legend in `plot`'s row above the curves (the hidden top axis's), where
        pyqtgraph adds the entries of named items: inside the plot, on a low plot, it
        covered the middle of the curves."""
        legend = cls()
        layout = plot.layout
        layout.removeItem(plot.getAxis("top"))  # hidden, never shown: its cell is free
        layout.addItem(legend, 1, 1)
        layout.setAlignment(legend, Qt.AlignmentFlag.AlignLeft)
        plot.legend = legend  # where pyqtgraph adds the entries of named items
        return legend

    def fit_width(self, width: float) -> None:
        """Flow the entries in lines of `width` px."""
        self._width = width
        self.updateSize()

    def _addItemToLayout(self, sample, label) -> None:
        label.item.document().setDocumentMargin(0)  # lines as high as their text
        label.updateMin()
        sample.setParentItem(self)
        label.setParentItem(self)

    def _removeItemFromLayout(self, *parts) -> None:
        for part in parts:
            part.close()
            if part.scene() is not None:  # PySide keeps a closed item in its scene
                part.scene().removeItem(part)

    def updateSize(self) -> None:
        """Place the entries, line by line, and take the height they need. A line is as
        high as its text; a sample's box is higher, its line or mark in the middle: the
        legend has room for the first and last lines' boxes above and below."""
        x = line = widest = 0.0
        pad = max(((s.height() - t.minimumHeight()) / 2 for s, t in self.items), default=0.0)
        y = pad
        for sample, label in self.items:
            width = sample.width() + _LEGEND_GAP / 2 + label.minimumWidth()
            if x > 0 and x + width > self._width:
                x, y, line = 0.0, y + line, 0.0
            height = label.minimumHeight()
            sample.setPos(x, y + (height - sample.height()) / 2)
            label.setGeometry(x + width - label.minimumWidth(), y, label.minimumWidth(), height)
            widest = max(widest, x + width)
            x += width + _LEGEND_GAP
            line = max(line, height)
        size = QSizeF(widest, y + line + pad)
        self.setMinimumSize(size)
        self.setPreferredSize(size)
        self.setMaximumSize(size)

    def mouseDragEvent(self, ev) -> None:
        ev.ignore()  # pyqtgraph's legend follows a drag: this one keeps its row
