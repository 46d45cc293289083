"""File ▸ Open model trained elsewhere: the file, the factory for weights, the adapters.

It only gathers an `ExternalSource`; the opener loads and probes it, and says what does
not fit. The fields start from the last model opened this way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.config import DECODER_OUTPUTS, ENCODER_OUTPUTS, INPUT_LAYOUTS, Adapters
from explorer.core.external_files import ExternalSource

_HELP = (
    "A <b>TorchScript</b> module (<code>torch.jit.script(model).save(…)</code>) with "
    "<code>encode(x) → (mu, logvar)</code> and <code>decode(z) → x</code> opens alone. "
    "<b>Weights</b> (a state dict in .pt/.pth or .safetensors) also need the function "
    "that builds the model. The adapters say how encode and decode are read; "
    "<i>auto</i> finds out by trying the model on the open data."
)


class ExternalModelDialog(QDialog):
    def __init__(self, parent: QWidget, start_dir: str, last: ExternalSource | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open model trained elsewhere")
        self.start_dir = start_dir
        last = last or ExternalSource("")
        self.path_edit = QLineEdit(last.path)
        self.path_edit.setObjectName("externalPath")
        self.path_edit.setPlaceholderText(
            "model.pt (TorchScript) or weights .pt / .pth / .safetensors"
        )
        self.factory_edit = QLineEdit(last.factory)
        self.factory_edit.setObjectName("externalFactory")
        self.factory_edit.setPlaceholderText("package.module:build_model  or  file.py:build_model")
        self.args_edit = QLineEdit(last.factory_args)
        self.args_edit.setObjectName("externalFactoryArgs")
        self.args_edit.setPlaceholderText('{"latent_dim": 10}  or  args.json  (optional)')
        self.combos = {
            name: self._combo(name, choices, getattr(last.adapters, name))
            for name, choices in (
                ("input", INPUT_LAYOUTS),
                ("encoder", ENCODER_OUTPUTS),
                ("decoder", DECODER_OUTPUTS),
            )
        }

        form = QFormLayout()
        form.addRow("Model file", self._with_browse(self.path_edit, self._browse_model))
        form.addRow("Factory", self._with_browse(self.factory_edit, self._browse_factory))
        form.addRow("Factory arguments", self.args_edit)
        form.addRow("Input", self.combos["input"])
        form.addRow("Encoder returns", self.combos["encoder"])
        form.addRow("Decoder returns", self.combos["decoder"])
        help_label = QLabel(_HELP)
        help_label.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.open_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        self.open_button.setObjectName("externalOpen")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.path_edit.textChanged.connect(self._enable)
        self._enable()
        layout = QVBoxLayout(self)
        layout.addWidget(help_label)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(640, self.sizeHint().height())

    def _combo(self, name: str, choices: tuple[str, ...], value: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"adapter_{name}")
        combo.addItems(list(choices))
        combo.setCurrentText(value)
        return combo

    def _with_browse(self, edit: QLineEdit, browse) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        button = QPushButton("Browse…")
        button.clicked.connect(browse)
        layout.addWidget(button)
        return row

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Model file",
            self.start_dir,
            "Models (*.pt *.pth *.ckpt *.bin *.safetensors);;All files (*)",
        )
        if path:
            self.path_edit.setText(path)

    def _browse_factory(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Python file with the factory", self.start_dir, "Python (*.py)"
        )
        if path:
            function = self.factory_edit.text().rpartition(":")[2] or "build_model"
            self.factory_edit.setText(f"{path}:{function}")

    def _enable(self) -> None:
        self.open_button.setEnabled(bool(self.path_edit.text().strip()))

    def source(self) -> ExternalSource:
        """What the user filled in (checked when it is opened, not here)."""
        return ExternalSource(
            path=str(Path(self.path_edit.text().strip()).expanduser()),
            factory=self.factory_edit.text().strip(),
            factory_args=self.args_edit.text().strip(),
            adapters=Adapters(**{k: c.currentText() for k, c in self.combos.items()}),
        )
