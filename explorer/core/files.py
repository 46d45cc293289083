"""Checks made before reading a user's file, so each failure gets its own plain message.

A path that is missing, a folder where a file is expected, an empty file or one we may
not read would otherwise surface as a format error ("not an IDX file", "header too
small") that sends the user looking in the wrong place.
"""

from __future__ import annotations

import os
from pathlib import Path

from explorer.core.errors import ExplorerError

_MEMORY_SHARE = 4  # a file may ask for at most 1/4 of physical memory (conversion copies it)
_FALLBACK_BUDGET = 4 << 30  # bytes, where the OS does not say how much memory there is


def check_readable_file(path: Path, error: type[ExplorerError]) -> None:
    """Raise `error` naming `path` unless it is a non-empty file this process may read."""
    if not path.exists():
        raise error(f"{path}: no such file")
    if path.is_dir():
        raise error(f"{path}: is a folder, not a file")
    try:
        with open(path, "rb") as f:
            empty = not f.read(1)
    except PermissionError as e:
        raise error(f"{path}: no permission to read it") from e
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from e
    if empty:
        raise error(f"{path}: the file is empty (0 bytes)")


def memory_budget() -> int:
    """Bytes one dataset array may take once loaded."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_BUDGET
    return total // _MEMORY_SHARE if total > 0 else _FALLBACK_BUDGET
