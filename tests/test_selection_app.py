"""Selection on the latent plot (issue 24, item 2), through the mouse on the real window:
lasso and box with Ctrl, adding and taking away, the gallery of the selected images with
its hover marker, clearing, and the selection's exports through File ▸ Export."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QPushButton, QTabWidget

from explorer.core.selection import sheet
from explorer.ui.selection_tool import Shape
from explorer.ui.selection_view import SelectionView
from tests.gui import pick
from tests.test_data_point import pixel_of
from tests.test_latent_density import crowded, grabbed, near, pixel_at  # noqa: F401 (a fixture)
from tests.test_menus import Dialogs, press
from tests.test_selection import inside_one_by_one

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier
LEFT = Qt.MouseButton.LeftButton


def drag(view, pixels: list[QPoint], modifiers) -> None:
    """Press at the first pixel with `modifiers` held, move through the others, release."""
    vp = view.viewport()
    QTest.mousePress(vp, LEFT, modifiers, pixels[0])
    for p in pixels[1:]:
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, LEFT, modifiers, pixels[-1])


def lasso_pixels(view, cx: float, cy: float, r: float, k: int = 24) -> list[QPoint]:
    """A closed, star-like outline (not convex) around (cx, cy), fractions of the viewport."""
    w, h = view.viewport().width(), view.viewport().height()
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)
    radii = r * np.where(np.arange(k) % 2, 1.0, 0.6)
    return [
        QPoint(int(w * (cx + rr * np.cos(a))), int(h * (cy + rr * np.sin(a))))
        for a, rr in zip(angles, radii, strict=True)
    ]


def close(rgb: np.ndarray, colour: QColor) -> bool:
    """A pixel of `colour` drawn opaque (its antialiased edge aside)."""
    return bool(np.abs(rgb.astype(int) - colour.getRgb()[:3]).max() < 40)


def plane_xy(window) -> np.ndarray:
    s = window.session
    return s.plane.points(s.codes)


def expected_inside(window, pixels: list[QPoint]) -> np.ndarray:
    """The data points whose codes lie inside the outline, by the textbook test."""
    view = window.latent_view
    polygon = np.array([view.plane_point(QPointF(p)) for p in pixels])
    return inside_one_by_one(plane_xy(window), polygon)


def box_corners(view, x0: float, y0: float, x1: float, y1: float) -> list[QPoint]:
    w, h = view.viewport().width(), view.viewport().height()
    return [QPoint(int(w * x0), int(h * y0)), QPoint(int(w * x1), int(h * y1))]


def in_box(window, corners: list[QPoint]) -> np.ndarray:
    view = window.latent_view
    (x0, y0), (x1, y1) = (view.plane_point(QPointF(p)) for p in corners)
    xy = plane_xy(window)
    x_in = (xy[:, 0] >= min(x0, x1)) & (xy[:, 0] <= max(x0, x1))
    return np.flatnonzero(x_in & (xy[:, 1] >= min(y0, y1)) & (xy[:, 1] <= max(y0, y1)))


def lasso(window) -> np.ndarray:
    """Ctrl+drag a lasso over the middle of the plot; the points it should hold."""
    view = window.latent_view
    pixels = lasso_pixels(view, 0.5, 0.5, 0.3)
    drag(view, pixels, CTRL)
    return expected_inside(window, pixels)


def test_a_lasso_selects_the_points_inside_and_shows_their_images(qtbot, window):
    view = window.latent_view
    before = view.plotItem.vb.viewRange()
    expected = lasso(window)
    n = len(window.session.codes)
    assert 10 < len(expected) < n - 10  # some in, some out
    selection = window.selection_view.selection
    np.testing.assert_array_equal(selection.indices, expected)
    assert view.plotItem.vb.viewRange() == before  # the drag drew, it did not pan
    assert not window.session.pinned  # nor did its release pin a code
    # on the plot the selected points are drawn in their class's colour over a veil
    # that pales the others
    pixels = grabbed(view)
    xy = plane_xy(window)
    colour_of = {int(i): pg.mkColor(c) for _, c, members in view.groups for i in members}
    shown = [pixels[p.y(), p.x()] for p in (pixel_of(window, xy[i]) for i in expected)]
    seen = [close(rgb, colour_of[int(i)]) for rgb, i in zip(shown, expected, strict=True)]
    assert np.mean(seen) > 0.8  # (a few lie under the marker or another's dot)
    others = np.setdiff1d(np.arange(n), expected)
    behind = [pixels[p.y(), p.x()] for p in (pixel_of(window, xy[i]) for i in others)]
    assert (
        np.mean([not close(rgb, colour_of[int(i)]) for rgb, i in zip(behind, others, strict=True)])
        > 0.8
    )
    # the gallery: one thumbnail per selected image, drawn; the lasso brought its tab forward
    assert window.findChild(QTabWidget, "insightTabs").currentWidget() is window.selection_view
    gallery = window.selection_view.gallery
    qtbot.waitExposed(gallery)
    assert gallery.model().rowCount() == len(expected)
    assert f"{len(expected)} selected" in window.selection_view.note.text()
    first = gallery.cell_of(0)
    image = gallery.viewport().grab().toImage()
    shown = image.copy(first).convertToFormat(QImage.Format.Format_Grayscale8)
    thumb = np.array(
        [
            [shown.pixelColor(x, y).value() for x in range(shown.width())]
            for y in range(shown.height())
        ]
    )
    assert thumb.std() > 20  # a digit, not an empty cell


def test_box_adds_and_lasso_takes_away(qtbot, window):
    view, selection = window.latent_view, window.selection_view.selection
    QTest.mouseClick(window.selection_view.shape_buttons[Shape.BOX], LEFT)
    left = box_corners(view, 0.1, 0.1, 0.45, 0.9)
    drag(view, left, CTRL)
    first = in_box(window, left)
    np.testing.assert_array_equal(selection.indices, first)
    right = box_corners(view, 0.55, 0.1, 0.9, 0.9)
    drag(view, right, CTRL | SHIFT)  # adds
    both = np.union1d(first, in_box(window, right))
    assert len(both) > len(first)
    np.testing.assert_array_equal(selection.indices, both)
    QTest.mouseClick(window.selection_view.shape_buttons[Shape.LASSO], LEFT)
    pixels = lasso_pixels(view, 0.5, 0.5, 0.3)
    drag(view, pixels, CTRL | ALT)  # takes away
    taken = expected_inside(window, pixels)
    assert len(np.intersect1d(both, taken))  # it took something away
    np.testing.assert_array_equal(selection.indices, np.setdiff1d(both, taken))


def test_a_lasso_leaves_the_direction_tab_in_front(qtbot, window):
    """Where A and B are being stored, the Direction tab stays while selections are drawn."""
    tabs = window.findChild(QTabWidget, "insightTabs")
    tabs.setCurrentWidget(window.direction_view)
    lasso(window)
    assert len(window.selection_view.selection)
    assert tabs.currentWidget() is window.direction_view


def test_hovering_a_thumbnail_marks_its_point(qtbot, window):
    expected = lasso(window)
    gallery = window.selection_view.gallery
    qtbot.waitExposed(gallery)
    marker = window.selection_view.overlay.marker
    xy = plane_xy(window)
    for row in (0, len(expected) - 1):
        gallery.scrollTo(gallery.model().index(row, 0))
        with qtbot.waitSignal(gallery.hovered, timeout=2000) as hovered:
            QTest.mouseMove(gallery.viewport(), gallery.cell_of(row).center())
        assert hovered.args == [int(expected[row])]
        xs, ys = marker.getData()
        np.testing.assert_allclose([xs[0], ys[0]], xy[expected[row]], atol=1e-6)
    # off the images the marker goes
    with qtbot.waitSignal(gallery.hovered, timeout=2000):
        QApplication.sendEvent(gallery.viewport(), QEvent(QEvent.Type.Leave))
    assert len(marker.getData()[0]) == 0


def test_esc_and_clear_empty_the_selection(qtbot, window):
    view, selection = window.latent_view, window.selection_view.selection
    lasso(window)
    assert len(selection)
    # a user clicks another control first: Esc still clears (the plot's own filter missed it)
    zero = window.findChild(QPushButton, "zeroButton")
    QTest.mouseClick(zero, LEFT)
    assert not view.hasFocus()
    press(qtbot, window, Qt.Key.Key_Escape, on=zero)
    assert len(selection) == 0
    assert window.selection_view.gallery.model().rowCount() == 0
    assert window.selection_view.overlay.points.xy.shape == (0, 2)
    lasso(window)
    assert len(selection)
    QTest.mouseClick(window.selection_view.clear_button, LEFT)
    assert len(selection) == 0


def test_esc_releases_a_pinned_code_first_then_clears_the_selection(qtbot, window):
    view, selection = window.latent_view, window.selection_view.selection
    lasso(window)
    with qtbot.waitSignal(window.session.pinnedChanged):
        QTest.mouseClick(view.viewport(), LEFT)
    kept = len(selection)
    assert kept and window.session.pinned
    press(qtbot, window, Qt.Key.Key_Escape)
    assert not window.session.pinned and len(selection) == kept
    press(qtbot, window, Qt.Key.Key_Escape)
    assert len(selection) == 0


def test_clear_selection_from_the_view_menu(qtbot, window):
    selection = window.selection_view.selection
    command = ("&View", "Clear &selection")
    assert not pick(window, command).isEnabled()  # nothing selected yet
    lasso(window)
    assert len(selection)
    action = pick(window, command)
    assert action.isEnabled() and action.shortcut().toString() == "Esc"
    action.trigger()
    assert len(selection) == 0 and not pick(window, command).isEnabled()


def test_the_selection_is_exported_through_the_menu(qtbot, window, tmp_path, monkeypatch):
    dialogs = Dialogs(tmp_path, monkeypatch)
    codes_action = ("&File", "E&xport", "Selecti&on: indices and codes (CSV / NPY)…")
    sheet_action = ("&File", "E&xport", "Selection's images as a s&heet… (PNG)")
    assert not pick(window, codes_action).isEnabled()  # nothing selected yet
    expected = lasso(window)
    s = window.session
    pick(window, codes_action).trigger()
    csv = dialogs.saved[-1]
    rows = np.loadtxt(csv, delimiter=",", skiprows=1)
    header = csv.read_text().splitlines()[0].split(",")
    assert header[:4] == ["index", "label", "mu0", "mu1"]
    np.testing.assert_array_equal(rows[:, 0], expected)
    np.testing.assert_array_equal(rows[:, 1], s.dataset.labels[expected])
    np.testing.assert_allclose(rows[:, 2:4], s.codes[expected], rtol=1e-6)
    np.testing.assert_allclose(rows[:, 4:6], s.logvars[expected], rtol=1e-6)
    # the second format the dialog offers
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        staticmethod(lambda *a, **k: (str(tmp_path / "chosen.npy"), "")),
    )
    pick(window, codes_action).trigger()
    table = np.load(tmp_path / "chosen.npy")
    np.testing.assert_array_equal(table["index"], expected)
    np.testing.assert_array_equal(table["mu"], s.codes[expected])
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        staticmethod(lambda *a, **k: (str(tmp_path / "sheet.png"), "")),
    )
    pick(window, sheet_action).trigger()
    written = QImage(str(tmp_path / "sheet.png"))
    tiles = sheet(s.dataset.images[expected])
    # the tiles twice their size, under a title line
    assert written.width() >= 2 * tiles.shape[1] and written.height() > 2 * tiles.shape[0]


def test_a_selection_shows_over_the_density_of_many_points(qtbot, crowded):  # noqa: F811
    """Over 100k points the plot draws their density; a box around one cluster selects
    its points, and the selection is drawn over the density in its own colour."""
    view = crowded
    panel = SelectionView(view)
    qtbot.addWidget(panel)
    QTest.mouseClick(panel.shape_buttons[Shape.BOX], LEFT)
    corners = [pixel_at(view, -4.0, -2.0), pixel_at(view, 0.0, 2.0)]
    drag(view, corners, CTRL)
    (x0, y0), (x1, y1) = (view.plane_point(QPointF(p)) for p in corners)
    xy = view.session.codes
    inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= min(y0, y1))
    expected = np.flatnonzero(inside & (xy[:, 1] <= max(y0, y1)))
    assert len(expected) > panel.overlay.POINTS_AT_MOST  # drawn as a density
    np.testing.assert_array_equal(panel.selection.indices, expected)
    pixels = grabbed(view)
    centre, other = pixel_at(view, -2.0, 0.0), pixel_at(view, 2.0, 0.0)
    ink = panel.overlay.ink  # the selection's density: in the plot's text colour
    assert abs(QColor(*map(int, pixels[centre.y(), centre.x()])).value() - ink.value()) < 60
    # the other cluster veiled: paler than its class colour, near the background
    veiled = QColor(*map(int, pixels[other.y(), other.x()]))
    assert veiled.hsvSaturation() < 90 and veiled.value() > 180


def test_an_export_that_cannot_be_written_says_which_file(qtbot, window, tmp_path, monkeypatch):
    lasso(window)
    messages: list[str] = []
    window.errorShown.connect(messages.append)
    for name, command in (
        ("codes.csv", "Selecti&on: indices and codes (CSV / NPY)…"),
        ("sheet.png", "Selection's images as a s&heet… (PNG)"),
    ):
        target = tmp_path / "no such folder" / name
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", staticmethod(lambda *a, t=target, **k: (str(t), ""))
        )
        pick(window, ("&File", "E&xport", command)).trigger()
        assert len(messages) == 1 and str(target) in messages[0], messages
        assert not target.exists()
        messages.clear()


def test_a_stored_selection_says_its_size(qtbot, window):
    panel = window.selection_view
    expected = lasso(window)
    QTest.mouseClick(panel.store_buttons["A"], LEFT)
    assert panel.store_buttons["A"].text() == f"Store as A ({len(expected)})"
    assert panel.store_buttons["B"].text() == "Store as B"
