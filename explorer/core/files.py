"""Reading and writing a user's files safely.

`check_readable_file` runs before reading, so each failure gets its own plain message:
a path that is missing, a folder where a file is expected, an empty file or one we may
not read would otherwise surface as a format error ("not an IDX file", "header too
small") that sends the user looking in the wrong place.

`atomic_write` is how every file is written: into a temporary file beside the target,
flushed to disk and renamed over it, so a crash, a kill or a full disk never leaves a
half-written file and never damages the previous one; what a killed save left beside
the file is removed by a later save of it.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from explorer.core.errors import ExplorerError

_MEMORY_SHARE = 4  # a file may ask for at most 1/4 of physical memory (conversion copies it)
_FALLBACK_BUDGET = 4 << 30  # bytes, where the OS does not say how much memory there is
_STALE_TMP_S = 3600  # a temporary file beside its target untouched this long is a killed save's


def check_readable_file(path: Path, error: type[ExplorerError]) -> None:
    """Raise `error` naming `path` unless it is a non-empty regular file this process may
    read. Every reader calls it first: opening a FIFO blocks until something writes to
    it, so a FIFO (or a device, a socket) is refused before it is opened."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as e:
        raise error(f"{path}: no such file") from e
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from e
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise error(f"{path}: not a regular file ({_special_kind(mode)})")
    try:
        with open(path, "rb") as f:
            empty = not f.read(1)
    except PermissionError as e:
        raise error(f"{path}: no permission to read it") from e
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from e
    if empty:
        raise error(f"{path}: the file is empty (0 bytes)")


def _special_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"


def check_memory(need: int, where: str, what: str, error: type[ExplorerError]) -> None:
    """Raise `error` when `need` bytes (what a file asks for) exceed `memory_budget()`."""
    budget = memory_budget()
    if need > budget:
        raise error(
            f"{where}: {what} needs {_gib(need)}, more than "
            f"the {_gib(budget)} this machine can spare for it"
        )


def _gib(size: int) -> str:
    """Bytes in GiB for a message. A header may claim more than a float holds (the
    division would overflow): no machine has a yobibyte, so that is said instead."""
    return f"{size / 2**30:.1f} GiB" if size < 2**80 else "more than a yobibyte"


def memory_budget() -> int:
    """Bytes one dataset array may take once loaded."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_BUDGET
    return total // _MEMORY_SHARE if total > 0 else _FALLBACK_BUDGET


@contextmanager
def atomic_write(path: Path) -> Iterator[str]:
    """Yield a temporary path to write; on success it replaces `path` in one rename.

    On any error the temporary file is removed and `path` is left as it was.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, _file_mode(path))  # mkstemp's 0600 would make the file private
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _remove_stale_temporaries(path)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete what killed saves of `path` left beside it (hidden `.name.XXXX.tmp` files
    untouched for an hour): a kill between writing and renaming leaves a whole copy of
    the file, and nothing else would ever remove it. A younger one may be another
    process's save in progress and is left alone."""
    cutoff = time.time() - _STALE_TMP_S
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass  # gone meanwhile, or not ours to remove: the save itself succeeded


def _file_mode(path: Path) -> int:
    """Permissions for a new file: the old file's, else the usual umask default."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
