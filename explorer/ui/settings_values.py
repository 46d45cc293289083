"""Values read back from the settings file, of the type the window expects or not at all.

The settings file (QSettings, an INI file on Linux) is the user's to edit, and another
version of the app, or a hand, may leave any type under a key: a number where a list
belongs, a rectangle where a folder does. Such a value is logged and ignored, and the
default used, so a bad settings file never stops the app from starting.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QSettings

from explorer.logs import LOGGER

log = logging.getLogger(LOGGER)


def read(settings: QSettings, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    """The value under `key` if it is a `kind`, else `default` (a wrong type is logged)."""
    try:
        value = settings.value(key)
    except Exception as e:  # a value Qt cannot turn into a Python object
        log.warning("settings %s: %s: unreadable (%s); default used", settings.fileName(), key, e)
        return default
    if value is None:
        return default
    if not isinstance(value, kind):
        log.warning(
            "settings %s: %s is %.80r, not what the app writes there; using the default",
            settings.fileName(),
            key,
            value,
        )
        return default
    return value


def read_strings(settings: QSettings, key: str) -> list[str]:
    """A list of texts (an INI file gives a list of one as the text alone)."""
    value = read(settings, key, (str, list), [])
    value = [value] if isinstance(value, str) else value
    if not all(isinstance(v, str) for v in value):
        log.warning("settings %s: %s holds other values than texts", settings.fileName(), key)
        return []
    return value
