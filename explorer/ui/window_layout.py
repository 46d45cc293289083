"""Where the main window's parts go, how big it opens, and the layout users saved.

The latent plot and the decoded image with its sliders fill the centre; the training
dock is a column on the right, the full height of the window; "What the model learned"
sits below the centre, as wide as the plot and the image together, so its eight tabs
fit without scroll arrows and its strips and grids (mostly wider than tall) get the
width. The window opens at the size of the screen it is on, and restores the size and
dock arrangement the user left, unless they were saved by an older arrangement.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow

# Stored with the docks' state (QMainWindow.saveState). Raise it whenever the default
# arrangement changes: a state from an older arrangement is then dropped (the window
# opens in the new one) rather than restored into a layout it was not made for.
# 0: unversioned, the two docks stacked on the right (up to issue 21).
# 1: training on the right, the insight views below the plot.
LAYOUT_VERSION = 1

GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"

_LARGEST = QSize(1920, 1200)  # a first window larger than this is more than it needs
_TITLE_BAR = 40  # px the window manager's frame takes above the window, roughly
_INSIGHT_SHARE = 0.36  # of the window's height, for the insight views below the plot
_TRAINING_SHARE = 0.2  # of the window's width, for the training column (its loss plot)
_TRAINING_WIDTH = (360, 480)  # px, the least and the most of that share


def initial_size(available: QRect) -> QSize:
    """The first window's size: the screen's free area less a title bar, at most
    `_LARGEST`. (Not widened to the window's minimum size hint: before the window is
    first shown its style has not polished the widgets, and the hint read ~100 px wider
    than the shown window's under a GTK theme. Qt holds the shown window to its
    minimum anyway.)"""
    return QSize(
        min(available.width(), _LARGEST.width()),
        min(available.height() - _TITLE_BAR, _LARGEST.height()),
    )


def arrange_docks(window: QMainWindow, training: QDockWidget, insight: QDockWidget) -> None:
    """The default dock sizes for the window's current size."""
    width = min(
        max(round(_TRAINING_SHARE * window.width()), _TRAINING_WIDTH[0]), _TRAINING_WIDTH[1]
    )
    window.resizeDocks([training], [width], Qt.Orientation.Horizontal)
    height = round(_INSIGHT_SHARE * window.height())
    window.resizeDocks([insight], [height], Qt.Orientation.Vertical)


class _DockShare(QObject):
    """Keeps a dock's share of the window's width or height as the window is resized.

    Qt gives every change of the window's size to the centre: a window shrunk to its
    least size and made large again (or maximised) left the docks at their least. A
    share the user sets by dragging the separator is the one kept from then on.
    """

    def __init__(self, window: QMainWindow, dock: QDockWidget, orientation: Qt.Orientation):
        super().__init__(window)
        self.window, self.dock, self.orientation = window, dock, orientation
        self.share: float | None = None  # taken from the first layout the window shows
        self._seen = 0  # the window's extent when the share was last kept or applied
        self._pending = False  # resizeDocks's layout is under way: the dock follows it
        window.installEventFilter(self)
        dock.installEventFilter(self)

    def _extent(self, widget) -> int:
        horizontal = self.orientation == Qt.Orientation.Horizontal
        return widget.width() if horizontal else widget.height()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # (the window's layout resizes the dock before the window's own resize event
        # reaches a filter: a window resize is told by the window's extent changing)
        if event.type() == QEvent.Type.Resize and not self.dock.isFloating():
            extent = self._extent(self.window)
            if extent != self._seen:
                if not self._pending:
                    self._pending = True
                    QTimer.singleShot(0, self._apply)  # once Qt has laid out the new size
            elif watched is self.dock and not self._pending and extent > 0:
                self.share = self._extent(self.dock) / extent  # the user's drag
        return False

    def _apply(self) -> None:
        extent = self._extent(self.window)
        if self.share is None and extent > 0:  # the first layout shown
            self.share = self._extent(self.dock) / extent
        elif self.share is not None and self.dock.isVisible() and not self.dock.isFloating():
            self.window.resizeDocks([self.dock], [round(self.share * extent)], self.orientation)
        self._seen = extent
        QTimer.singleShot(0, self._settled)  # after the layout that resizeDocks asks for

    def _settled(self) -> None:
        self._pending = False


def keep_dock_shares(window: QMainWindow, training: QDockWidget, insight: QDockWidget) -> None:
    """The training column keeps its share of the width, the insight views theirs of the
    height, as the window is resized."""
    _DockShare(window, training, Qt.Orientation.Horizontal)
    _DockShare(window, insight, Qt.Orientation.Vertical)


def restore(window: QMainWindow, settings: QSettings) -> tuple[bool, bool]:
    """Restore the saved window size and dock state: (geometry restored, state restored).

    A state saved by another LAYOUT_VERSION, or a value that is not a saved state (a
    settings file edited by hand), is left out and the default arrangement stays.
    """
    geometry, state = settings.value(GEOMETRY_KEY), settings.value(STATE_KEY)
    got_geometry = isinstance(geometry, QByteArray | bytes) and window.restoreGeometry(geometry)
    got_state = isinstance(state, QByteArray | bytes) and window.restoreState(state, LAYOUT_VERSION)
    return bool(got_geometry), bool(got_state)


def save(window: QMainWindow, settings: QSettings) -> None:
    settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    settings.setValue(STATE_KEY, window.saveState(LAYOUT_VERSION))
