"""Level of detail on the latent plot (issue 24): many points as a density image, the
points themselves where the view holds few; the binning it rests on (explorer.core.density)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from explorer.core.density import VIRIDIS, bin_points, density_rgba

# -- the binning --------------------------------------------------------------------------


def test_counts_fall_in_their_cells_over_the_extent():
    xy = np.array([[0.1, 0.1], [0.9, 0.1], [0.9, 0.2], [0.6, 0.9], [2.0, -1.0], [np.nan, 0]])
    d = bin_points(xy, (0.0, 1.0, 0.0, 1.0), shape=(2, 2))
    # row 0 is the bottom; the point outside counts in the edge cell, the NaN nowhere
    assert d.counts.tolist() == [[1, 3], [0, 1]]
    assert d.extent == (0.0, 1.0, 0.0, 1.0)
    assert d.count_in(0.0, 0.4, 0.0, 0.4) == 1  # the bottom-left cell
    assert d.count_in(0.0, 1.0, 0.0, 1.0) == 5
    assert d.count_in(0.6, 0.7, 0.6, 0.7) == 1  # overlaps the top-right cell only


def test_a_cell_is_coloured_by_the_mix_of_its_classes():
    xy = np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.1], [0.9, 0.9]])
    groups = np.array([0, 0, 1, 1])
    palette = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    d = bin_points(xy, (0.0, 1.0, 0.0, 1.0), shape=(2, 2), groups=groups, palette=palette)
    assert d.counts[0, 0] == 3 and d.counts[1, 1] == 1
    assert np.allclose(d.sums[0, 0], [2, 0, 1])  # two red, one blue
    assert np.allclose(d.sums[1, 1], [0, 0, 1])
    rgba = density_rgba(d, alpha_floor=0.5)
    # (each point spread over its 3 × 3 cells: on a 2 × 2 grid, over all four)
    mean = rgba[1, 0, :3] / 255
    assert np.allclose(mean, [0.5, 0, 0.5], atol=0.01)  # 2 red + 2 blue reach every cell


def test_opacity_grows_with_log_density_and_empty_cells_are_clear():
    xy = np.concatenate([np.full((99, 2), 0.05), [[0.5, 0.5]]])
    d = bin_points(xy, (0.0, 1.0, 0.0, 1.0), shape=(10, 10))
    rgba = density_rgba(d, alpha_floor=0.4)
    assert rgba[0, 0, 3] == 255  # the densest
    assert 0.4 * 255 <= rgba[5, 5, 3] < 0.6 * 255  # a lone point
    assert rgba[9, 0, 3] == 0  # nothing there
    # no groups: a perceptual ramp, its dense end the ramp's last colour
    assert np.allclose(rgba[0, 0, :3] / 255, VIRIDIS[-1], atol=0.01)


# -- the view -----------------------------------------------------------------------------

N = 150_000  # above LatentView.ALWAYS_POINTS


@pytest.fixture
def crowded(qtbot):
    """A LatentView of 150k codes of two classes in two clusters (class 0 round (-2, 0),
    class 1 round (2, 0)), fitted to them."""
    from explorer.core.config import ModelConfig
    from explorer.core.data import Dataset
    from explorer.core.kinds import build_model
    from explorer.ui.latent_view import LatentView
    from explorer.ui.state import ModelInfo, Session

    rng = np.random.default_rng(0)
    labels = np.arange(N) % 2
    codes = np.stack([np.where(labels == 0, -2.0, 2.0), np.zeros(N)], 1)
    codes = (codes + rng.normal(scale=0.5, size=(N, 2))).astype(np.float32)
    session = Session()
    model = build_model(ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(8,)))
    session.set_model(model, ModelInfo())
    images = np.broadcast_to(np.zeros((1, 8, 8), np.uint8), (N, 8, 8))
    session.set_dataset(Dataset(images=images, name="two clusters", labels=labels))
    view = LatentView(session)
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    session.set_codes(codes, np.zeros_like(codes), active=np.ones(2, bool))
    return view


def pixel_at(view, x: float, y: float) -> QPoint:
    """The viewport pixel of plane point (x, y)."""
    return view.mapFromScene(view.plotItem.vb.mapViewToScene(QPointF(x, y)))


def grabbed(view) -> np.ndarray:
    """The viewport as the user sees it: (H, W, 3) 0..255."""
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    return (
        np.frombuffer(image.constBits(), np.uint8, h * image.bytesPerLine())
        .reshape(h, image.bytesPerLine())[:, : 3 * w]
        .reshape(h, w, 3)
        .copy()  # (the image's memory goes with it)
    )


def near(rgb: np.ndarray, colour: QColor) -> bool:
    """A pixel of `colour` drawn (translucent) over the plot: of its hue, and saturated."""
    seen = QColor(*map(int, rgb))
    hue = abs(seen.hsvHue() - colour.hsvHue())
    return min(hue, 360 - hue) <= 12 and seen.hsvSaturation() > 80


def class_colours(view) -> list[QColor]:
    return [pg.mkColor(c) for _, c, _ in view.groups]  # (#rrggbbaa, not Qt's #aarrggbb)


def wheel(view, pos: QPoint, notches: int) -> None:
    vp = view.viewport()
    for _ in range(abs(notches)):
        QApplication.sendEvent(
            vp,
            QWheelEvent(
                QPointF(pos),
                QPointF(vp.mapToGlobal(pos)),
                QPoint(),
                QPoint(0, 120 if notches > 0 else -120),
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            ),
        )


def coloured_share(pixels: np.ndarray) -> float:
    """The share of pixels (H, W, 3) in a colour (points or density; not the background,
    the grey grid or the text)."""
    p = pixels.astype(int)
    return float(np.mean(p.max(2) - p.min(2) > 40))


def plot_area(view, pixels: np.ndarray) -> np.ndarray:
    box = view.plotItem.vb.sceneBoundingRect().toRect()
    return pixels[box.top() + 2 : box.bottom() - 2, box.left() + 2 : box.right() - 2]


def around(pixels: np.ndarray, p: QPoint, r: int = 3) -> np.ndarray:
    return pixels[p.y() - r : p.y() + r + 1, p.x() - r : p.x() + r + 1]


def test_many_points_are_drawn_as_their_density_in_their_class_colours(crowded):
    view = crowded
    assert len(view.points.xy) == 0  # no point drawn one by one
    pixels = grabbed(view)
    c0, c1 = class_colours(view)
    for (x, y), colour in (((-2, 0), c0), ((2, 0), c1)):
        p = pixel_at(view, x, y)
        assert near(pixels[p.y(), p.x()], colour), (x, y)
    # between the clusters, far from both: the plot's background
    assert coloured_share(around(pixels, pixel_at(view, 0, 2))) == 0


def test_zooming_in_by_the_wheel_shows_the_points_in_view(crowded, qtbot):
    view = crowded
    before = coloured_share(plot_area(view, grabbed(view)))
    # a cluster's edge, where the points thin out
    wheel(view, pixel_at(view, 2.0, 1.2), 8)
    qtbot.waitUntil(lambda: len(view.points.xy) > 0)
    (x0, x1), (y0, y1) = view.viewRange()
    xy = view.points.xy
    assert len(xy) <= view.POINTS_AT_MOST
    px, py = view.plotItem.vb.viewPixelSize()
    pad = 2 * view.points.size_px
    assert (xy[:, 0] >= x0 - pad * px).all() and (xy[:, 0] <= x1 + pad * px).all()
    assert (xy[:, 1] >= y0 - pad * py).all() and (xy[:, 1] <= y1 + pad * py).all()
    pixels = grabbed(view)
    # dots on a clear plot, not a filled image: most of the plot is background again
    assert coloured_share(plot_area(view, pixels)) < min(before, 0.5)
    inside = (xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)
    x, y = xy[np.flatnonzero(inside)[0]]
    p = pixel_at(view, x, y)
    assert near(pixels[p.y(), p.x()], class_colours(view)[1])
    # and back out: the density again
    wheel(view, pixel_at(view, 2.0, 1.2), -8)
    qtbot.waitUntil(lambda: len(view.points.xy) == 0)
    p = pixel_at(view, 2, 0)
    assert near(grabbed(view)[p.y(), p.x()], class_colours(view)[1])


def test_hover_decodes_at_both_levels(crowded, qtbot):
    view = crowded
    session = view.session
    # (a large set's points are found once sorted, on another thread, after the codes come)
    qtbot.waitUntil(lambda: view.point_near(np.array([2.0, 0.0]), 50) is not None)
    for zoom in (0, 8):
        wheel(view, pixel_at(view, 2.0, 0.0), zoom)
        pos = pixel_at(view, 2.05, 0.02)
        with qtbot.waitSignal(view.hoverDecoded, timeout=5000):
            QTest.mouseMove(view.viewport(), pos)
        assert np.allclose(session.z, view.plane_point(QPointF(pos)), atol=1e-6)
        # the data point under the cursor is in focus: within a few pixels of it
        code = session.codes[session.focus]
        assert (pixel_at(view, *code) - pos).manhattanLength() <= 12, zoom
        assert (len(view.points.xy) > 0) == (zoom > 0)


def test_new_codes_rebuild_the_density(crowded, qtbot):
    view = crowded
    session = view.session
    codes = session.codes.copy()
    codes[session.dataset.labels == 0, 1] += 3.0  # class 0 moves up (an epoch's new codes)
    session.set_codes(codes, np.zeros_like(codes), active=np.ones(2, bool))
    pixels = grabbed(view)
    p = pixel_at(view, -2, 3)
    assert near(pixels[p.y(), p.x()], class_colours(view)[0])
    assert coloured_share(around(pixels, pixel_at(view, -2, -0.5), 2)) == 0  # where it was


def test_the_density_shows_on_a_dark_plot(crowded, qtbot):
    from explorer.ui.theme import dark_palette

    view = crowded
    view.setPalette(dark_palette())
    qtbot.waitUntil(lambda: view.backgroundBrush().color().lightness() < 128)
    pixels = grabbed(view)
    for x in (-2, 2):
        p = pixel_at(view, x, 0)
        rgb = pixels[p.y(), p.x()]
        assert QColor(*map(int, rgb)).lightness() > 80  # light on the dark background


def test_the_density_at_rest_meets_the_points_where_they_will_be_drawn(crowded, qtbot):
    """Zoomed in on the density, once the view rests it is binned anew at the screen's
    resolution: its coloured pixels are where the points' dots are drawn a notch later."""
    view = crowded
    at = pixel_at(view, 2.0, 1.0)
    notches = 0
    while True:  # zoom in until the next notch would draw the points one by one
        wheel(view, at, 1)
        notches += 1
        if len(view.points.xy):
            break
    wheel(view, at, -1)
    qtbot.waitUntil(lambda: view.detail.drawn, timeout=5000)
    pixels = grabbed(view)
    wheel(view, at, 1)
    wheel(view, at, -1)  # the same view again, now from the points: where they are
    xy = view.session.plane.points(view.session.codes)  # where the data's points are
    (x0, x1), (y0, y1) = view.viewRange()
    shown = xy[(xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)]
    dots = np.zeros(pixels.shape[:2], bool)
    for x, y in shown:
        p = pixel_at(view, x, y)
        dots[max(p.y() - 2, 0) : p.y() + 3, max(p.x() - 2, 0) : p.x() + 3] = True
    p = pixels.astype(int)
    coloured = p.max(2) - p.min(2) > 40
    box = view.plotItem.vb.sceneBoundingRect().toRect()
    coloured[:, : box.left() + 1] = False  # (the axes)
    assert coloured.sum() > 1000
    assert np.mean(dots[coloured]) > 0.97  # every coloured pixel is on a dot


def test_a_drag_pans_without_decoding_the_spot_it_holds(crowded, qtbot, monkeypatch):
    """A drag carries the plane along with the cursor: the code under it is the one already
    decoded, so the moves of a pan decode nothing new; a hover elsewhere still does."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    # pyqtgraph drops moves that come sooner than its rate limit (the plane stays, so the
    # cursor is on a new spot and decodes it): every move of this quick drag pans
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)
    view = crowded
    session = view.session
    vp = view.viewport()
    pos = pixel_at(view, 2.0, 0.0)
    with qtbot.waitSignal(view.hoverDecoded, timeout=5000):
        QTest.mouseMove(vp, pos)
    decoded = []
    session.codeChanged.connect(lambda: decoded.append(session.z.copy()))

    def send(kind, at, button, buttons):
        event = QMouseEvent(
            kind, QPointF(at), QPointF(vp.mapToGlobal(at)), button, buttons, Qt.NoModifier
        )
        QApplication.sendEvent(vp, event)
        QApplication.processEvents()

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    before = view.viewRange()
    send(QEvent.Type.MouseButtonPress, pos, left, left)
    for i in range(1, 11):
        send(QEvent.Type.MouseMove, pos + QPoint(6 * i, 3 * i), none, left)
    send(QEvent.Type.MouseButtonRelease, pos + QPoint(60, 30), left, none)
    assert view.viewRange() != before  # it panned
    assert decoded == []
    elsewhere = pos + QPoint(-20, 10)
    with qtbot.waitSignal(view.hoverDecoded, timeout=5000):
        QTest.mouseMove(vp, elsewhere)
    assert len(decoded) == 1
    assert np.allclose(session.z, view.plane_point(QPointF(elsewhere)), atol=1e-6)
