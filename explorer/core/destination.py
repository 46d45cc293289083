"""Where a command writes its result: checked before any work is spent on it, and a
place to keep that result when writing it fails after all.

Training can take hours; finding out only at the end that the folder is missing, the
name too long for the file system or the folder read-only would throw the model away.
`check_destination` tries, before the work starts, exactly what the save will do
first: create the hidden temporary file `files.atomic_write` creates beside the
target. When the save still fails later (the disk filled up meanwhile), `keep_elsewhere`
writes the result to the first place that takes it, in `fallback_folders` order, and
says where.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs

from explorer.core.errors import ExplorerError

# What atomic_write adds to a name for its temporary file: "." + name + ".XXXXXXXX.tmp"
_TEMPORARY_EXTRA = len(".") + len(".") + 8 + len(".tmp")
_NAME_MAX = 255  # bytes, where the file system does not say


def check_destination(
    path: Path, error: type[ExplorerError] = ExplorerError, inputs: Sequence[Path] = ()
) -> None:
    """Raise `error` naming `path` unless a file can be written there now.

    A file already at `path` is fine (a save replaces it), unless it is one of the
    command's `inputs` (the data it trains on, the model it exports); a folder is not.
    """
    folder = path.parent
    try:
        if path.is_dir():
            raise error(f"{path}: is a folder; give a file name")
        if path.exists() and not path.is_file():  # a save would replace the device itself
            raise error(f"{path}: is a device, pipe or socket, not a file; give a file name")
        for given in inputs:
            if path.exists() and given.exists() and os.path.samefile(path, given):
                raise error(f"{path}: is {given}, which this command reads; give another name")
        if not folder.exists():
            raise error(f"{path}: the folder {folder} does not exist")
        if not folder.is_dir():
            raise error(f"{path}: {folder} is not a folder")
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:  # a name too long already fails to stat
        raise error(f"{path}: {_why_not_writable(path, e)}") from None
    os.close(fd)
    os.unlink(probe)


def _why_not_writable(path: Path, e: OSError) -> str:
    folder = path.parent
    if e.errno == errno.ENAMETOOLONG:
        try:
            limit = os.pathconf(folder, "PC_NAME_MAX")
        except (OSError, ValueError):
            limit = _NAME_MAX
        size = len(os.fsencode(path.name))
        if size + _TEMPORARY_EXTRA > limit:
            return (
                f"the file name is too long for this file system ({size} bytes; "
                f"at most {limit - _TEMPORARY_EXTRA} here)"
            )
        return "the path is too long for this file system"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"no permission to write in {folder}"
    if e.errno == errno.EROFS:
        return f"{folder} is on a read-only file system"
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the disk holding {folder}"
    return f"cannot write in {folder} ({e.strerror or e})"


def fallback_folders() -> list[Path]:
    """Where a result that could not be written where asked is kept, in order: the user
    data folder (~/.local/share/LatentExplorer/unsaved on Linux), the working folder,
    the temporary folder (often another disk)."""
    data = Path(platformdirs.user_data_dir("LatentExplorer", appauthor=False)) / "unsaved"
    return [data, Path.cwd(), Path(tempfile.gettempdir())]


def keep_elsewhere(name: str, write: Callable[[Path], object]) -> Path:
    """Write with `write(path)` to a new file called `name` (numbered when taken) in the
    first of `fallback_folders` that takes it; that path. `write` raises ExplorerError
    when it fails; when every folder fails, ExplorerError says why for each."""
    failures = []
    for folder in fallback_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = _free_name(folder, name)
            write(path)
        except (OSError, ExplorerError) as e:
            failures.append(str(e) if isinstance(e, ExplorerError) else f"{folder}: {e}")
            continue
        return path
    raise ExplorerError("; ".join(failures))


def _free_name(folder: Path, name: str) -> Path:
    """folder/name, or folder/stem-2.suffix, -3, ... when that is taken."""
    path, stem, suffix = folder / name, Path(name).stem, Path(name).suffix
    n = 1
    while path.exists() or path.is_symlink():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path
