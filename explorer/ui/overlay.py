"""A frame that floats over another widget and keeps its place when that widget resizes.

The busy indicator and the first-run hint sit over the latent plot rather than in a layout:
the plot keeps all of its room, and the user's eye is already there. Each says where it
goes (`position`); this base re-places it on every resize of the widget it floats over.
The frame fills its background from the palette (not a style sheet, whose `palette(...)`
colours are fixed when it is polished), so a live switch to a dark scheme repaints it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtWidgets import QFrame, QWidget


class Overlay(QFrame):
    def __init__(self, object_name: str):
        super().__init__(objectName=object_name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)  # opaque over the plot, in the window's colours

    def float_over(self, widget: QWidget) -> None:
        """Become a child of `widget`, placed over it and following its resizes."""
        self.setParent(widget)  # hidden until shown, as any re-parented widget
        widget.installEventFilter(self)
        self.place()

    def position(self, over: QWidget) -> QPoint:
        """Where the top-left corner goes in `over`'s coordinates (the frame is sized)."""
        raise NotImplementedError

    def place(self) -> None:
        over = self.parentWidget()
        if over is not None:
            self.adjustSize()  # its text may have changed
            self.move(self.position(over))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.place()
        return False
