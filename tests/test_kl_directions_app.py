"""Help ▸ Forward vs reverse KL, opened from the menu bar and driven by its slider."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSlider, QStyle, QStyleOptionSlider

from explorer.ui.kl_directions_view import KLDirectionsDialog
from explorer.ui.theme import contrast, is_dark
from tests.gui import pick
from tests.test_theme import pixels

_COMMAND = ("&Help", "&Forward vs reverse KL…")


def open_view(qtbot, window) -> KLDirectionsDialog:
    pick(window, _COMMAND).trigger()
    dialog = next(
        d for d in QApplication.topLevelWidgets() if d.windowTitle() == "Forward vs reverse KL"
    )
    qtbot.waitExposed(dialog)
    return dialog


def drag_handle(slider: QSlider, to_x: int) -> None:
    """Press on the slider's handle, move to `to_x` and release, as a user drags it."""
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    handle = slider.style().subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider
    )
    start, y = handle.center(), handle.center().y()
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    for x in np.linspace(start.x(), to_x, 6).round().astype(int)[1:]:
        QTest.mouseMove(slider, QPoint(int(x), y))
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(to_x, y))


def pixel_of(dialog: KLDirectionsDialog, point: np.ndarray) -> tuple[int, int]:
    """(row, column) of the viewport's pixel that shows the data point `point`."""
    scene = dialog.plot.plotItem.vb.mapViewToScene(QPointF(*point))
    at = dialog.plot.mapFromScene(scene)
    return at.y(), at.x()


def centre(dialog: KLDirectionsDialog, fit: str) -> np.ndarray:
    """Where the plot draws a fit's mean (its marker's data)."""
    xs, ys = dialog.curves[fit][2].getData()
    return np.array([xs[0], ys[0]])


def test_dragging_the_modes_together_moves_the_reverse_fit_off_its_mode(qtbot, window):
    dialog = open_view(qtbot, window)
    slider = dialog.findChild(QSlider, "modeDistanceSlider")
    plot = dialog.findChild(type(dialog.plot), "klDirectionsPlot")
    apart = dialog.fits.target
    before, shown = centre(dialog, "reverse"), pixels(plot.viewport())
    assert np.allclose(before, apart.means[0], atol=0.01)  # on the heavier mode
    assert np.allclose(centre(dialog, "forward"), apart.moments().mean)  # between them
    assert "4.0" in dialog.distance_label.text()

    drag_handle(slider, to_x=slider.width() // 7)  # near the left end: the modes overlap
    qtbot.waitUntil(lambda: not np.allclose(centre(dialog, "reverse"), before), timeout=5000)
    distance = dialog.fits.target.means[0] - dialog.fits.target.means[1]
    assert 0 < np.linalg.norm(distance) < 2.0
    assert f"{np.linalg.norm(distance):.1f}" in dialog.distance_label.text()
    # the reverse fit now spans both modes, as the forward fit does
    assert np.linalg.norm(centre(dialog, "reverse") - centre(dialog, "forward")) < 0.1
    changed = np.any(pixels(plot.viewport()) != shown, axis=-1)
    assert changed.mean() > 0.02  # the shading and ellipses were redrawn, not just data
    numbers = dialog.findChild(type(dialog.distance_label), "klDirectionsNumbers").text()
    assert f"{dialog.fits.reverse_kls[0]:.3f}" in numbers

    pick(window, _COMMAND).trigger()  # picked again: the same window comes to the front
    assert window.findChildren(KLDirectionsDialog) == [dialog]
    dialog.close()


def test_the_fits_are_legible_on_a_dark_plot(qtbot, window):
    """The ellipses keep a 3:1 contrast against the plot in a dark scheme, switched live."""
    hints = QApplication.instance().styleHints()
    dialog = open_view(qtbot, window)
    try:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        QApplication.processEvents()
        assert is_dark(QApplication.palette())
        base = QApplication.palette().color(QPalette.ColorRole.Base)
        shown = pixels(dialog.plot.viewport())
        h, w, _ = shown.shape
        assert QColor(*shown[h // 2, w - 5].tolist()) == base  # the plot, right of the shading
        # p shaded lighter than the plot where it is dense (darker, in a light scheme)
        y, x = pixel_of(dialog, dialog.fits.target.means[1])
        assert QColor(*shown[y, x].tolist()).lightness() > base.lightness() + 40
        for fit in ("reverse", "forward"):
            ink = dialog.curves[fit][0].opts["pen"].color()
            assert contrast(ink, base) >= 3.0, fit
            assert (np.abs(shown.astype(int) - ink.getRgb()[:3]).sum(-1) < 30).sum() > 50, fit
    finally:
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        QApplication.processEvents()
        dialog.close()
