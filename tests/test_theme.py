"""Light and dark: the window follows the system's colour scheme as it changes, and its
text, hints, plots and sliders stay legible in both."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from explorer.ui.palette import CATEGORICAL_DARK, SEQUENTIAL_DARK
from explorer.ui.theme import MIN_CONTRAST, contrast, dark_palette, is_dark


def pixels(widget: QWidget) -> np.ndarray:
    """What `widget` shows: (H, W, 3) uint8."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    return rows[:, : 3 * w].reshape(h, w, 3).copy()


def background(px: np.ndarray) -> QColor:
    """The colour most of the pixels have."""
    colours, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    return QColor(*colours[np.argmax(counts)].tolist())


def text_contrast(widget: QWidget) -> float:
    """Contrast of the widget's text against its background: the pixel that stands out
    most from the background is the core of a glyph (antialiased edges are paler)."""
    px = pixels(widget)
    bg = background(px)
    colours = np.unique(px.reshape(-1, 3), axis=0)
    return max(contrast(QColor(*c.tolist()), bg) for c in colours)


@pytest.fixture
def scheme(window):
    """Switch the system's colour scheme as a desktop does (Qt's signal); back to light
    afterwards, for the other tests of the session."""
    hints = QApplication.instance().styleHints()

    def switch(to: Qt.ColorScheme) -> None:
        hints.colorSchemeChanged.emit(to)
        QApplication.processEvents()

    yield switch
    switch(Qt.ColorScheme.Light)
    assert not is_dark(QApplication.palette())


def hints(window) -> dict[str, QWidget]:
    window.findChild(QWidget, "insightTabs").setCurrentWidget(window.traversal_view)
    QApplication.processEvents()
    return {"pin hint": window.pin_label, "traversal note": window.traversal_view.note}


def plot_area_colour(plot) -> QColor:
    return background(pixels(plot.viewport()))


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_is_legible_in_either_scheme(window, scheme, dark):
    scheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    assert is_dark(QApplication.palette()) == dark
    for name, label in hints(window).items():
        assert label.text(), name
        assert text_contrast(label) >= MIN_CONTRAST, name
    for plot in (window.latent_view, window.panel.loss_plot):  # axes, ticks, legend
        assert text_contrast(plot.viewport()) >= MIN_CONTRAST, plot.objectName()
    slider = window.sliders.sliders[0]
    groove = pixels(slider)[slider.height() // 2, 2:10]  # left of the handle
    line = QColor(*groove[0].tolist())
    assert contrast(line, window.palette().color(QPalette.ColorRole.Window)) >= 1.8


def test_the_plots_follow_a_live_switch(window, scheme):
    plots = [window.latent_view, window.panel.loss_plot, window.kl_view.plot]
    light = [plot_area_colour(p) for p in plots]
    assert all(is_light(c) for c in light)
    scheme(Qt.ColorScheme.Dark)
    base = QApplication.palette().color(QPalette.ColorRole.Base)
    assert [plot_area_colour(p) for p in plots] == [base] * len(plots)
    assert window.latent_view.marker.isVisible()
    scheme(Qt.ColorScheme.Light)
    assert [plot_area_colour(p) for p in plots] == light


def test_a_dark_palette_from_the_platform_is_kept_and_followed(window, scheme):
    """Where the platform gives its own dark palette (KDE, Windows, macOS), the app
    uses it rather than its own."""
    app = QApplication.instance()
    own = dark_palette()
    own.setColor(QPalette.ColorRole.Base, QColor("#101820"))
    start = QPalette(app.palette())
    app.setPalette(own)
    try:
        scheme(Qt.ColorScheme.Dark)
        assert app.palette().color(QPalette.ColorRole.Base) == QColor("#101820")
        assert plot_area_colour(window.latent_view) == QColor("#101820")
        for name, label in hints(window).items():
            assert text_contrast(label) >= MIN_CONTRAST, name
    finally:
        app.setPalette(start)


def is_light(c: QColor) -> bool:
    return c.lightness() >= 128


def test_every_point_colour_stands_out_on_the_dark_plot():
    base = dark_palette().color(QPalette.ColorRole.Base)
    for colour in CATEGORICAL_DARK + SEQUENTIAL_DARK:
        assert contrast(QColor(colour), base) >= 2.0, colour


def test_what_floats_over_the_plot_follows_a_live_switch(window, scheme):
    """The first-run hint and the busy indicator repaint in the new scheme: their
    background and text, not a light box left on a dark plot."""
    from explorer.ui.first_run_hint import FirstRunHint

    hint = FirstRunHint(window.latent_view, "Ctrl+Return")
    hint.show()
    window.busy.begin("job", "Reading a folder")
    try:
        for to in (Qt.ColorScheme.Dark, Qt.ColorScheme.Light):
            scheme(to)
            window_colour = QApplication.palette().color(QPalette.ColorRole.Window)
            for overlay in (hint, window.busy):
                assert background(pixels(overlay)) == window_colour, overlay.objectName()
                assert text_contrast(overlay) >= MIN_CONTRAST, overlay.objectName()
    finally:
        window.busy.end("job")
        hint.close()


def curve_contrast(plot, key: str, values: np.ndarray) -> float:
    """The contrast against the plot's background of the pixel that stands out most along
    the curve `key`, which was drawn through `values` (one per step): the line's core."""
    vb = plot.plotItem.vb
    px = pixels(plot.viewport())
    bg = background(px)
    best = 1.0
    for step in np.linspace(len(values) * 0.1, len(values) * 0.9, 25).astype(int):
        y = np.log10(values[step]) if plot.log_scale else values[step]
        scene = vb.mapViewToScene(QPointF(step + 1, y))
        at = plot.mapFromScene(scene)
        for dy in range(-2, 3):
            r, g, b = px[at.y() + dy, at.x()].tolist()
            best = max(best, contrast(QColor(r, g, b), bg))
    return best


@pytest.mark.parametrize(
    "base",
    [None, "#323232"],
    ids=["app's dark palette", "Adwaita dark (GTK's platform theme)"],
)
def test_every_loss_curve_is_legible_on_the_dark_plot(window, scheme, base):
    """The reconstruction (blue), KL (orange), TC and C curves are lines on the plot's base colour:
    each must stand out from it as text would, in the app's own dark palette and on the
    lighter base GTK's dark theme gives the plot."""
    from explorer.core.metrics import Evaluation
    from explorer.core.training import Progress

    app = QApplication.instance()
    start = QPalette(app.palette())
    if base is not None:
        own = dark_palette()
        own.setColor(QPalette.ColorRole.Base, QColor(base))
        app.setPalette(own)
    try:
        scheme(Qt.ColorScheme.Dark)
        plot = window.panel.loss_plot
        n = 200  # five curves decades apart, each sloping so some pixels are line cores
        ramp = np.linspace(1.0, 2.0, n)
        series = {"total": 1000 * ramp, "recon": 100 * ramp, "kl": 1 * ramp}
        series |= {"tc": 10 * ramp, "capacity": 0.1 * ramp}  # β-TCVAE's TC, AnnealedVAE's C
        fields = dict(epoch=0, epochs=1, steps_total=n, beta=1.0, samples_per_s=1.0, eta_s=1)
        plot.add_steps(
            [
                Progress(
                    kind="step",
                    step=i + 1,
                    loss=series["total"][i],
                    recon=series["recon"][i],
                    kl=series["kl"][i],
                    tc=series["tc"][i],
                    capacity=series["capacity"][i],
                    **fields,
                )
                for i in range(n)
            ]
        )
        val = Evaluation(elbo=-10.0, recon=9.0, kl=1.0, kl_per_dim=(), count=10)
        plot.add_epoch(
            Progress(kind="epoch", step=n // 2, loss=10.0, recon=9.0, kl=1.0, val=val, **fields)
        )
        plot.resize(400, 300)
        # the smoothed values are what is drawn
        for key in series:
            assert curve_contrast(plot, key, plot.series[key]) >= MIN_CONTRAST, key
        assert curve_contrast(plot, "val", np.full(n, 10.0)) >= MIN_CONTRAST, "validation"
    finally:
        app.setPalette(start)
