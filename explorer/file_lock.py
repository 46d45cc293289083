"""An OS lock on a file, held until released or until the process ends, however it ends.

The operating system drops the lock when the process dies (a crash, a kill, a power
cut clears it too), so "the lock can be taken" means "no live process holds it". On
POSIX this is `flock`, which belongs to one open file: a second `FileLock` on the same
file fails even in the same process, so tests can play two processes in one. On
Windows it is a `msvcrt` byte lock, which behaves the same way for this purpose.

A lock file may be deleted by whoever holds its lock. Someone who opened it just before
then holds a lock on a file that no longer has the name: `FileLock.take` checks that
the name still leads to the file it locked, so such a lock is never taken for real.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by someone else (or a file system without locks)
            return False
        return True


class FileLock:
    """A held lock on `path` (see the module's notes); made by `take`."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, path: Path, create: bool = False) -> FileLock | None:
        """The lock on `path`, or None when a live process holds it or the file is gone
        (`create`: make the file when missing). Raises OSError when it cannot be opened."""
        flags = os.O_RDWR | (os.O_CREAT if create else 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            return None
        try:
            if _lock(fd) and _same_file(fd, path):
                return cls(path, fd)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self, delete: bool = False) -> None:
        """Let go of the lock (`delete`: remove its file first, while still holding it)."""
        if self._fd is None:
            return
        if delete:
            # if not, a later start removes it: an unheld lock file with nothing beside it
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)
