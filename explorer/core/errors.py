"""The project's own error types.

Every problem a user can cause (a bad file, a bad setting) is raised as one of these,
with a message that names the file or setting and says what is wrong. Front ends show
the message (a dialog, one CLI line) and keep running; anything else escaping is a bug.
"""


class ExplorerError(Exception):
    """A problem the user can fix; `str(err)` is the whole message to show."""


class DataError(ExplorerError):
    """A dataset file or folder that cannot be read as images."""


class CheckpointError(ExplorerError):
    """A model file that is not a valid, matching checkpoint, or cannot be written."""


class ConfigError(ExplorerError):
    """A setting outside its allowed range (latent size, β, learning rate, ...)."""
