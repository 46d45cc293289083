"""The project's own error types.

Every problem a user can cause (a bad file, a bad setting) is raised as one of these,
with a message that names the file or setting and says what is wrong. Front ends show
the message (a dialog, one CLI line) and keep running; anything else escaping is a bug.
"""

from collections.abc import Iterable


class ExplorerError(Exception):
    """A problem the user can fix; `str(err)` is the whole message to show."""


class DataError(ExplorerError):
    """A dataset file or folder that cannot be read as images."""


class CheckpointError(ExplorerError):
    """A model file that is not a valid, matching checkpoint, or cannot be written."""


class ConfigError(ExplorerError):
    """A setting outside its allowed range (latent size, β, learning rate, ...)."""


def listed(names: Iterable[object], most: int = 5) -> str:
    """Names read from a file, for a message: each quoted (a name may hold a newline or
    be empty), sorted, and no more than `most` of them, so the message stays one line."""
    quoted = sorted(repr(str(n)) for n in names)
    more = f" and {len(quoted) - most} more" if len(quoted) > most else ""
    return ", ".join(quoted[:most]) + more
