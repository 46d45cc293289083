"""Opening models and datasets for the window, and encoding what was opened.

Files load in the background; a checkpoint brings the dataset it was trained on when
the open one cannot do (a built-in is generated again, a file opened if still there);
a dataset of another shape than the model asks whether to switch to a new model.
A model trained elsewhere (TorchScript, or weights plus a factory) is probed on the
images it will see: the open dataset, or one named with it.
Nothing is opened while training runs (the run's codes would mix with other data).
What is shown is then encoded in the background (explorer.ui.dataset_encoder).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from explorer.core.checkpoint import Checkpoint, load_checkpoint
from explorer.core.data import BUILTINS, Dataset, load_dataset
from explorer.core.errors import CheckpointError, ExplorerError
from explorer.core.external import ExternalModel
from explorer.core.external_files import ExternalSource, is_torchscript, open_external
from explorer.core.kinds import build_model, model_config
from explorer.core.model import LatentModel, images_to_tensor
from explorer.core.progress import Reporter, quiet
from explorer.logs import LOGGER
from explorer.resources import bundled_model
from explorer.ui.checkpoint_info import check_metadata
from explorer.ui.dataset_encoder import DatasetEncoder
from explorer.ui.external_dialog import ExternalModelDialog
from explorer.ui.services import Controller, Services
from explorer.ui.state import ModelInfo
from explorer.ui.training_settings import TrainingSettings
from explorer.ui.workers import TaskThread

log = logging.getLogger(LOGGER)
_PROBE_IMAGES = 8  # images of the data an external model is first tried on
MODEL_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")  # models from elsewhere, by name


def own_dataset(described: dict) -> str | None:
    """What a checkpoint was trained on, when it can be opened here: a built-in or a path."""
    source = described.get("source")
    if source is None:
        return described.get("name") if described.get("name") in BUILTINS else None
    try:
        return source if Path(source).exists() else None
    except (OSError, ValueError):  # a name no file can have (too long, a NUL in it)
        return None


class Opener(Controller):
    def __init__(self, services: Services, settings: TrainingSettings, encoder: DatasetEncoder):
        super().__init__(services)
        self.settings = settings  # its model settings make a new untrained model
        self.encoder = encoder  # encodes what is shown
        self.notify = services.notify
        self.refuse_while_training = services.refuse_while_training
        self._load_generation = 0  # the newest dataset asked for: an older one is dropped

    def open_bundled(self, name: str) -> bool:
        return self.open_checkpoint(
            bundled_model(name), source=f"bundled {name} model", remember=False
        )

    def read_checkpoint(self, path: Path) -> Checkpoint:
        """A checkpoint read and checked for everything the window will show of it, the
        session untouched; raises ExplorerError naming the file."""
        try:
            ckpt = load_checkpoint(path)
        except ExplorerError:
            raise
        except Exception as e:  # a loader fault on a hostile file: still only this file's
            log.exception("reading %s", path)
            raise CheckpointError(f"{path}: cannot be read ({type(e).__name__}: {e})") from e
        check_metadata(ckpt, path)
        return ckpt

    def open_checkpoint(
        self, path: str | Path, source: str | None = None, remember: bool = True
    ) -> bool:
        """Open a checkpoint, and the dataset it was trained on when the open one cannot do.

        A built-in dataset is generated again; a dataset file is opened if still there.
        """
        path = Path(path)
        if self.refuse_while_training("a model"):
            return False
        try:
            ckpt = self.read_checkpoint(path)
        except ExplorerError as e:
            self.show_error("Cannot open checkpoint", str(e))
            return False
        return self.show_checkpoint(ckpt, path, source, remember)

    def show_checkpoint(
        self,
        ckpt: Checkpoint,
        path: Path,
        source: str | None = None,
        remember: bool = True,
        unsaved: bool = False,
    ) -> bool:
        """Put a checkpoint read by `read_checkpoint` on screen, with its own dataset when
        the open one cannot do: then both appear once that has loaded, or neither (with no
        model on screen yet, the model at once and its data when loaded). False
        (and a message, nothing changed) when no data can fit. `unsaved`: the model is
        one of the user's that is in no file of theirs (a restored autosave)."""
        shape = tuple(ckpt.model.config.image_shape)
        ds = self.session.dataset
        own = own_dataset(ckpt.dataset)
        need_data = (
            ds is None
            or ds.image_shape != shape
            or (own in BUILTINS and ds.source is None and ds.name != own)
        )
        if need_data and own is None:
            have = (
                f"the open dataset {ds.name} has {ds.image_shape}" if ds else "no dataset is open"
            )
            trained_on = ckpt.dataset.get("source")
            missing = f" ({trained_on}, its training data, is not there)" if trained_on else ""
            self.show_error(
                "Model and data do not match",
                f"{path}: the model expects images of shape {shape} (channels, height, "
                f"width) but {have}. Open a dataset of that shape first{missing}.",
            )
            return False
        info = ModelInfo(
            train_config=ckpt.train_config,
            metrics=ckpt.metrics,
            kl_per_dim=ckpt.kl_per_dim,
            path=None if unsaved else path,
            unsaved=unsaved,
            source=source or path.name,
            trained_on=ckpt.dataset,
            history=tuple(ckpt.history),
            world_size=ckpt.world_size,
        )
        if remember:
            self.recent.remember(path)
        count = ckpt.dataset.get("num_images") if own in BUILTINS else None
        if not need_data or self.session.model is None:  # (at start-up: nothing to keep)
            self.session.set_model(ckpt.model, info)
            if need_data:
                self.open_dataset(own, count=count)
            else:
                self.encoder.encode()
            return True

        def show(dataset: Dataset) -> None:
            """The model and its data together, or neither (a failure leaves the window)."""
            if self.refuse_while_training("a model"):  # Train was pressed while it loaded
                return
            if dataset.image_shape != shape:
                self.show_error(
                    "Model and data do not match",
                    f"{path}: the model expects images of shape {shape} (channels, height, "
                    f"width) but its dataset {own} has {dataset.image_shape}.",
                )
                return
            self.session.set_model(ckpt.model, info)
            self._show_dataset(dataset)

        self.run_task(
            load_dataset,
            own,
            count,
            done=show,
            error_title="Cannot open checkpoint",
            busy=f"Opening {Path(own).name}",
        )
        return True

    def open_external(self, source: ExternalSource, dataset: str | Path | None = None) -> None:
        """Open a model trained elsewhere, probed on `dataset` (loaded with it) or the open one.

        Loading and probing run in the background. If it fails or is cancelled and the
        window has no model yet (a start-up), the bundled digits model opens instead.
        """
        if self.refuse_while_training("a model"):
            return
        if dataset is None and self.session.dataset is None:
            self.show_error(
                "Cannot open model", f"{source.path}: open a dataset for the model first"
            )
            return

        def probe(data: Dataset, progress: Reporter = quiet) -> tuple[ExternalModel, Dataset]:
            progress(f"Opening {name}", None)
            images = images_to_tensor(data.images[:_PROBE_IMAGES]).float() / 255
            return open_external(source, data.image_shape, images), data

        def apply(result: tuple[ExternalModel, Dataset]) -> None:
            if self.refuse_while_training("a model"):  # Train was pressed while it loaded
                return
            model, data = result
            a = model.config.adapters
            info = ModelInfo(
                path=Path(source.path),
                source=f"{Path(source.path).name} ({model.config.architecture})",
            )
            self.show_model(model, info, data)
            self.recent.remember(Path(source.path), source)
            self.show_status(
                f"Opened {source.path}: input {a.input}, encoder read as {a.encoder}, "
                f"decoder as {a.decoder}"
            )

        # the busy indicator's Cancel abandons a factory that never returns
        name, busy = Path(source.path).name, f"Opening {Path(source.path).name}"
        if dataset is None:
            task = self.run_task(
                probe, self.session.dataset, done=apply, error_title="Cannot open model", busy=busy
            )
        else:
            task = self.run_task(
                lambda spec, progress: probe(load_dataset(spec, progress=progress), progress),
                str(dataset),
                done=apply,
                error_title="Cannot open model",
                busy=busy,
            )
        # failed or cancelled with nothing on screen (a start-up): the bundled model
        task.finished.connect(
            lambda: self.open_bundled("digits") if self.session.model is None else None
        )

    def show_model(self, model: LatentModel, info: ModelInfo, dataset: Dataset) -> None:
        """Put a model already read (and probed) on screen with `dataset`, whose codes
        are encoded in the background; the data must be of the model's image shape."""
        self.session.set_model(model, info)
        if dataset is self.session.dataset:
            self.encoder.encode()
        else:
            self._show_dataset(dataset)

    def ask_open_external(self) -> ExternalModelDialog | None:
        """The dialog for a model from elsewhere (non-blocking); Open opens it."""
        if self.refuse_while_training("a model"):  # before the user picks a file in vain
            return None
        dialog = ExternalModelDialog(
            self.parent_widget, self.recent.last_dir(), self.recent.last_external()
        )
        dialog.accepted.connect(lambda: self.open_external(dialog.source()))
        dialog.open()
        return dialog

    def open_dataset(
        self, spec: str | Path, count: int | None = None, new_model_if_needed: bool = False
    ) -> TaskThread | None:
        """Load a dataset (built-in name or path) in the background, then encode it.

        Images of another shape than the current model's cannot be decoded by it: the
        user is asked whether to switch to a new, untrained model for them (or it is
        done without asking when `new_model_if_needed`, e.g. `--dataset` at start-up).
        """
        if self.refuse_while_training("a dataset"):
            return None
        self._load_generation += 1
        generation = self._load_generation

        def apply(dataset: Dataset) -> None:
            # A dataset asked for later (a bundled model opened while the start-up's data
            # was still drawn brings its own) supersedes this one: landing now, it would
            # replace that or ask about a model it was never meant for.
            if generation != self._load_generation:
                return
            if self.refuse_while_training("a dataset"):  # Train was pressed while it loaded
                return
            m = self.session.model
            if m is None or tuple(m.config.image_shape) == dataset.image_shape:
                self._show_dataset(dataset)
            elif new_model_if_needed:
                self._show_dataset_with_new_model(dataset)
            else:
                self._offer_new_model(dataset)

        return self.run_task(
            load_dataset,
            str(spec),
            count,
            done=apply,
            error_title="Cannot open dataset",
            busy=f"Opening {Path(str(spec)).name}",
        )

    def _show_dataset(self, dataset: Dataset) -> None:
        skipped = dataset.extra.get("skipped")
        if skipped:
            self.show_status(f"Skipped {len(skipped)} unreadable file(s), e.g. {skipped[0]}")
        self.session.set_dataset(dataset)
        self.encoder.encode()
        if dataset.source:
            self.recent.remember(Path(dataset.source))

    def _offer_new_model(self, dataset: Dataset) -> None:
        """A non-blocking question; nothing changes unless the user says so."""
        shape = tuple(self.session.model.config.image_shape)
        message = (
            f"{dataset.source or dataset.name}: images of shape {dataset.image_shape} "
            f"(channels, height, width), but the current model expects {shape}. "
            "Open a model trained on such images, or switch to a new untrained model "
            "for this dataset and train it."
        )
        if self.session.info.unsaved:
            message += " The model trained in this session has not been saved."
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Model and data do not match",
            message,
            parent=self.parent_widget,
        )
        switch = box.addButton("New model for this dataset", QMessageBox.ButtonRole.AcceptRole)
        switch.setObjectName("newModelButton")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(
            lambda b: self._show_dataset_with_new_model(dataset) if b is switch else None
        )
        box.open()
        self.notify(message)

    def _show_dataset_with_new_model(self, dataset: Dataset) -> None:
        if self.refuse_while_training("a dataset"):  # the question was answered late
            return
        try:
            config = model_config(self.settings.model, dataset)
            model = build_model(config)  # bounds the model's size
        except ExplorerError as e:
            self.show_error("Cannot make a model for this dataset", str(e))
            return
        info = ModelInfo(source=f"untrained model for {dataset.name}")
        self.session.set_model(model, info)
        self._show_dataset(dataset)
        self.show_status("New untrained model: press Train to fit it")

    def open_path(self, path: Path) -> None:
        """A checkpoint, a model from elsewhere or a dataset, told apart by the name (and
        by how the model was opened last time: the factory of its weights)."""
        remembered = self.recent.external_source(path)
        if remembered is not None:
            self.open_external(remembered)
        elif is_torchscript(path):
            self.open_external(ExternalSource(str(path)))
        elif path.suffix == ".safetensors":
            self.open_checkpoint(path)
        elif path.suffix.lower() in MODEL_SUFFIXES:
            self.open_external(ExternalSource(str(path)))
        else:
            self.open_dataset(path)

    def ask_open(self, what: str) -> None:
        """Ask for a "checkpoint", "dataset" file or dataset "folder", then open it."""
        if self.refuse_while_training("a model" if what == "checkpoint" else "a dataset"):
            return  # said before the dialog, not after the user picked a file in vain
        parent, start = self.parent_widget, self.recent.last_dir()
        if what == "folder":
            title = "Open a folder of images or a saved dataset"
            path = QFileDialog.getExistingDirectory(parent, title, start)
        else:
            filters = {
                "checkpoint": "Checkpoints (*.safetensors);;TorchScript models (*.pt *.pth)",
                "dataset": "Datasets (*-ubyte *-ubyte.gz *.npz *.npy *.parquet *.arrow);;"
                "Parquet / Arrow tables (*.parquet *.arrow);;All files (*)",
            }[what]
            path, _ = QFileDialog.getOpenFileName(parent, f"Open {what}", start, filters)
        if path:
            self.recent.set_last_dir(path)
            # what was asked for decides, not the name: a checkpoint may be named anyhow
            if what == "checkpoint" and is_torchscript(path):
                self.open_external(ExternalSource(path))
            elif what == "checkpoint":
                self.open_checkpoint(path)
            else:
                self.open_dataset(path)
