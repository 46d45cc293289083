"""The points' size and opacity (`pointStyleButton`), against overplotting: a small button
by the plot whose menu holds a size spin box and an opacity slider. A change redraws the
codes as they are (no encoding), and is kept in the settings for the next start.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QPointF, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QMenu,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from explorer.ui import settings_values
from explorer.ui.colour_by import DEFAULT_OPACITY, PointStyle

SIZE_KEY = "plot/pointSize"
OPACITY_KEY = "plot/pointOpacity"
_MAX_SIZE = 12  # pixels: larger dots hide the structure they are meant to show


def _dots_icon() -> QIcon:
    """Three dots, small to large, fading: what the button changes."""
    pixmap = QPixmap(18, 18)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    for x, r, alpha in ((3.0, 1.5, 90), (8.0, 2.5, 160), (14.0, 3.5, 255)):
        p.setBrush(QColor(74, 111, 165, alpha))
        p.drawEllipse(QPointF(x, 9.0), r, r)
    p.end()
    return QIcon(pixmap)


class PointStyleButton(QToolButton):
    styleChanged = Signal(object)  # PointStyle

    def __init__(self, parent=None):
        # an icon, not a word: the bar above the plot is part of the window's least width
        super().__init__(parent, objectName="pointStyleButton", text="Points")
        self.setIcon(_dots_icon())
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.setAccessibleName("Point size and opacity")
        self.setToolTip("Point size and opacity: smaller or fainter points show dense regions")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._settings: QSettings | None = None
        self.size_spin = QSpinBox(objectName="pointSizeSpin", minimum=0, maximum=_MAX_SIZE)
        self.size_spin.setSpecialValueText("auto")  # 0: by the number of points
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Diameter of a point; auto: 5 px, 3 px above 5,000 points")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, objectName="pointOpacitySlider")
        self.opacity_slider.setRange(5, 100)  # percent
        self.opacity_slider.setValue(round(100 * DEFAULT_OPACITY))
        self.opacity_slider.setToolTip("Opacity of a lone point, in percent")
        form_widget = QWidget()
        form = QFormLayout(form_widget)
        form.addRow("Size", self.size_spin)
        form.addRow("Opacity", self.opacity_slider)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form_widget)
        menu.addAction(action)
        self.setMenu(menu)
        self.size_spin.valueChanged.connect(self._changed)
        self.opacity_slider.valueChanged.connect(self._changed)

    def point_style(self) -> PointStyle:
        return PointStyle(self.size_spin.value(), self.opacity_slider.value() / 100)

    def restore(self, settings: QSettings) -> None:
        """Take the style kept in `settings` (a wrong value: the default), and keep each
        change there."""
        size = settings_values.read(settings, SIZE_KEY, (int, str), 0)
        opacity = settings_values.read(settings, OPACITY_KEY, (int, str), None)
        for widget, value in ((self.size_spin, size), (self.opacity_slider, opacity)):
            with contextlib.suppress(ValueError):  # a hand-edited text that is no number
                if value is not None:
                    widget.setValue(int(value))  # (clamped to the widget's range)
        self._settings = settings
        self._changed()

    def _changed(self) -> None:
        if self._settings is not None:
            self._settings.setValue(SIZE_KEY, self.size_spin.value())
            self._settings.setValue(OPACITY_KEY, self.opacity_slider.value())
        self.styleChanged.emit(self.point_style())
