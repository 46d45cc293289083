"""The selection: which data points the user picked on the latent plot, as an observable.

Views bind to `changed` (the selection) and `storedChanged` (the selections kept as A and
B, for a direction between them). It holds data indices, so a training epoch that moves
every code keeps it; a new dataset clears it, its indices meaning other images.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.core.selection import Combine, as_set, combine
from explorer.ui.state import Session

SLOTS = ("A", "B")  # the stored selections


class SelectionModel(QObject):
    changed = Signal()  # `indices` is another set
    storedChanged = Signal(str)  # the selection stored as this slot ("A" or "B") changed

    def __init__(self, session: Session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.indices = np.zeros(0, np.int64)  # (n,) sorted, unique data indices
        self.stored: dict[str, np.ndarray] = {}  # slot -> (n,) indices stored there
        session.datasetChanged.connect(self._forget)

    def __len__(self) -> int:
        return len(self.indices)

    def apply(self, drawn: np.ndarray, how: Combine = Combine.REPLACE) -> None:
        """A region holding the points `drawn` (n,) was drawn: the selection meets it."""
        self.set(combine(self.indices, as_set(drawn), how))

    def set(self, indices: np.ndarray) -> None:
        indices = as_set(indices)
        if not np.array_equal(indices, self.indices):
            self.indices = indices
            self.changed.emit()

    def clear(self) -> None:
        self.set(np.zeros(0, np.int64))

    def store(self, slot: str) -> None:
        """Keep the current selection as `slot` ("A" or "B")."""
        self.stored[slot] = self.indices.copy()
        self.storedChanged.emit(slot)

    def _forget(self) -> None:
        self.clear()
        for slot in list(self.stored):
            del self.stored[slot]
            self.storedChanged.emit(slot)
