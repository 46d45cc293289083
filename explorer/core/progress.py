"""How long-running core work (drawing a dataset, reading one, encoding it) says how far
it got, without knowing who listens: the window's busy indicator, or nobody.

A reporter is called as `report(what, fraction)`: `what` is a short phrase for a person
("Drawing 50,000 sprites"), `fraction` the share done in [0, 1], or None when the work
cannot tell (reading a file in one call). It is called from the worker's thread, so a
listener must hand the values on (a queued signal), not touch widgets.
"""

from __future__ import annotations

from collections.abc import Callable

Reporter = Callable[[str, "float | None"], None]


def quiet(what: str, fraction: float | None) -> None:
    """The reporter when nobody listens."""
