"""Views that compute only while they can be seen.

The tabs of "What the model learned" decode or measure in the background; for a tab
that is not in front that work would be wasted, and on two cores it would compete with
the cursor's decoding. Such a view asks `hidden_now()` before submitting work: while
hidden the request is remembered instead, and `request()` runs when the view is shown.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


class LazyView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._stale = False  # a request was skipped; run it when shown

    def request(self) -> None:
        """Recompute what the view shows (each view's own)."""
        raise NotImplementedError

    def mark_stale(self) -> None:
        """Something changed that the view could not follow yet: recompute when shown."""
        self._stale = True

    def hidden_now(self) -> bool:
        """Whether the view is hidden; if so the request is kept for when it is shown."""
        self._stale = not self.isVisible()
        return self._stale

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.request()
