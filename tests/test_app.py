"""The real main window, driven as a user drives it (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QPushButton,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QWidget,
)

from explorer.core.config import KINDS
from explorer.core.metrics import encode, evaluate
from explorer.core.model import images_to_tensor
from explorer.core.train_split import validation_split
from explorer.ui.sliders import signed, to_value
from tests.gui import expected_image, hover, rgba, shown_pixels, train


def test_hover_decodes_the_point_under_the_cursor(qtbot, window):
    view = window.latent_view
    images = []
    for pos in (QPoint(120, 140), QPoint(view.viewport().width() - 90, 60)):
        hover(qtbot, window, pos)
        point = view.plane_point(pos.toPointF())
        # A 2-D model: the plot is the latent space, so z is the point under the cursor.
        assert np.allclose(window.session.z, point, atol=1e-9)
        expected = expected_image(window, point)
        assert np.allclose(window.decoder_view.image, expected, atol=1e-6)
        assert np.array_equal(shown_pixels(window.decoder_view), np.round(255 * expected))
        images.append(window.decoder_view.image.copy())
    assert np.abs(images[0] - images[1]).max() > 0.1  # different points, different digits


def test_the_last_position_of_a_burst_is_decoded(qtbot, window):
    """After a fast flick the image ends where the cursor ended, not on a dropped move."""
    vp = window.latent_view.viewport()
    for x in range(40, 300, 2):
        QTest.mouseMove(vp, QPoint(x, 100))
    end = window.latent_view.plane_point(QPoint(298, 100).toPointF())
    qtbot.waitUntil(lambda: np.allclose(window.session.z, end), timeout=5000)
    assert np.allclose(window.decoder_view.image, expected_image(window, end), atol=1e-6)


def test_click_pins_and_escape_releases(qtbot, window):
    view = window.latent_view
    vp = view.viewport()
    hover(qtbot, window, QPoint(150, 150))
    with qtbot.waitSignal(window.session.pinnedChanged, timeout=5000):
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(150, 150))
    pinned_z = window.session.z.copy()
    assert window.session.pinned
    QTest.mouseMove(vp, QPoint(60, 60))
    qtbot.wait(50)  # let any (wrongly) queued hover run
    assert np.array_equal(window.session.z, pinned_z)
    # Arrow keys nudge the pinned code.
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert window.session.z[0] > pinned_z[0]
    with qtbot.waitSignal(window.session.pinnedChanged, timeout=5000):
        QTest.keyClick(view, Qt.Key.Key_Escape)
    assert not window.session.pinned
    hover(qtbot, window, QPoint(200, 90))
    assert not np.array_equal(window.session.z, pinned_z)


def drag_slider(slider: QSlider, fraction: float) -> None:
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    style = slider.style()
    handle = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, slider
    )
    groove = style.subControlRect(
        QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, slider
    )
    start = handle.center()
    end = QPoint(groove.left() + int(fraction * groove.width()), start.y())
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, 6):
        QTest.mouseMove(slider, start + (end - start) * i / 5)
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=end)


def test_the_marker_is_drawn_around_the_cursor(qtbot, window):
    pos = QPoint(140, 120)
    hover(qtbot, window, pos)
    window.latent_view.viewport().repaint()
    crop = window.latent_view.viewport().grab().toImage().copy(pos.x() - 14, pos.y() - 14, 29, 29)
    grey = rgba(crop)[..., :3].max(axis=2)  # dark only where every channel is
    # the 18-px circle: on every ray from the cursor, a near-black pixel 7-11 px out
    for a in np.linspace(0, 2 * np.pi, 16, endpoint=False):
        ray = [grey[14 + round(r * np.sin(a)), 14 + round(r * np.cos(a))] for r in range(7, 12)]
        assert min(ray) < 90, f"no ring at {np.degrees(a):.0f} degrees"
    corners = [grey[0, 0], grey[0, -1], grey[-1, 0], grey[-1, -1]]
    assert sum(c > 150 for c in corners) >= 2, "and no larger: light beyond it"


def test_dragging_a_slider_moves_image_and_marker(qtbot, window):
    slider = window.findChild(QSlider, "latentSlider1")
    assert window.findChild(QSlider, "latentSlider0") is not None
    before = window.decoder_view.image.copy()
    drag_slider(slider, 0.9)
    z = window.session.z
    assert z[1] == pytest.approx(to_value(slider.value(), window.session.spans[1])) and z[1] > 1.5
    assert np.allclose(window.decoder_view.image, expected_image(window, z), atol=1e-6)
    assert np.abs(window.decoder_view.image - before).max() > 0.05
    mx, my = window.latent_view.marker.getData()
    assert (mx[0], my[0]) == pytest.approx(tuple(window.session.plane.to_plane(z)))


def test_sliders_follow_the_cursor(qtbot, window):
    hover(qtbot, window, QPoint(100, 100))
    for i in range(2):
        slider = window.findChild(QSlider, f"latentSlider{i}")
        if abs(window.session.z[i]) < 3:
            value = to_value(slider.value(), window.session.spans[i])
            assert value == pytest.approx(window.session.z[i], abs=0.006)


def test_a_sliders_dot_sits_at_its_value(qtbot, window):
    """Each slider is drawn as a dot in the highlight colour on a line (a cheap style:
    every visible slider repaints on every cursor move), the dot where its value is."""
    window.session.set_z(np.array([-2.0, 1.5]))
    highlight = window.palette().highlight().color()
    for i, value in enumerate(window.session.z):
        slider = window.findChild(QSlider, f"latentSlider{i}")
        row = rgba(slider.grab().toImage())[slider.height() // 2, :, :3].astype(int)
        dot = np.flatnonzero(np.abs(row - highlight.getRgb()[:3]).sum(axis=1) < 30)
        assert 9 <= len(dot) <= 14, "a dot 12 px wide"
        radius = 6
        expected = radius + (slider.width() - 2 * radius) * (value + 3) / 6
        assert dot.mean() == pytest.approx(expected, abs=1.5)


def test_the_code_is_written_out_without_relaying_the_window_out(qtbot, window):
    """The status bar and the sliders' readouts show the cursor's code; new values only
    repaint them (a relayout would repaint the whole status bar on every move)."""
    relayouts = []
    panels = (window.statusBar(), window.sliders)

    class Relayouts(QObject):
        """Relayouts of the status bar and the sliders' panel (other views may lay
        themselves out meanwhile, e.g. when the code rests)."""

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.LayoutRequest and any(
                obj is p or (isinstance(obj, QWidget) and p.isAncestorOf(obj)) for p in panels
            ):
                relayouts.append(obj)
            return False

    hover(qtbot, window, QPoint(60, 60))
    counter = Relayouts()
    QApplication.instance().installEventFilter(counter)
    try:
        for x in range(80, 240, 40):
            hover(qtbot, window, QPoint(x, x // 2 + 30))
            QApplication.processEvents()  # the posted relayouts and repaints
            z = window.session.z
            status = window.statusBar().code_label
            assert status.text() == f"z = ({signed(z[0])}, {signed(z[1])})"
            assert status.accessibleDescription() == status.text()  # for screen readers
            assert [r.text() for r in window.sliders.readouts] == [signed(v) for v in z]
    finally:
        QApplication.instance().removeEventFilter(counter)
    assert relayouts == []
    text = status.grab().toImage()  # the text is drawn: dark pixels on the light bar
    dark = [
        text.pixelColor(x, y).lightness() < 100 for x in range(60) for y in range(text.height())
    ]
    assert any(dark)


def test_train_with_a_new_beta(qtbot, window):
    old_model = window.session.model
    window.findChild(type(window.panel.beta_spin), "betaSpin").setValue(4.0)
    window.panel.epochs_spin.setValue(1)
    window.panel.batch_spin.setValue(32)
    with qtbot.waitSignal(window.trainer.finished, timeout=60_000) as done:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed"
    steps, losses = window.panel.loss_plot.curves["total"].getData()
    assert steps is not None and len(steps) > 0 and np.isfinite(losses).all()
    assert window.session.model is not old_model
    assert window.session.info.train_config.beta == 4.0 and window.session.info.unsaved
    assert len(window.session.codes) == len(window.session.dataset)
    assert "β = 4" in window.panel.summary.text()
    qtbot.waitUntil(lambda: window.panel.train_button.isEnabled())


def test_training_hands_the_gil_over_quickly_and_restores_the_interval_after(qtbot, window):
    """While a run trains, the GIL changes hands every 0.1 ms (the worker needs it between
    torch ops, and the GUI thread's Python would hold it for CPython's 5 ms); after the
    run the interval is what it was."""
    import sys

    before = sys.getswitchinterval()
    during = []
    window.trainer.runningChanged.connect(lambda on: on and during.append(sys.getswitchinterval()))
    train(qtbot, window, epochs=1)
    assert during == [pytest.approx(1e-4)] and sys.getswitchinterval() == before


def test_numpy_blas_has_no_spinning_helper_threads_in_the_app(window):
    """OpenBLAS's helper threads busy-wait after each call; in the app they took CPU from
    training, so the window's process runs NumPy's BLAS on the calling thread."""
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas and all(lib["num_threads"] == 1 for lib in blas)


def test_stop_mid_training(qtbot, window):
    """Stop is shown at once; then the codes and the summary's figures of the weights it
    stopped with follow (they had been the last whole epoch's, or none in the first)."""
    window.panel.kind_combo.setCurrentIndex(KINDS.index("ae"))  # figures without sampling
    window.panel.epochs_spin.setValue(200)
    window.panel.batch_spin.setValue(4)  # 60 steps an epoch: the stop lands inside one
    with qtbot.waitSignal(window.panel.progress.valueChanged, timeout=30_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.trainer.finished, timeout=10_000) as done:
        QTest.mouseClick(window.panel.stop_button, Qt.MouseButton.LeftButton)
    stopped = done.args[0]
    assert stopped.status == "stopped" and stopped.step < stopped.steps_total
    qtbot.waitUntil(lambda: not window.trainer.running)
    assert window.panel.train_button.isEnabled() and not window.panel.stop_button.isEnabled()
    s = window.session
    images = images_to_tensor(s.dataset.images)
    assert np.allclose(s.codes, encode(s.model, images)[0], atol=1e-5)
    final = evaluate(s.model, *validation_split(s.model, s.dataset, s.info.train_config))
    assert f"reconstruction {final.recon:.1f} nats" in window.panel.summary.text()
    assert s.info.metrics["recon"] == pytest.approx(final.recon, rel=1e-6)


def test_close_mid_training(qtbot, window, qtlog):
    window.panel.epochs_spin.setValue(200)
    with qtbot.waitSignal(window.panel.progress.valueChanged, timeout=30_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    thread = window.trainer.thread
    assert window.close()
    assert thread.isFinished()
    assert not [r for r in qtlog.records if "QThread" in r.message]


def test_plane_selector_for_a_four_dimensional_model(qtbot, window, tmp_path):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

    path = tmp_path / "z4.safetensors"
    model = build_model(ModelConfig(latent_dim=4, hidden=(16,)))
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    assert window.open_checkpoint(path)
    qtbot.waitUntil(lambda: window.session.codes is not None, timeout=10_000)
    assert window.session.plane.kind == "pca"  # the default for more than 2 dimensions
    shares = window.latent_view.shares  # in the plot's corner
    x, y = window.session.plane.shares
    assert shares.text == f"PC1 {x:.0%} · PC2 {y:.0%} of the variance"
    assert window.findChildren(QSlider, "latentSlider3")
    bar = window.plane_bar
    bar.plane_combo.setCurrentIndex(1)
    bar.x_spin.setValue(2)
    bar.y_spin.setValue(3)
    assert window.session.plane.axis_labels == ("z2", "z3") and shares.text == ""
    z_before = window.session.z.copy()
    hover(qtbot, window, QPoint(140, 120))
    z = window.session.z
    assert np.array_equal(z[:2], z_before[:2])  # off-plane coordinates keep their values
    assert np.allclose(z[2:], window.latent_view.plane_point(QPoint(140, 120).toPointF()))


def test_training_a_3d_model_plots_each_epoch_on_its_principal_plane(qtbot, window):
    """The worker works out each epoch's PCA plane; what the window shows is the plane
    of the codes on screen."""
    from explorer.core.projection import pca_plane

    s = window.session
    window.panel.latent_spin.setValue(3)
    planes = []
    s.codesChanged.connect(lambda: planes.append((s.plane, s.codes.copy())))
    train(qtbot, window, epochs=2)
    assert len(planes) == 2 and s.latent_dim == 3
    for plane, codes in planes:
        want = pca_plane(codes)
        assert plane.kind == "pca" and plane.axis_labels == want.axis_labels
        assert np.allclose(plane.basis, want.basis) and np.allclose(plane.origin, want.origin)
    xy = s.plane.to_plane(s.codes)
    # drawn where the plane puts them (in float32: far under a pixel)
    assert np.allclose(window.latent_view.points.xy, xy, atol=1e-5)


def test_the_sliders_keep_their_room_after_a_model_trained_in_the_window(qtbot, window):
    """A model trained in the window rebuilds the sliders while the window is shown:
    every row is still there to see and drag, not cut down to a sliver."""
    from PySide6.QtWidgets import QApplication

    train(qtbot, window, epochs=1)
    QApplication.processEvents()
    assert window.sliders.sliders
    for slider in window.sliders.sliders:
        seen = slider.visibleRegion().boundingRect()
        assert slider.isVisible() and seen.height() == slider.height() > 0


def test_slider_buttons(qtbot, window):
    buttons = {b.text(): b for b in window.sliders.findChildren(QPushButton)}
    s = window.session
    QTest.mouseClick(buttons["Sample prior"], Qt.MouseButton.LeftButton)
    assert s.z.shape == (2,) and not np.array_equal(s.z, np.zeros(2))
    QTest.mouseClick(buttons["Data point"], Qt.MouseButton.LeftButton)
    assert (np.abs(s.codes - s.z).sum(axis=1) == 0).any()  # exactly some image's code
    assert np.allclose(window.decoder_view.image, expected_image(window, s.z), atol=1e-6)
    QTest.mouseClick(buttons["Zero"], Qt.MouseButton.LeftButton)
    assert np.array_equal(s.z, np.zeros(2))
    assert [r.text() for r in window.sliders.readouts] == ["+0.00", "+0.00"]
    assert np.allclose(window.decoder_view.image, expected_image(window, s.z), atol=1e-6)


def test_a_hover_storm_leaves_no_backlog(qtbot, window):
    """10,000 queued mouse moves: one decode for the last position, not a queue of them."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    vp = window.latent_view.viewport()
    decodes = []
    window.latent_view.hoverDecoded.connect(lambda: decodes.append(window.session.z.copy()))
    for i in range(10_000):
        pos = QPointF(40 + (i * 7) % 260, 40 + (i * 13) % 200)
        QApplication.postEvent(
            vp,
            QMouseEvent(
                QEvent.Type.MouseMove,
                pos,
                vp.mapToGlobal(pos),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )

    def last() -> np.ndarray:
        # Mapped when checked, not when posted: the plot's axes may still be settling
        # (tick labels change width after a new range), which moves the plot area.
        return window.latent_view.plane_point(pos)

    # Qt itself needs 4-5 s to deliver 10,000 events here, more on a loaded machine.
    qtbot.waitUntil(lambda: bool(decodes) and np.allclose(decodes[-1], last()), timeout=60_000)
    assert len(decodes) <= 3  # coalesced: the storm cost a few decodes, not 10,000
    assert np.allclose(window.decoder_view.image, expected_image(window, last()), atol=1e-6)


def test_the_plot_draws_each_point_where_its_code_is(qtbot, window):
    """Pixels of the grabbed plot at a data point's position have its group's colour."""
    import pyqtgraph as pg

    view, s = window.latent_view, window.session
    xy = s.plane.to_plane(s.codes)
    picture = view.grab().toImage()
    ratio = picture.width() / view.width()
    # points with no other point within 12 px, so their colour is not mixed with another's
    px = np.array(
        [view.mapFromScene(view.plotItem.vb.mapViewToScene(pg.Point(*p))).toTuple() for p in xy]
    )
    near = np.sqrt(((px[:, None] - px[None]) ** 2).sum(-1)) + 1e9 * np.eye(len(px))
    lonely = np.flatnonzero(near.min(1) > 12)[:10]
    assert len(lonely) >= 3
    colour_of = {int(i): c for _, c, idx in view.groups for i in idx}
    for i in lonely:
        want = pg.mkColor(colour_of[int(i)])
        a = want.alphaF()  # over the white background
        expected = [255 * (1 - a) + v * a for v in want.getRgb()[:3]]
        got = picture.pixelColor(int(px[i, 0] * ratio), int(px[i, 1] * ratio)).getRgb()[:3]
        assert np.allclose(got, expected, atol=12), (i, got, expected)
        # and a few pixels away there is only background (a dot, not a smear)
        away = picture.pixelColor(int((px[i, 0] + 6) * ratio), int(px[i, 1] * ratio))
        assert away.lightness() > 235
    (x0, x1), (y0, y1) = view.plotItem.vb.viewRange()  # every point is in view
    assert x0 < xy[:, 0].min() and xy[:, 0].max() < x1 and y0 < xy[:, 1].min() < xy[:, 1].max() < y1


def test_the_main_widgets_carry_the_names_automation_finds_them_by(window):
    from PySide6.QtWidgets import QWidget

    names = ["latentPlot", "decodedImage", "betaSpin", "trainButton", "stopButton"]
    names += ["trainProgress", "lossPlot"]
    names += [f"latentSlider{i}" for i in range(window.session.latent_dim)]
    missing = [n for n in names if window.findChild(QWidget, n) is None]
    assert not missing


def test_the_plot_keeps_its_frame_while_new_codes_fit_it_and_refits_when_they_do_not(window):
    """Training replaces the codes every epoch: the view holds still while they stay in
    it and fill over half of it, and is fitted again when they leave it, shrink, or a
    new plane is chosen."""
    view, s = window.latent_view, window.session

    def view_range():
        return np.array(view.plotItem.vb.viewRange())  # [[x0, x1], [y0, y1]]

    def shows_all(codes):
        (x0, x1), (y0, y1) = view_range()
        xy = s.plane.to_plane(codes)
        inside_x = x0 <= xy[:, 0].min() and xy[:, 0].max() <= x1
        return inside_x and y0 <= xy[:, 1].min() and xy[:, 1].max() <= y1

    codes, logvars = s.codes.copy(), s.logvars
    fitted = view_range()
    centre = codes.mean(0)
    s.set_codes(centre + 0.8 * (codes - centre), logvars)  # a little tighter: same frame
    assert np.array_equal(view_range(), fitted)
    span = np.ptp(s.plane.to_plane(codes), axis=0)
    moved = codes + 3 * np.abs(s.plane.to_latent(span, np.zeros(s.latent_dim)))
    s.set_codes(moved, logvars)  # off the view: refitted to show them all
    assert shows_all(moved) and not np.array_equal(view_range(), fitted)
    s.set_codes(centre + 0.2 * (codes - centre), logvars)  # a fifth of the size: refitted
    assert shows_all(s.codes) and np.all(np.ptp(view_range(), axis=1) < 0.3 * np.ptp(fitted, 1))
    s.set_codes(codes, logvars)
    assert shows_all(codes)
    before = view_range()
    s.set_plane("dims", 1, 0)  # a new plane: fitted to it, even though the codes fit
    assert np.allclose(view_range(), before[::-1], atol=0.02 * np.ptp(before, 1).max())


def test_a_finished_run_shows_the_codes_of_its_final_weights(qtbot, window):
    """Epoch codes reach the plot a turn of the event loop after the weights; by the time
    the run is reported finished, the codes on screen are those of the final weights."""
    s = window.session
    images = images_to_tensor(s.dataset.images)
    at_finish = []
    window.trainer.finished.connect(
        lambda _p: at_finish.append(np.allclose(s.codes, encode(s.model, images)[0], atol=1e-5))
    )
    final = train(qtbot, window, epochs=3)
    assert final.status == "completed" and at_finish == [True]
