"""The autosave: the last model trained in the app, kept until the user saves or discards it.

After every training the window writes the model to one checkpoint in the user data
folder (platformdirs). The file exists only while that model has not been saved
anywhere else: saving it, or saying "discard", deletes it. So a file found at start-up
means the last trained model would otherwise be lost (a crash, a kill, a power cut) and
the app offers to restore it. The checkpoint is written atomically like any other.

The write runs in a worker thread and may still be waiting when the user saves the
model: a write asked for before the slot was last cleared is dropped, so a model saved
meanwhile is never offered back as lost.
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
        self._clears = 0  # how many times the slot was cleared: see `ticket`

    def ticket(self) -> int:
        """Taken when a write is asked for (on the GUI thread): `write` drops the model if
        the slot is cleared in between (it was saved or discarded meanwhile)."""
        return self._clears

    def write(self, ckpt: Checkpoint, ticket: int) -> Path | None:
        """Keep `ckpt` as the unsaved last-trained model: its path, or None when dropped
        (see `ticket`); raises CheckpointError on failure."""
        with self._lock:
            if ticket != self._clears:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise CheckpointError(f"{self.path.parent}: cannot create the folder ({e})") from e
            return save_checkpoint(self.path, ckpt)

    def pending(self) -> Path | None:
        """The autosaved model when it was never saved elsewhere nor discarded."""
        return self.path if self.path.is_file() else None

    def clear(self) -> None:
        """The model is safe elsewhere (or unwanted): forget it, and drop a write still
        waiting (waits for one under way, so that its file goes too)."""
        with self._lock:
            self._clears += 1
            try:
                self.path.unlink(missing_ok=True)
            except OSError as e:  # a later start offers it again, which is harmless
                log.warning("could not remove the autosave %s: %s", self.path, e)
