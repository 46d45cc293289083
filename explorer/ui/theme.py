"""Light and dark: the app follows the system's colour scheme, and every view that draws
colours of its own (plots, hints, slider grooves) takes them from the palette.

Qt (6.5+) reports the desktop's scheme (`QStyleHints.colorScheme`) and its changes.
Where the platform has no dark palette of its own for a dark scheme (Qt's Fusion style
on most Linux desktops), the app sets `dark_palette()`; back to light, it restores the
palette it started with. Views register with `follow_palette(widget, apply)`: `apply`
runs at once and again whenever the widget's palette changes, so a switch is live.
Text colours are chosen for a WCAG contrast ratio of at least 4.5 against their
background in either scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

MIN_CONTRAST = 4.5  # WCAG AA for body text
_HINT_CONTRAST = 5.0  # what hints aim for: a margin over AA for antialiased edges


def luminance(c: QColor) -> float:
    """WCAG relative luminance of a colour, 0 (black) to 1 (white)."""

    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved a share `t` of the way towards `b`."""
    pairs = zip(a.getRgbF()[:3], b.getRgbF()[:3], strict=True)
    return QColor.fromRgbF(*(x + t * (y - x) for x, y in pairs))


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def hint_colour(palette: QPalette, background: QColor | None = None) -> QColor:
    """Text paler than the palette's, for hints: as far towards the background (the
    window's, unless given) as keeps it legible."""
    fg = palette.color(QPalette.ColorRole.WindowText)
    bg = background or palette.color(QPalette.ColorRole.Window)
    for step in range(8, -1, -1):
        c = mix(fg, bg, step / 20)  # at most 40% of the way
        if contrast(c, bg) >= _HINT_CONTRAST:
            return c
    return fg


def line_colour(palette: QPalette, share: float = 0.55) -> QColor:
    """A line visible on the window's background in either scheme (slider grooves)."""
    return mix(
        palette.color(QPalette.ColorRole.Window),
        palette.color(QPalette.ColorRole.WindowText),
        share,
    )


def legible_on(colour: QColor, background: QColor, ratio: float = _HINT_CONTRAST) -> QColor:
    """`colour`, lightened on a dark background or darkened on a light one just as far as
    gives it `ratio` of contrast: a line or mark keeps its hue and stays visible in
    either scheme (the Okabe-Ito blue, dark on white, is dim on a dark plot)."""
    towards = QColor("white") if luminance(background) < 0.18 else QColor("black")
    for step in range(21):
        c = mix(colour, towards, step / 20)
        if contrast(c, background) >= ratio:
            return c
    return towards


def warning_colour(palette: QPalette) -> QColor:
    """Red text legible on the window's background."""
    return QColor("#ff8a80" if is_dark(palette) else "#b00020")


@dataclass(frozen=True)
class PlotColours:
    """What a pyqtgraph plot draws in, for one palette."""

    background: QColor  # the plot's area: the palette's base, as behind a list or text
    text: QColor  # legend entries, dark curves and marks
    axis: QColor  # axes, ticks, their labels and notes drawn on the plot
    legend: QColor  # the legend's box, translucent over the points

    @classmethod
    def of(cls, palette: QPalette) -> PlotColours:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        legend = QColor(base)
        legend.setAlpha(220)
        return cls(base, text, hint_colour(palette, base), legend)


def style_plot(plot, palette: QPalette) -> PlotColours:
    """Background and axes of a pyqtgraph PlotWidget in `palette`'s colours."""
    colours = PlotColours.of(palette)
    plot.setBackground(colours.background)
    for name in ("left", "bottom"):
        axis = plot.getPlotItem().getAxis(name)
        axis.setPen(colours.axis)
        axis.setTextPen(colours.axis)
    return colours


def style_legend(legend, colours: PlotColours, boxed: bool = False) -> None:
    """A legend's text in the palette's colours; `boxed`: on a translucent box of the
    plot's background (over points; the loss plot's leaves its curves visible)."""
    if boxed:
        legend.setBrush(colours.legend)
    legend.setLabelTextColor(colours.text)
    for _, label in legend.items:  # pyqtgraph keeps the new colour for the next text only
        label.setText(label.text)


class _PaletteFollower(QObject):
    def __init__(self, widget: QWidget, apply: Callable[[QPalette], None]):
        super().__init__(widget)
        self._apply = apply
        self._last = QPalette(widget.palette())
        widget.installEventFilter(self)
        apply(widget.palette())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # (a widget also hears of changes that leave its colours as they were, e.g. when
        # polished: those are skipped, a plot's points are not recoloured for nothing)
        if event.type() == QEvent.Type.PaletteChange and watched.palette() != self._last:
            self._last = QPalette(watched.palette())
            self._apply(watched.palette())
        return False


def follow_palette(widget: QWidget, apply: Callable[[QPalette], None]) -> None:
    """Run `apply(widget's palette)` now and whenever that palette changes.

    Not for a widget with a style sheet: Qt keeps the palette it was polished with, and
    tells it of no change (watch its parent, and set the style sheet again).
    """
    _PaletteFollower(widget, apply)


def hint_label(label: QWidget) -> QWidget:
    """Make `label` a hint: paler text, legible in light and dark."""

    def apply(_: QPalette) -> None:
        # Only the text colour is the label's own (a style sheet would keep all of the
        # palette it started with); it is worked out from the application's palette,
        # as the label's own carries the hint colour after the first call.
        colour = hint_colour(QApplication.palette(label))
        if label.palette().color(QPalette.ColorRole.WindowText) != colour:
            palette = QPalette()
            palette.setColor(QPalette.ColorRole.WindowText, colour)
            label.setPalette(palette)

    follow_palette(label, apply)
    return label


def dark_palette() -> QPalette:
    """A dark palette for Qt's Fusion style (text contrast ≥ 7 on window and base)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2d2d30",
        QPalette.ColorRole.WindowText: "#ececec",
        QPalette.ColorRole.Base: "#1e1e1e",
        QPalette.ColorRole.AlternateBase: "#262629",
        QPalette.ColorRole.Text: "#ececec",
        QPalette.ColorRole.Button: "#3a3a3d",
        QPalette.ColorRole.ButtonText: "#ececec",
        QPalette.ColorRole.BrightText: "#ff6e6e",
        QPalette.ColorRole.Light: "#565659",
        QPalette.ColorRole.Midlight: "#46464a",
        QPalette.ColorRole.Mid: "#333336",
        QPalette.ColorRole.Dark: "#1a1a1c",
        QPalette.ColorRole.Shadow: "#0e0e0f",
        QPalette.ColorRole.Highlight: "#3d8fe0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#7cb8ff",
        QPalette.ColorRole.LinkVisited: "#c0a0ff",
        QPalette.ColorRole.ToolTipBase: "#3a3a3d",
        QPalette.ColorRole.ToolTipText: "#ececec",
        QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(disabled, role, QColor("#7a7a7a"))
    p.setColor(disabled, QPalette.ColorRole.Highlight, QColor("#4a4a4d"))
    return p


class SchemeFollower(QObject):
    """Keeps the application's palette in step with the system's colour scheme."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.app = app
        self._start = QPalette(app.palette())  # the light (or the platform's) palette
        self._ours = False  # whether the palette shown is dark_palette()
        app.styleHints().colorSchemeChanged.connect(self.apply)
        self.apply(app.styleHints().colorScheme())

    def apply(self, scheme: Qt.ColorScheme) -> None:
        if scheme == Qt.ColorScheme.Dark and not is_dark(self.app.palette()):
            self._ours = True
            self.app.setPalette(dark_palette())
        elif scheme != Qt.ColorScheme.Dark and self._ours:
            self._ours = False
            self.app.setPalette(self._start)


def follow_system_scheme(app: QApplication) -> SchemeFollower:
    """The app's follower of the colour scheme, made on the first call."""
    follower = app.findChild(SchemeFollower)
    return follower if follower is not None else SchemeFollower(app)


# The sliders' look: a dot on a line. Qt's style sheets draw this several times faster
# than Fusion's gradient groove and handle, and a cursor move repaints every visible
# slider (`scripts/bench_ui.py --only hover`, the whole frame). The line is a blend of
# the window's text and background, not a palette role: roles such as midlight sit next
# to the background in some palettes (a dark one left the grooves invisible).
_SLIDER_STYLE = """
QSlider::groove:horizontal {{ height: 4px; background: {groove}; }}
QSlider::groove:horizontal:focus {{ background: {focus}; }}
QSlider::handle:horizontal {{
    width: 12px; margin: -4px 0; border-radius: 6px; background: palette(highlight);
}}
QSlider::handle:horizontal:hover {{ width: 8px; border: 2px solid {focus}; }}
QSlider::handle:horizontal:disabled {{ background: {groove}; }}
"""


def slider_style(palette: QPalette) -> str:
    """The style sheet of the sliders for `palette`."""
    return _SLIDER_STYLE.format(
        groove=line_colour(palette, 0.3).name(), focus=line_colour(palette, 0.6).name()
    )


def style_sliders(widget: QWidget, owner: QWidget) -> None:
    """Draw the sliders in `widget` (or it, a slider) as dots on lines, in the colours
    of `owner`'s palette, now and after it changes (a widget with a style sheet is not
    told: Qt keeps the palette it was polished with until the sheet is set again)."""

    def apply(palette: QPalette) -> None:
        style = slider_style(palette)
        if widget.styleSheet() != style:
            widget.setStyleSheet(style)

    follow_palette(owner, apply)
