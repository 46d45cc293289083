"""A first start's hint of what to try, over the latent plot: shown once, closed with a click.

It is a frame on the plot, not a dialog, so the first click can go to the plot at once.
QSettings remembers that it was shown; later starts open without it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from explorer.ui.overlay import Overlay

SHOWN_KEY = "hints/firstRunShown"
# pixels between the hint and the plot's right edge, and above its bottom edge (clear of
# the x axis's labels): the legend is in the top right corner
_RIGHT_MARGIN, _BOTTOM_MARGIN = 12, 48
_WIDTH = 380


def hint_text(train_keys: str) -> str:
    return (
        "<b>New here?</b> Move the mouse over this plot: the code under the cursor is "
        "decoded on the right. Click to pin a code and drag its sliders; shift-click two "
        f"points to morph between them; press Train ({train_keys}) to fit a model of your "
        "own. Help ▸ Keyboard shortcuts lists the rest."
    )


class FirstRunHint(Overlay):
    def __init__(self, over: QWidget, train_keys: str):
        super().__init__("firstRunHint")
        text = QLabel(hint_text(train_keys), wordWrap=True)
        text.setTextFormat(Qt.TextFormat.RichText)
        close = QPushButton("Got it", objectName="firstRunHintClose")
        close.setToolTip("Hide this hint (it is not shown again)")
        close.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        margins = layout.contentsMargins()
        text.setFixedWidth(_WIDTH - margins.left() - margins.right())  # its height follows
        self.setFixedWidth(_WIDTH)
        self.float_over(over)

    def position(self, over: QWidget) -> QPoint:  # bottom right, clear of the legend
        x = over.width() - self.width() - _RIGHT_MARGIN
        return QPoint(max(x, 0), max(over.height() - self.height() - _BOTTOM_MARGIN, 0))


def show_once(settings: QSettings, over: QWidget, train_keys: str) -> FirstRunHint | None:
    """The hint over `over` on the first start (remembered in `settings`), else None."""
    if settings.value(SHOWN_KEY, False, type=bool):
        return None
    settings.setValue(SHOWN_KEY, True)
    hint = FirstRunHint(over, train_keys)
    hint.show()
    return hint
