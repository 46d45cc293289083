"""Help ▸ Keyboard shortcuts: every shortcut of the menus, and what the mouse does on the plot.

The list is read from the menu bar's actions when the dialog opens, so a command given
a shortcut appears here without this file knowing of it.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from explorer.ui.actions import shortcut_text
from explorer.ui.latent_view import LatentView


def _commands(menu: QMenu, path: str) -> Iterator[tuple[str, QAction]]:
    """(menu path, action) of every command in `menu` and its submenus."""
    for action in menu.actions():
        name = f"{path} ▸ {action.text().replace('&', '')}"
        if action.menu() is not None:
            yield from _commands(action.menu(), name)
        elif not action.isSeparator():
            yield name, action


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what they do) for each menu command with a shortcut, then the plot's gestures."""
    rows = [
        (shortcut_text(action), name)
        for top in window.menuBar().actions()
        for name, action in _commands(top.menu(), top.text().replace("&", ""))
        if not action.shortcut().isEmpty()
    ]
    return rows + [(keys, f"On the latent plot: {what}") for keys, what in LatentView.GESTURES]


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, objectName="shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 420)


def show_shortcuts(window: QMainWindow) -> ShortcutsDialog:
    """Open the list beside the window (not modal: it can stay open while trying them)."""
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
