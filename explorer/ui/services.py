"""What the window lends the controllers that act for its menus (opening, saving,
exporting): one object, in place of the same six callbacks passed to each in turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from explorer.ui.recent_files import RecentFiles
from explorer.ui.state import Session
from explorer.ui.workers import TaskThread


@dataclass(frozen=True)
class Services:
    parent: QWidget  # dialogs open over it; the controllers are its children
    session: Session  # what is on screen: the one state they read and change
    recent: RecentFiles  # File ▸ Recent files, and the folder the last dialog used
    # a warning box (title, message); the window keeps what it showed
    show_error: Callable[[str, str], None]
    show_status: Callable[[str], None]  # a line in the status bar
    # run_task(fn, *args, done=, error_title=, busy=): fn on a background thread, its
    # result to `done` on the GUI thread, its error shown under `error_title`
    run_task: Callable[..., TaskThread]
    notify: Callable[[str], None]  # a question was put to the user (announced as errors are)
    # says that `what` must wait for the run to end, and returns True, while one runs
    refuse_while_training: Callable[[str], bool]


class Controller(QObject):
    """A child of the window acting for its menus: the services it uses most are
    attributes of its own."""

    def __init__(self, services: Services):
        super().__init__(services.parent)
        self.parent_widget = services.parent
        self.session = services.session
        self.recent = services.recent
        self.show_error = services.show_error
        self.show_status = services.show_status
        self.run_task = services.run_task
