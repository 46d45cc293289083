"""File ▸ Recent files and the last folder a file dialog used, kept in QSettings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

_MAX_RECENT = 8


class RecentFiles:
    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[Path], object]):
        self.settings = settings
        self.menu = menu
        self.open_path = open_path
        self._refresh()

    def files(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.files() if p != str(path)]
        self.settings.setValue("files/recent", recent[:_MAX_RECENT])
        self._refresh()

    def last_dir(self) -> str:
        """The folder the last file dialog opened or saved in (home at first)."""
        return str(self.settings.value("files/last_dir", str(Path.home())))

    def set_last_dir(self, path: str) -> None:
        self.settings.setValue("files/last_dir", str(Path(path).parent))

    def ask_save_path(self, parent: QWidget, title: str, name: str, filters: str) -> str:
        """A save dialog opening in the last folder with `name` proposed; "" if cancelled."""
        default = str(Path(self.last_dir()) / name)
        path, _ = QFileDialog.getSaveFileName(parent, title, default, filters)
        if path:
            self.set_last_dir(path)
        return path

    def _refresh(self) -> None:
        self.menu.clear()
        for p in self.files():
            self.menu.addAction(p).triggered.connect(lambda _=False, p=p: self.open_path(Path(p)))
        self.menu.setEnabled(bool(self.files()))
