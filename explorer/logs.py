"""The log file: warnings and errors the user saw, kept for a bug report.

`setup_logging()` sends the "explorer" logger's warnings and errors to a rotating file
in the user's log folder (platformdirs); front ends call it once at start-up. Without
it (tests, notebooks) nothing is written anywhere.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

LOGGER = "explorer"
_MAX_BYTES = 1 << 20  # rotate at 1 MB
_BACKUPS = 3  # keep explorer.log.1 .. .3 beside the current file


def log_folder() -> Path:
    return Path(platformdirs.user_log_dir("LatentExplorer", appauthor=False))


def setup_logging(folder: Path | None = None) -> Path | None:
    """Attach the rotating file handler (once); returns the log file, or None if unwritable."""
    existing = log_path()
    if existing is not None:
        return existing
    logger = logging.getLogger(LOGGER)
    path = (folder or log_folder()) / "explorer.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None  # a read-only home folder must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    return path


def log_path() -> Path | None:
    """The file warnings go to, when setup_logging() has run."""
    for h in logging.getLogger(LOGGER).handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler):
            return Path(h.baseFilename)
    return None
