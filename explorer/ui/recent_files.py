"""File ▸ Recent files and the last folder a file dialog used, kept in QSettings.

A model from elsewhere is remembered with how it was opened (its factory and adapters),
so reopening it from the menu, or dropping the same file again, needs no questions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from explorer.core.errors import ExplorerError
from explorer.core.external_files import ExternalSource
from explorer.resources import RESOURCES
from explorer.ui.actions import add_action
from explorer.ui.settings_values import read, read_strings

_MAX_RECENT = 8
# The app's code and bundled files: nothing of the user's is saved in there
_APP_FOLDERS = (Path(__file__).resolve().parent.parent, RESOURCES.resolve())


class RecentFiles:
    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[Path], object]):
        self.settings = settings
        self.menu = menu
        self.open_path = open_path
        self._refresh()

    def files(self) -> list[str]:
        return read_strings(self.settings, "files/recent")

    def remember(self, path: Path, external: ExternalSource | None = None) -> None:
        recent = [str(path)] + [p for p in self.files() if p != str(path)]
        self.settings.setValue("files/recent", recent[:_MAX_RECENT])
        sources = {k: v for k, v in self._external_sources().items() if k in recent}
        sources.pop(str(path), None)  # e.g. our own checkpoint saved over the weights
        if external is not None:
            sources[str(path)] = external.to_dict()
        self.settings.setValue("files/external", json.dumps(sources))
        self._refresh()

    def _external_sources(self) -> dict:
        try:
            sources = json.loads(read(self.settings, "files/external", str, "{}"))
        except (ValueError, RecursionError):  # not JSON, or nested beyond reading
            return {}
        return sources if isinstance(sources, dict) else {}

    def last_external(self) -> ExternalSource | None:
        """The model from elsewhere opened most recently, to start the dialog from."""
        return next((src for p in self.files() if (src := self.external_source(Path(p)))), None)

    def external_source(self, path: Path) -> ExternalSource | None:
        """How the model from elsewhere at `path` was opened last, if it was."""
        found = self._external_sources().get(str(path))
        try:
            return ExternalSource.from_dict(found) if isinstance(found, dict) else None
        except (KeyError, TypeError, ExplorerError):
            return None  # written by another version: open it as if new

    def last_dir(self) -> str:
        """The folder the last file dialog opened or saved in (home at first, or when it
        is gone)."""
        folder = read(self.settings, "files/last_dir", str, "")
        return folder if os.path.isdir(folder) else str(Path.home())

    def set_last_dir(self, path: str) -> None:
        self.settings.setValue("files/last_dir", str(Path(path).parent))

    def save_dir(self) -> Path:
        """Where a save dialog starts: the last folder used, unless it is the app's own
        (a bundled model opened from there), then the user's Documents (or home)."""
        last = Path(self.last_dir()).resolve()
        if not any(last.is_relative_to(own) for own in _APP_FOLDERS):
            return last
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        return Path(documents) if documents and Path(documents).is_dir() else Path.home()

    def ask_save_path(self, parent: QWidget, title: str, name: str, filters: str) -> str:
        """A save dialog opening in `save_dir()` with `name` proposed; "" if cancelled."""
        default = str(self.save_dir() / name)
        path, _ = QFileDialog.getSaveFileName(parent, title, default, filters)
        if path:
            self.set_last_dir(path)
        return path

    def _refresh(self) -> None:
        self.menu.clear()
        for p in self.files():
            add_action(self.menu, p, self.open_path, Path(p))
        self.menu.setEnabled(bool(self.files()))
