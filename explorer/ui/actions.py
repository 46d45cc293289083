"""Menu commands: a QAction that calls its slot with the arguments given here, and only those.

`QAction.triggered` passes `checked` (a bool) to a slot that accepts an argument, so a
slot written `lambda what=name: …` receives False in place of `name`: every command
made that way failed when picked from its menu. The slot here takes no argument of its
own, whatever the signal carries.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu


def add_action(
    menu: QMenu,
    text: str,
    slot: Callable[..., object],
    *args: object,
    shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
) -> QAction:
    """A command in `menu` that calls `slot(*args)` when picked (or its shortcut pressed)."""
    action = QAction(text, menu)
    if shortcut is not None:
        action.setShortcut(shortcut)

    def picked() -> None:  # no parameter: Qt passes nothing, `checked` included
        slot(*args)

    action.triggered.connect(picked)
    menu.addAction(action)
    return action


def shortcut_text(action: QAction) -> str:
    """The action's shortcut as this platform writes it ("Ctrl+M", "⌘M"); "" if none."""
    return action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
