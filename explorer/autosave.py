"""The autosave: the last model trained in the app, kept until the user saves or discards it.

After every training the window writes the model to its slot, a checkpoint in the user
data folder (platformdirs). The file exists only while that model has not been saved
anywhere else: saving it, or saying "discard", deletes it. So a slot found full at
start-up means a trained model would otherwise be lost (a crash, a kill, a power cut)
and the app offers to restore it. The checkpoint is written atomically like any other.

Each running app has a slot of its own (the process id and a random token in its
name), and holds an OS lock on a file beside it for as long as it runs (`FileLock`;
the system drops it when the process dies, however it dies). So a second instance
never offers, deletes or overwrites the first one's model: it offers only a slot whose
lock it can take (`left_behind`), and holds that lock while asking; restoring moves the
model into its own slot (`adopt`), discarding deletes it.

During a run the window also keeps its newest epoch now and then, so a crash mid-run
loses little training. The writes run in worker threads, in any order, and may still be
waiting when the user saves the model: each carries a ticket, and a write older than
the last clear or than the last write is dropped. So a model saved meanwhile is never
offered back as lost, and an earlier epoch never replaces a later one.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from pathlib import Path

import platformdirs

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.errors import CheckpointError
from explorer.file_lock import FileLock
from explorer.logs import LOGGER

log = logging.getLogger(LOGGER)
# A slot's model; the lock file beside it has the same stem. The name without a process
# is the single slot of versions before slots were per process: offered the same way.
_SLOT = re.compile(r"last-trained(-\d+-[0-9a-f]+)?")
_MODEL, _LOCK = ".safetensors", ".lock"
UNREADABLE = ".unreadable"  # added to the name of a slot that could not be restored


def autosave_folder() -> Path:
    return Path(platformdirs.user_data_dir("LatentExplorer", appauthor=False)) / "autosave"


class LeftBehind:
    """A full slot whose process is gone, locked by this process while it is offered."""

    def __init__(self, path: Path, lock: FileLock):
        self.path = path  # its model
        self.lock = lock

    def keep(self) -> None:
        """Offer it again at a later start (or to another instance now)."""
        self.lock.release()

    def forget(self) -> None:
        """The user does not want it: delete the model, then the slot."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as e:  # a later start offers it again, which is harmless
            log.warning("could not remove the autosave %s: %s", self.path, e)
            self.lock.release()
            return
        self.lock.release(delete=True)

    def set_aside(self) -> Path:
        """Move the model out of the way of later starts (it could not be restored): where
        it is now. Raises OSError when it cannot be moved."""
        target = self.path.with_name(self.path.name + UNREADABLE)
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}{UNREADABLE}.{n}")
        os.replace(self.path, target)
        self.lock.release(delete=True)
        return target


class Autosave:
    """This process's autosave slot in `folder` (the user data folder unless given)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or autosave_folder()
        self.path = self.folder / f"last-trained-{os.getpid()}-{secrets.token_hex(4)}{_MODEL}"
        self._owner: FileLock | None = None  # taken with the first write, kept until close
        self._lock = threading.Lock()  # a write and a clear never interleave
        self._tickets = 0  # tickets handed out (on the GUI thread)
        self._stale = 0  # a write whose ticket is at most this is dropped

    def _own(self) -> None:
        """Hold the slot's lock from now on (called under `_lock`)."""
        if self._owner is not None:
            return
        lock_path = self.path.with_suffix(_LOCK)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Another start may remove the new file between its creation and its lock
            # (an unheld lock file beside no model is a dead slot's): try again then.
            for _ in range(3):
                self._owner = FileLock.take(lock_path, create=True)
                if self._owner is not None:
                    return
        except OSError as e:
            raise CheckpointError(f"{lock_path}: cannot lock the autosave slot ({e})") from e
        raise CheckpointError(f"{lock_path}: cannot lock the autosave slot")

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
            self._own()
            path = save_checkpoint(self.path, ckpt)
            self._stale = ticket
            return path

    def pending(self) -> Path | None:
        """This process's autosaved model when it was never saved elsewhere nor discarded."""
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

    def left_behind(self) -> LeftBehind | None:
        """The newest full slot of a process that is gone, locked for this one; None if
        there is none. Slots of running instances are never returned. Lock files of
        gone processes whose slot is empty are removed on the way."""
        try:
            names = [p for p in self.folder.iterdir() if _SLOT.fullmatch(p.stem)]
        except OSError:
            return None  # no folder yet (or unreadable: nothing can be offered)
        models = [p for p in names if p.suffix == _MODEL and p != self.path]
        for lock_path in [p for p in names if p.suffix == _LOCK]:
            if lock_path.with_suffix(_MODEL).exists() or lock_path == self.path.with_suffix(_LOCK):
                continue
            try:
                lock = FileLock.take(lock_path)
            except OSError:
                continue
            if lock is not None:  # a dead slot, emptied: nothing to offer
                lock.release(delete=not lock_path.with_suffix(_MODEL).exists())
        for model in sorted(models, key=_modified, reverse=True):
            try:
                lock = FileLock.take(model.with_suffix(_LOCK), create=True)
            except OSError as e:
                log.warning("cannot lock the autosave %s: %s", model, e)
                continue
            if lock is None:
                continue  # its process runs: its model is its own
            if model.is_file():
                return LeftBehind(model, lock)
            lock.release(delete=True)  # its process emptied it and ended meanwhile
        return None

    def adopt(self, found: LeftBehind) -> None:
        """Take over a left-behind slot's model as this process's own (it was restored).
        Raises CheckpointError when it cannot be moved (it stays where it was)."""
        with self._lock:
            self._stale = self._tickets  # a write of the model on screen before is dropped
            self._own()
            try:
                os.replace(found.path, self.path)
            except OSError as e:
                raise CheckpointError(f"{found.path}: cannot move it into {self.path} ({e})") from e
            found.lock.release(delete=True)

    def close(self) -> None:
        """The process is done with its slot: let go of the lock (an empty slot goes
        with it; a full one is offered at a later start)."""
        with self._lock:
            if self._owner is not None:
                self._owner.release(delete=not self.path.exists())
                self._owner = None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
