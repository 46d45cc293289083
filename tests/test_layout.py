"""The window fits a 1366×768 laptop (1366×705 under a title bar and a panel) with
everything a user needs on screen, gives the insight views room on a 1920×1080 screen,
and opens cleanly from a layout saved by an older arrangement."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QRegion
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QPushButton, QToolButton, QWidget

from explorer.app import build_main_window
from tests.conftest import settle

LAPTOP = QSize(1366, 705)
DESKTOP = QSize(1920, 1080)


def shown(window, size: QSize) -> None:
    window.resize(size)
    QApplication.processEvents()
    assert window.size() == size  # not held larger by a minimum size
    settle(window.latent_view)


def must_see(window) -> dict[str, QWidget]:
    """What a user needs on screen: the plot, the image, every slider, the buttons that
    move z, β, Train and the status bar."""
    named = ["latentPlot", "decodedImage", "betaSpin", "trainButton"]
    named += [f"latentSlider{i}" for i in range(window.session.latent_dim)]
    widgets = {name: window.findChild(QWidget, name) for name in named}
    for button in window.sliders.findChildren(QPushButton):
        widgets[button.text()] = button
    widgets["status bar"] = window.statusBar()
    assert {"Zero", "Sample prior", "Data point"} <= widgets.keys()
    return widgets


def assert_whole_on_screen(window, name: str, widget: QWidget) -> None:
    """Inside the window, not covered or cut off by what holds it, and not squeezed."""
    if isinstance(widget, QAbstractScrollArea):  # a plot: its viewport is what is seen
        widget = widget.viewport()
    assert widget.isVisible(), name
    where = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    assert window.rect().contains(where), f"{name} at {where} is outside {window.rect()}"
    seen = widget.visibleRegion()
    assert not seen.isEmpty(), name
    assert QRegion(widget.rect()).subtracted(seen).isEmpty(), f"{name} is partly hidden"
    least = widget.minimumSizeHint()
    assert widget.width() >= least.width() and widget.height() >= least.height(), name


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x705", "1920x1080"])
def test_what_a_user_needs_is_on_screen(window, size):
    assert window.minimumSizeHint().width() <= LAPTOP.width()
    assert window.minimumSizeHint().height() <= LAPTOP.height()
    shown(window, size)
    for name, widget in must_see(window).items():
        assert_whole_on_screen(window, name, widget)
    assert window.panel.train_button.text() == "Train"


def test_a_ten_dimensional_model_fits_the_laptop_too(qtbot, window, tmp_path):
    """Ten sliders scroll in their own area; the buttons above them and Train stay."""
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

    path = tmp_path / "z10.safetensors"
    model = build_model(ModelConfig(latent_dim=10, hidden=(16,)))
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    with qtbot.waitSignal(window.session.codesChanged, timeout=20_000):
        assert window.open_checkpoint(path)
    shown(window, LAPTOP)
    widgets = must_see(window)
    for name in ("latentPlot", "decodedImage", "betaSpin", "trainButton", "Zero", "Data point"):
        assert_whole_on_screen(window, name, widgets[name])
    scroll = window.sliders.scroll
    for i in range(10):  # each slider can be scrolled to and then seen whole
        scroll.ensureWidgetVisible(widgets[f"latentSlider{i}"])
        QApplication.processEvents()
        assert_whole_on_screen(window, f"latentSlider{i}", widgets[f"latentSlider{i}"])


@pytest.fixture
def gnome_font():
    """GNOME's 10 pt interface font (Qt's own default here is 9 pt): ~10% wider text."""
    app = QApplication.instance()
    before = app.font()
    font = app.font()
    font.setPointSizeF(10.5)
    app.setFont(font)
    yield
    app.setFont(before)


def test_data_with_factors_fits_the_laptop_in_a_larger_font(
    qtbot, tiny_checkpoint, settings, autosave, discard_on_close, gnome_font
):
    """The widest state of the bars: ten dimensions, a factor to colour by; before any
    data arrives the window is no wider either (Qt never shrinks it back)."""
    w = build_main_window(tiny_checkpoint, settings=settings, autosave=autosave)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.minimumSizeHint().width() <= LAPTOP.width()
    w.panel.latent_spin.setValue(10)
    with qtbot.waitSignal(w.session.codesChanged, timeout=30_000):
        w.open_dataset("sprites", count=200, new_model_if_needed=True)
    assert w.plane_bar.colour_combo.isVisible()
    assert w.minimumSizeHint().width() <= LAPTOP.width()
    assert w.minimumSizeHint().height() <= LAPTOP.height()
    shown(w, LAPTOP)
    widgets = must_see(w)
    for name in ("latentPlot", "decodedImage", "betaSpin", "trainButton", "Zero", "status bar"):
        assert_whole_on_screen(w, name, widgets[name])
    w.shutdown()


@pytest.mark.parametrize("size", [LAPTOP, DESKTOP], ids=["1366x705", "1920x1080"])
def test_every_insight_tab_is_in_reach_without_scroll_arrows(window, size):
    shown(window, size)
    tabs = window.insight_dock.widget()
    bar = tabs.tabBar()
    arrows = [b for b in bar.findChildren(QToolButton) if b.isVisible()]
    assert not arrows
    for i in range(bar.count()):
        if bar.isTabVisible(i):
            assert bar.rect().contains(bar.tabRect(i)), bar.tabText(i)


def test_the_insight_views_get_the_room_on_a_large_screen(window):
    """At 1920×1080 they are wider than the training column and at least a third as
    tall as the plot (the old dock was ~430 px wide beside a mostly empty image panel)."""
    shown(window, DESKTOP)
    tabs = window.insight_dock.widget()
    assert tabs.width() >= 0.6 * DESKTOP.width()
    assert tabs.height() >= window.latent_view.height() / 3
    image = window.decoder_view
    assert image.width() <= 1.3 * image.height()  # no wide empty frame around the image


def test_a_layout_saved_by_the_old_arrangement_is_dropped(qtbot, tiny_checkpoint, settings):
    """Before issue 21 both docks stood on the right, and the state was saved without a
    version: restored into this window it would squeeze the views; it is left out."""
    old = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(old)
    old.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, old.insight_dock)
    old.splitDockWidget(old.training_dock, old.insight_dock, Qt.Orientation.Vertical)
    old.resize(1440, 860)
    settings.setValue("window/geometry", old.saveGeometry())
    settings.setValue("window/state", old.saveState())  # as it was saved: version 0
    old.shutdown()

    new = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(new)
    new.show()
    qtbot.waitExposed(new)
    qtbot.waitUntil(lambda: new.session.codes is not None, timeout=30_000)
    assert new.dockWidgetArea(new.insight_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    shown(new, LAPTOP)
    for name, widget in must_see(new).items():
        assert_whole_on_screen(new, name, widget)
    new.shutdown()


@pytest.mark.parametrize("value", ["not a layout", QByteArray(b"\x00\x01garbage")])
def test_a_broken_saved_layout_opens_the_default_one(qtbot, tiny_checkpoint, settings, value):
    settings.setValue("window/geometry", value)
    settings.setValue("window/state", value)
    w = build_main_window(tiny_checkpoint, settings=settings)
    qtbot.addWidget(w)
    assert w.dockWidgetArea(w.insight_dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert w.dockWidgetArea(w.training_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not w.insight_dock.isFloating() and not w.training_dock.isFloating()
    w.shutdown()


def test_the_colour_choice_is_never_cut_off_on_a_laptop(qtbot, window):
    """At 1366 wide the colour combo has less room than "colour by label": Qt clipped it
    to "colour by lab". Where the whole does not fit, it shows the factor's name."""
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        window.open_dataset("sprites", count=200, new_model_if_needed=True)
    shown(window, LAPTOP)
    combo = window.plane_bar.colour_combo
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    for i in range(combo.count()):
        combo.setCurrentIndex(i)
        text = combo.shown_text()
        assert combo.fontMetrics().horizontalAdvance(text) <= field.width(), text
        name = combo.currentText().removeprefix("colour by ")
        assert text in (f"colour by {name}", name) or text.endswith("…"), text
    combo.setCurrentIndex(0)
    assert combo.shown_text() in ("colour by label", "label")


def test_the_docks_get_their_room_back_after_the_window_was_small(qtbot, window):
    """Shrunk to its least size and made large again (restored from a small window, or
    maximised), the window gave all the new room to the centre: at 1920×1080 the insight
    views were left 200 px high and the training column narrow. Each dock keeps its
    share of the window."""
    shown(window, DESKTOP)
    qtbot.wait(10)
    before = (window.insight_dock.height(), window.training_dock.width())
    window.resize(window.minimumSizeHint())
    QApplication.processEvents()
    qtbot.wait(10)
    assert window.insight_dock.height() < before[0]  # it did give way
    shown(window, DESKTOP)
    qtbot.waitUntil(
        lambda: (
            abs(window.insight_dock.height() - before[0]) <= 4
            and abs(window.training_dock.width() - before[1]) <= 4
        ),
        timeout=2000,
    )


def test_the_loss_curves_keep_their_room_on_a_laptop_whatever_the_kind(qtbot, window):
    """A β-TCVAE's or a flow's extra settings squeezed the curves' area to under 60 px on
    the laptop; the panel scrolls instead, and Train stays on screen."""
    shown(window, LAPTOP)
    combo, plot = window.panel.kind_combo, window.panel.loss_plot
    for i in range(combo.count()):
        QTest.keyClick(combo, Qt.Key.Key_Home)
        for _ in range(i):  # the user steps through the kinds with the arrow key
            QTest.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() == i
        kind = combo.currentText()
        qtbot.waitUntil(lambda: plot.plotItem.vb.height() >= 120, timeout=2000)
        assert_whole_on_screen(window, f"Train, {kind}", window.panel.train_button)
