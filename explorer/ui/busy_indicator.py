"""The busy indicator (`busyIndicator`): what the window is doing in the background and
how far it got ("Drawing 50,000 sprites…" and a bar at 40 %), hidden when idle.

It floats at the top of the latent plot (`float_over`): that is where a user looks while
a dataset opens, the plot being what stays empty until its codes arrive.

Jobs are keyed by any object (the window uses the TaskThread): `begin` shows one,
`report` moves its bar, `end` takes it away; with several at once the newest is shown.
A Cancel button can be added beside the bar (`add_button`); `current()` is the job it
would cancel and `shownChanged` says when that changes. `text()` is what a user reads.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Signal
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QLabel, QProgressBar, QWidget

from explorer.ui.overlay import Overlay

_STEPS = 1000  # bar resolution
_MARGIN = 8  # pixels between the indicator and the top of the widget it floats over


class BusyIndicator(Overlay):
    shownChanged = Signal(object)  # the job now shown, or None when idle
    textChanged = Signal(str)  # what a user reads now (`text()`), "" when idle

    def __init__(self):
        super().__init__("busyIndicator")
        self._jobs: dict[object, tuple[str, float | None]] = {}  # key -> (what, fraction)
        self._shown: object | None = None
        self._text = ""  # the text last announced by textChanged
        self.label = QLabel(objectName="busyText")
        self.bar = QProgressBar(objectName="busyProgress")
        self.bar.setFixedWidth(140)
        self.bar.setTextVisible(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.setVisible(False)

    def position(self, over: QWidget) -> QPoint:
        return QPoint((over.width() - self.width()) // 2, _MARGIN)  # top centre

    def add_button(self, button: QAbstractButton) -> None:
        """Put `button` (a Cancel) at the right of the bar; it shows with the indicator."""
        self.layout().addWidget(button)

    def current(self) -> object | None:
        """The job shown (the newest still running), or None."""
        return self._shown

    def text(self) -> str:
        """What a user reads: the work and, when known, how far it got."""
        if self._shown is None:
            return ""
        what, fraction = self._jobs[self._shown]
        return f"{what}…" + ("" if fraction is None else f" {fraction:.0%}")

    def begin(self, key: object, what: str) -> None:
        self._jobs[key] = (what, None)
        self._show()

    def report(self, key: object, what: str, fraction: float | None) -> None:
        """Job `key` is at `fraction` (None: cannot tell) of `what`; unknown keys are
        ignored (a report queued before the job ended)."""
        if key in self._jobs:
            self._jobs[key] = (what, fraction)
            if key is self._shown:
                self._show()

    def end(self, key: object) -> None:
        if self._jobs.pop(key, None) is not None:
            self._show()

    def _show(self) -> None:
        shown = next(reversed(self._jobs), None)
        if shown is not None:
            what, fraction = self._jobs[shown]
            self.label.setText(f"{what}…")
            if fraction is None:
                self.bar.setRange(0, 0)  # Qt's "busy" animation: no share known
            else:
                self.bar.setRange(0, _STEPS)
                self.bar.setValue(round(_STEPS * min(max(fraction, 0.0), 1.0)))
        self.setVisible(shown is not None)
        self.place()  # its text's width changed
        self.raise_()
        if shown is not self._shown:
            self._shown = shown
            self.shownChanged.emit(shown)
        if self.text() != self._text:
            self._text = self.text()
            self.textChanged.emit(self._text)
