"""The status bar: the current code, the model on screen, and where training runs."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from explorer.core.config import ExternalConfig
from explorer.core.device import pick_device, pick_precision
from explorer.core.errors import ExplorerError
from explorer.core.kind_table import KIND_TABLE
from explorer.ui.sliders import signed
from explorer.ui.state import Session
from explorer.ui.training_controller import TrainingController
from explorer.ui.training_settings import TrainingSettings

_SHOWN_DIMS = 8  # coordinates of z written out; the rest is "…"


class CodeReadout(QWidget):
    """One line of text, elided at the right, whose size never depends on the text.

    For the code under the cursor, new on every move. A QLabel asks for a relayout with
    each new text, and the status bar answers a relayout by repainting itself whole: a
    second repaint of the window's bottom strip in every move's frame.
    """

    def __init__(self):
        super().__init__()
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("current code")

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.setAccessibleDescription(text)  # what a QLabel gives screen readers
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(
            self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown
        )


class StatusBar(QStatusBar):
    def __init__(self, session: Session, trainer: TrainingController, settings: TrainingSettings):
        super().__init__()
        self.session, self.trainer, self.settings = session, trainer, settings
        self.code_label = CodeReadout()
        self.model_label = QLabel()
        self.device_label = QLabel()
        self.addWidget(self.code_label, 1)
        for label in (self.model_label, self.device_label):
            label.setStyleSheet("padding: 0 6px; border-left: 1px solid palette(mid);")
            self.addPermanentWidget(label)
        session.codeChanged.connect(self.show_code)
        session.modelChanged.connect(self.show_model)
        session.modelChanged.connect(self.show_code)  # a model of another size resets z
        trainer.runningChanged.connect(self.show_device)
        settings.trainChanged.connect(self.show_device)
        self.messageChanged.connect(lambda text: text or self.setToolTip(""))
        self.show_device()

    def showMessage(self, text: str, timeout: int = 0) -> None:
        """A message that does not fit beside the labels on the right (a run's summary
        with the autosave path, on a laptop screen) ends in "…", not cut off under them;
        the whole of it is the bar's tooltip."""
        labels = [w.geometry().left() for w in (self.model_label, self.device_label)]
        room = min((x for x in labels if x > 0), default=self.width()) - 8
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)
        super().showMessage(shown, timeout)
        self.setToolTip(text)

    def show_code(self) -> None:
        z = self.session.z
        shown = ", ".join(signed(v) for v in z[:_SHOWN_DIMS])
        self.code_label.setText(f"z = ({shown}{', …' if len(z) > _SHOWN_DIMS else ''})")

    def show_model(self) -> None:
        s = self.session
        cfg = s.model.config
        uses_beta = s.info.train_config is not None and KIND_TABLE[cfg.kind].uses_beta
        beta = f" · β {s.info.train_config.beta:g}" if uses_beta else ""
        kind = "trained elsewhere" if isinstance(cfg, ExternalConfig) else cfg.kind
        self.model_label.setText(f"{s.info.source} · {kind} · latent {cfg.latent_dim}{beta}")

    def show_device(self) -> None:
        """Where training runs (or would run) and where the cursor decodes."""
        t = self.trainer.thread
        try:
            config = t.config if t else self.settings.train
            device = t.device if t else pick_device(config.device)
            precision = pick_precision(config.precision, device)
            where = f"{'training' if t else 'trains'} on {device} ({precision})"
        except ExplorerError:
            where = "training device unavailable"
        self.device_label.setText(f"{where} · decodes on cpu")
