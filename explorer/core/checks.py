"""Type and range checks for values that come from outside: files, settings, the CLI.

JSON and settings files can hold any type where a number belongs ("2", 2.5, true, a
list, a deeply nested object), and Python would carry such a value far before it
fails somewhere unrelated. Each check here accepts exactly one kind of value in a
stated range and raises ConfigError naming the setting otherwise; callers reading a
file put the file's name in front.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from explorer.core.errors import ConfigError


def _shown(value: Any) -> str:
    """The offending value, shortened: a tampered file may hold megabytes in one value."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def whole(value: Any, name: str, lo: int, hi: int) -> int:
    """`value` if it is an int (not a bool, float or string) in lo..hi."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {_shown(value)}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo:,} and {hi:,}, got {value:,}")
    return value


def number(value: Any, name: str) -> float:
    """`value` as a float if it is an int or float (not a bool or string); may be NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name} must be a number, got {_shown(value)}")
    return float(value)


def finite(value: Any, name: str, lo: float, hi: float = math.inf) -> float:
    """A finite number in [lo, hi]."""
    x = number(value, name)
    if not (math.isfinite(x) and lo <= x <= hi):
        bounds = f"≥ {lo:g}" if hi == math.inf else f"between {lo:g} and {hi:g}"
        raise ConfigError(f"{name} must be a finite number {bounds}, got {x:g}")
    return x


def text(value: Any, name: str, max_len: int = 4096) -> str:
    """A string of at most `max_len` characters."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be text, got {_shown(value)}")
    if len(value) > max_len:
        raise ConfigError(f"{name} is {len(value):,} characters long, more than {max_len:,}")
    return value


def choice(value: Any, name: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {_shown(value)}")
    return value


def items(value: Any, name: str, max_len: int) -> list[Any]:
    """A list or tuple of at most `max_len` items (not a string, number or object)."""
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name} must be a list, got {_shown(value)}")
    if len(value) > max_len:
        raise ConfigError(f"{name} has {len(value):,} entries, more than {max_len:,}")
    return list(value)


def mapping(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be an object of named values, got {_shown(value)}")
    return value
