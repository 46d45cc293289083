"""Directions from selections (issue 24, item 3), on the real window: two selections stored
as A and B, or a label against the rest, give mean(A) − mean(B); its slider walks the code
and the decoded image follows; the strip shows the walk; the plot shows the arrow."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.ui.direction_view import REACH, STRIP_STEPS
from explorer.ui.selection_tool import Shape
from tests.gui import expected_image, hover
from tests.test_data_point import pixel_of
from tests.test_selection_app import (
    CTRL,
    LEFT,
    box_corners,
    drag,
    in_box,
)


def open_direction_tab(qtbot, window):
    view = window.direction_view
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(view)
    qtbot.waitExposed(view)
    return view


def test_two_stored_selections_give_a_direction_and_an_arrow(qtbot, window):
    panel, plot = window.selection_view, window.latent_view
    QTest.mouseClick(panel.shape_buttons[Shape.BOX], LEFT)
    left, right = (
        box_corners(plot, 0.05, 0.05, 0.45, 0.95),
        box_corners(plot, 0.55, 0.05, 0.95, 0.95),
    )
    drag(plot, left, CTRL)
    QTest.mouseClick(panel.store_buttons["A"], LEFT)
    drag(plot, right, CTRL)
    QTest.mouseClick(panel.store_buttons["B"], LEFT)
    a, b = in_box(window, left), in_box(window, right)
    assert len(a) and len(b)
    view = open_direction_tab(qtbot, window)
    codes = window.session.codes.astype(np.float64)
    expected = codes[a].mean(0) - codes[b].mean(0)
    np.testing.assert_allclose(view.direction, expected, rtol=1e-9)
    assert f"A: the selection stored as A ({len(a)} points), B: as B ({len(b)})" in view.note.text()
    # the arrow on the plane: from B's mean to A's (a 2-D model: the plane is the space)
    xs, ys = view.shaft.getData()
    np.testing.assert_allclose([xs[0], ys[0]], codes[b].mean(0), rtol=1e-9)
    np.testing.assert_allclose([xs[1], ys[1]], codes[a].mean(0), rtol=1e-9)
    assert view.head.isVisible()
    assert view.head.pos().x() == xs[1] and view.head.pos().y() == ys[1]
    # A is left of B: the head points left on the screen (pyqtgraph's angle 0)
    assert abs(view.head.opts["angle"] % 360) < 45 or abs(view.head.opts["angle"] % 360) > 315


def test_the_slider_walks_the_code_towards_a_label(qtbot, window):
    s = window.session
    view = open_direction_tab(qtbot, window)
    view.source.setCurrentText("label")
    view.value.setCurrentIndex(view.value.findData(1))
    codes, labels = s.codes.astype(np.float64), s.dataset.labels
    ones, rest = codes[labels == 1].mean(0), codes[labels != 1].mean(0)
    np.testing.assert_allclose(view.direction, ones - rest, rtol=1e-9)
    assert f"A: label = 1 ({(labels == 1).sum()} points), B: the rest (" in view.note.text()
    # the user hovers the plot at the rest's mean: the walk starts there
    hover(qtbot, window, pixel_of(window, rest))
    base = s.z.copy()
    np.testing.assert_allclose(base, rest, atol=0.05)  # (a pixel's precision)
    # (a strip made before the hover may be shown first: the one from the hover's code)
    qtbot.waitUntil(
        lambda: (
            view.result is not None
            and np.allclose(view.result.codes[STRIP_STEPS // 2], base, rtol=1e-7, atol=0)
        ),
        timeout=10_000,
    )
    assert len(view.result.codes) == STRIP_STEPS
    np.testing.assert_allclose(view.result.codes[-1], base + REACH * view.direction)
    before = window.decoder_view.image.copy()
    for _ in range(2):  # two pages: t = +1, where the code has moved by the whole direction
        QTest.keyClick(view.slider, Qt.Key.Key_PageUp)
    assert view.t_label.text() == "t = +1.00"
    np.testing.assert_allclose(s.z, base + view.direction, rtol=1e-9)
    after = window.decoder_view.image.copy()
    np.testing.assert_allclose(after, expected_image(window, s.z), atol=1e-5)
    images = s.dataset.images.astype(np.float64) / 255.0
    wanted = images[labels == 1].mean(0) - images[labels != 1].mean(0)
    for _ in range(4):  # to t = −1: away from the 1s
        QTest.keyClick(view.slider, Qt.Key.Key_PageDown)
    np.testing.assert_allclose(s.z, base - view.direction, rtol=1e-9)
    away = window.decoder_view.image
    # the walk towards the 1s changes the image as the 1s differ from the rest, the walk
    # away the other way (the tiny test model draws its 1s roughly: correlations of about
    # ±0.2 to 0.3 here, so the test asks for the sign; a walk the wrong way flips both)
    assert np.corrcoef((after - before).ravel(), wanted.ravel())[0, 1] > 0.1
    assert np.corrcoef((away - before).ravel(), wanted.ravel())[0, 1] < -0.1
