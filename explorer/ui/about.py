"""Help ▸ About: the version, what it runs on, and where the log file is."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from explorer import __version__
from explorer.logs import log_path


def about_text() -> str:
    where = log_path()
    return (
        f"<b>Latent Explorer {__version__}</b><br>"
        "See what your variational autoencoder learned.<br><br>"
        f"PyTorch {torch.__version__} · Qt {qVersion()} · "
        f"{'CUDA available' if torch.cuda.is_available() else 'CPU only'}<br>"
        + (
            f"Warnings and errors are logged to <code>{where}</code>"
            if where
            else "No log file is being written."
        )
    )


def show_about(parent: QWidget) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, "About Latent Explorer", "", parent=parent)
    box.setText(about_text())
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
