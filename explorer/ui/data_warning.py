"""The banner above the latent plot (`dataMismatch`) that says when the model on screen
was trained on other data than the dataset shown, naming both; hidden when they match
or the model's training data is unknown (`core.provenance`)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from explorer.core.provenance import other_data
from explorer.ui.state import Session


class DataMismatchBanner(QLabel):
    def __init__(self, session: Session):
        super().__init__(objectName="dataMismatch")
        self.session = session
        self.setWordWrap(True)
        # amber with dark text: legible on light and dark desktops alike
        self.setStyleSheet(
            "QLabel { background: #FFE9A8; color: #3D2E00; border: 1px solid #D9A400;"
            " border-radius: 3px; padding: 3px 6px; }"
        )
        self.setVisible(False)
        session.modelChanged.connect(self.check)
        session.datasetChanged.connect(self.check)

    def check(self) -> None:
        s = self.session
        message = None
        if s.model is not None and s.dataset is not None:
            message = other_data(s.info.trained_on, s.dataset)
        self.setText(f"⚠ {message}" if message else "")
        self.setVisible(message is not None)
