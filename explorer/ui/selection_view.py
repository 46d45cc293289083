"""The Selection tab: the points lassoed or boxed on the latent plot, as a gallery of their
images, with the shape to draw, Clear, and storing the selection as A or B (for a
direction between two selections).

It makes the selection's parts and binds them: the model (`SelectionModel`), the tool
that draws on the plot, the overlay that highlights the selected points, and the gallery,
whose hovered thumbnail is marked on the plot.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.ui.gallery import Gallery
from explorer.ui.latent_view import LatentView
from explorer.ui.selection_model import SLOTS, SelectionModel
from explorer.ui.selection_overlay import SelectionOverlay
from explorer.ui.selection_tool import SelectionTool, Shape
from explorer.ui.theme import hint_label

HOW_TO_SELECT = (
    "Ctrl+drag on the plot to select points · Ctrl+Shift+drag adds · Ctrl+Alt+drag takes away"
    " · Esc clears"
)


class SelectionView(QWidget):
    def __init__(self, view: LatentView, parent=None):
        super().__init__(parent)
        self.session = view.session
        self.selection = SelectionModel(self.session, self)
        self.tool = SelectionTool(view, self.selection)
        self.overlay = SelectionOverlay(view, self.selection)
        self.shape_buttons: dict[Shape, QToolButton] = {}
        shapes = QButtonGroup(self)
        bar = QHBoxLayout()
        for shape, text, tip in (
            (Shape.LASSO, "Lasso", "Ctrl+drag on the plot draws a free outline around points"),
            (Shape.BOX, "Box", "Ctrl+drag on the plot draws a rectangle from corner to corner"),
        ):
            button = QToolButton(text=text, objectName=f"{shape.value}Button", checkable=True)
            button.setToolTip(f"{tip}; with Shift it adds to the selection, with Alt takes away")
            button.setChecked(shape is Shape.LASSO)
            button.toggled.connect(lambda on, s=shape: on and self._set_shape(s))
            shapes.addButton(button)
            bar.addWidget(button)
            self.shape_buttons[shape] = button
        self.clear_button = QPushButton("Clear", objectName="clearSelectionButton")
        self.clear_button.setToolTip("Select nothing (Esc on the plot)")
        self.clear_button.clicked.connect(self.selection.clear)
        bar.addWidget(self.clear_button)
        self.store_buttons: dict[str, QPushButton] = {}
        for slot in SLOTS:
            button = QPushButton(f"Store as {slot}", objectName=f"store{slot}Button")
            button.setToolTip(
                f"Keep this selection as {slot}: the Direction tab goes from B's mean to A's"
            )
            button.clicked.connect(lambda _checked, s=slot: self.selection.store(s))
            bar.addWidget(button)
            self.store_buttons[slot] = button
        self.note = hint_label(QLabel(HOW_TO_SELECT))
        self.note.setWordWrap(True)  # (else the hint's one line would widen the window)
        bar.addWidget(self.note, 1)
        self.gallery = Gallery()
        self.gallery.hovered.connect(self.overlay.mark)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.gallery, 1)
        self.selection.changed.connect(self._show)
        self.selection.storedChanged.connect(self._show_stored)
        self._show()

    def _show_stored(self, slot: str) -> None:
        """The store button says how many points its slot holds (storing again replaces)."""
        stored = self.selection.stored.get(slot)
        text = f"Store as {slot}"
        self.store_buttons[slot].setText(text if stored is None else f"{text} ({len(stored)})")

    def _set_shape(self, shape: Shape) -> None:
        self.tool.shape = shape

    def _show(self) -> None:
        n = len(self.selection)
        self.gallery.gallery.show(self.session.dataset, self.selection.indices)
        self.overlay.mark(-1)
        self.note.setText(f"{n} selected" if n else HOW_TO_SELECT)
        self.clear_button.setEnabled(n > 0)
        for button in self.store_buttons.values():
            button.setEnabled(n > 0)
