"""The autosave: the last model trained in the app, kept until the user saves or discards it.

After every training the window writes the model to one checkpoint in the user data
folder (platformdirs). The file exists only while that model has not been saved
anywhere else: saving it, or saying "discard", deletes it. So a file found at start-up
means the last trained model would otherwise be lost (a crash, a kill, a power cut) and
the app offers to restore it. The checkpoint is written atomically like any other.

During a run the window also keeps its newest epoch now and then, so a crash mid-run
loses little training. The writes run in worker threads, in any order, and may still be
waiting when the user saves the model: each carries a ticket, and a write older than
the last clear or than the last write is dropped. So a model saved meanwhile is never
offered back as lost, and an earlier epoch never replaces a later one.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import platformdirs

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.errors import CheckpointError
from explorer.logs import LOGGER

log = logging.getLogger(LOGGER)
_FILE = "last-trained.safetensors"


def autosave_folder() -> Path:
    return Path(platformdirs.user_data_dir("LatentExplorer", appauthor=False)) / "autosave"


class Autosave:
    """One autosave slot in `folder` (the user data folder unless given)."""

    def __init__(self, folder: Path | None = None):
        self.path = (folder or autosave_folder()) / _FILE
        self._lock = threading.Lock()  # a write and a clear never interleave
        self._tickets = 0  # tickets handed out (on the GUI thread)
        self._stale = 0  # a write whose ticket is at most this is dropped

    def ticket(self) -> int:
        """Taken when a write is asked for, on the GUI thread (see the module's notes)."""
        self._tickets += 1
        return self._tickets

    def write(self, ckpt: Checkpoint, ticket: int) -> Path | None:
        """Keep `ckpt` as the unsaved last-trained model: its path, or None when dropped
        (see `ticket`); raises CheckpointError on failure."""
        with self._lock:
            if ticket <= self._stale:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CheckpointError(f"{self.path.parent}: cannot create the folder ({e})") from e
            path = save_checkpoint(self.path, ckpt)
            self._stale = ticket
            return path

    def pending(self) -> Path | None:
        """The autosaved model when it was never saved elsewhere nor discarded."""
        return self.path if self.path.is_file() else None

    def clear(self) -> None:
        """The model is safe elsewhere (or unwanted): forget it, and drop a write still
        waiting (waits for one under way, so that its file goes too)."""
        with self._lock:
            self._stale = self._tickets
            try:
                self.path.unlink(missing_ok=True)
            except OSError as e:  # a later start offers it again, which is harmless
                log.warning("could not remove the autosave %s: %s", self.path, e)
