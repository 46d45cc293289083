"""The main window: wires the session, the views, the training panel and the workers.

It owns every background thread; closing the window stops training and waits for
all of them, so no thread outlives its widgets.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.autosave import Autosave
from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import BUILTINS, Dataset, load_dataset
from explorer.core.errors import ExplorerError
from explorer.core.metrics import encode, kl_per_dim
from explorer.core.model import build_model, images_to_tensor
from explorer.logs import LOGGER
from explorer.resources import BUNDLED_MODELS, bundled_model
from explorer.ui.about import show_about
from explorer.ui.decoder_view import DecoderView
from explorer.ui.exporter import Exporter
from explorer.ui.kl_view import KLView
from explorer.ui.latent_view import LatentView
from explorer.ui.model_saver import ModelSaver
from explorer.ui.plane_bar import PlaneBar
from explorer.ui.recent_files import RecentFiles
from explorer.ui.sliders import LatentSliders
from explorer.ui.state import ModelInfo, Session
from explorer.ui.status_bar import StatusBar
from explorer.ui.training_controller import TrainingController
from explorer.ui.training_panel import TrainingPanel
from explorer.ui.traversal_view import TraversalView
from explorer.ui.workers import LatestJob, TaskThread

log = logging.getLogger(LOGGER)


def _own_dataset(described: dict) -> str | None:
    """What a checkpoint was trained on, when it can be opened here: a built-in or a path."""
    source = described.get("source")
    if source is None:
        return described.get("name") if described.get("name") in BUILTINS else None
    return source if Path(source).exists() else None


class MainWindow(QMainWindow):
    errorShown = Signal(str)  # every message shown to the user in an error dialog

    def __init__(self, settings: QSettings | None = None, autosave: Autosave | None = None):
        """`autosave`: where a trained model is kept until saved (none: not kept)."""
        super().__init__()
        self.setWindowTitle("Latent Explorer")
        self.settings = settings or QSettings()
        self.session = Session(self)
        self._tasks: set[TaskThread] = set()
        self._encode_generation = 0
        self._autosave = autosave
        self._closing = False
        self._build_views()
        self._build_menus()
        self.setStatusBar(StatusBar(self.session, self.trainer, self.panel))
        self.panel.restore_settings(self.settings)
        self.setAcceptDrops(True)
        self.resize(1440, 860)
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
            self.restoreState(self.settings.value("window/state"))

    # -- layout ----------------------------------------------------------------------
    def _build_views(self) -> None:
        s = self.session
        self.latent_view = LatentView(s)
        self.decoder_view = DecoderView(s)
        self.sliders = LatentSliders(s)
        self.panel = TrainingPanel(s)

        self.plane_bar = PlaneBar(s, self.latent_view)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addWidget(self.plane_bar)
        lv.addWidget(self.latent_view, 1)

        self.pin_label = QLabel("Hover to decode · click to pin · Esc to release")
        self.pin_label.setStyleSheet("color: #555;")
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(4, 4, 4, 4)
        rv.addWidget(self.decoder_view, 3)
        rv.addWidget(self.pin_label)
        rv.addWidget(self.sliders, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.setCentralWidget(split)

        dock = QDockWidget("Training", self, objectName="trainingDock")
        dock.setWidget(self.panel)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.panel.setMinimumWidth(340)
        self.resizeDocks([dock], [380], Qt.Orientation.Horizontal)  # the plot gets the room
        split.setSizes([700, 360])

        self.kl_view = KLView(s)
        self.traversal_view = TraversalView(s)
        tabs = QTabWidget(objectName="insightTabs")
        tabs.addTab(self.traversal_view, "Traversals")
        tabs.addTab(self.kl_view, "KL per dimension")
        insight = QDockWidget("What the model learned", self, objectName="insightDock")
        insight.setWidget(tabs)
        insight.setFeatures(dock.features())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, insight)

        self.trainer = TrainingController(s, self.panel, self.show_error, parent=self)
        self.trainer.runningChanged.connect(self._training_running)
        self.trainer.finished.connect(lambda p: self.statusBar().showMessage(p.message, 10_000))
        s.modelChanged.connect(self._model_changed)
        s.pinnedChanged.connect(
            lambda p: self.pin_label.setText(
                "Pinned · click again or press Esc to release"
                if p
                else "Hover to decode · click to pin · Esc to release"
            )
        )

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._action(
            m, "&Open checkpoint…", self.ask_open_checkpoint, QKeySequence.StandardKey.Open
        )
        self._action(m, "Open &dataset…", self.ask_open_dataset)
        self._action(m, "Open dataset &folder…", self.ask_open_dataset_folder)
        self.recent = RecentFiles(self.settings, m.addMenu("Recent files"), self.open_path)
        self.saver = ModelSaver(
            self,
            self.session,
            self.recent,
            self.show_error,
            self.show_status,
            self._run,
            self._autosave,
        )
        m.addSeparator()
        self._action(
            m, "&Save checkpoint as…", self.ask_save_checkpoint, QKeySequence.StandardKey.Save
        )
        self.exporter = Exporter(
            self,
            self.session,
            {
                "image": self.decoder_view,
                "plot": self.latent_view,
                "traversals": self.traversal_view,
                "kl": self.kl_view,
            },
            self.recent,
            self.show_error,
            self.show_status,
            self._run,
        )
        self.traversal_view.exportRequested.connect(lambda: self.exporter.ask_export("traversals"))
        exports = m.addMenu("&Export")
        for what, text in [
            ("image", "Decoded &image…"),
            ("plot", "Latent &plot…"),
            ("traversals", "&Traversals…"),
            ("kl", "&KL per dimension…"),
        ]:
            self._action(exports, f"{text} (PNG)", lambda w=what: self.exporter.ask_export(w))
        self._action(exports, "&Codes of the dataset (CSV / NPY)…", self.exporter.ask_export_codes)
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        models = self.menuBar().addMenu("&Model")
        for name in BUNDLED_MODELS:
            self._action(models, f"Bundled: {name}", lambda n=name: self.open_bundled(n))
        data = self.menuBar().addMenu("&Data")
        for name in BUILTINS:
            self._action(data, f"Built-in: {name}", lambda n=name: self.open_dataset(n))
        self._action(
            self.menuBar().addMenu("&Help"), "&About Latent Explorer", lambda: show_about(self)
        )

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(shortcut)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    # -- errors ----------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """A non-blocking warning dialog; the app keeps running and nothing is changed."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message.split("\n\n")[0], parent=self)
        if "\n\n" in message:
            box.setDetailedText(message.split("\n\n", 1)[1])
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0]}", 10_000)
        log.warning("%s: %s", title, message)
        self.errorShown.emit(message)

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    # -- background tasks ------------------------------------------------------------
    def _run(self, fn, *args, done, error_title: str) -> TaskThread:
        task = TaskThread(fn, *args, parent=self)
        self._tasks.add(task)
        task.succeeded.connect(done)
        task.failed.connect(lambda msg: self.show_error(error_title, msg))
        task.finished.connect(lambda: self._tasks.discard(task))
        task.start()
        return task

    def _encode(self) -> None:
        """Re-encode the dataset with the current model, in the background."""
        s = self.session
        if s.model is None or s.dataset is None:
            return
        if tuple(s.model.config.image_shape) != s.dataset.image_shape:
            return
        self._encode_generation += 1
        generation = self._encode_generation
        model = s.model_snapshot()
        images = images_to_tensor(
            s.dataset.images
        )  # this model with this data, whatever comes next

        def job() -> tuple[np.ndarray, np.ndarray]:
            mu, logvar = encode(model, images)
            return mu, kl_per_dim(mu, logvar)

        def apply(result: tuple[np.ndarray, np.ndarray]) -> None:
            if generation != self._encode_generation:  # a newer model/dataset supersedes it
                return
            mu, kl = result
            if not self.session.info.kl_per_dim:  # e.g. a checkpoint from elsewhere
                self.session.info.kl_per_dim = kl.tolist()
            self.session.set_codes(mu)

        self._run(job, done=apply, error_title="Cannot encode the dataset")

    # -- opening things --------------------------------------------------------------
    def open_bundled(self, name: str) -> bool:
        return self.open_checkpoint(
            bundled_model(name), source=f"bundled {name} model", remember=False
        )

    def open_checkpoint(
        self, path: str | Path, source: str | None = None, remember: bool = True
    ) -> bool:
        """Open a checkpoint, and the dataset it was trained on when the open one cannot do.

        A built-in dataset is generated again; a dataset file is opened if still there.
        """
        path = Path(path)
        if self._refuse_while_training("a model"):
            return False
        try:
            ckpt = load_checkpoint(path)
        except ExplorerError as e:
            self.show_error("Cannot open checkpoint", str(e))
            return False
        shape = tuple(ckpt.model.config.image_shape)
        ds = self.session.dataset
        own = _own_dataset(ckpt.dataset)
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
        self.session.set_model(
            ckpt.model,
            ModelInfo(
                train_config=ckpt.train_config,
                metrics=ckpt.metrics,
                kl_per_dim=ckpt.kl_per_dim,
                path=path,
                source=source or path.name,
            ),
        )
        if need_data:
            count = ckpt.dataset.get("num_images") if own in BUILTINS else None
            self.open_dataset(own, count=count)
        else:
            self._encode()
        if remember:
            self.recent.remember(path)
        return True

    def open_dataset(
        self, spec: str | Path, count: int | None = None, new_model_if_needed: bool = False
    ) -> TaskThread | None:
        """Load a dataset (built-in name or path) in the background, then encode it.

        Images of another shape than the current model's cannot be decoded by it: the
        user is asked whether to switch to a new, untrained model for them (or it is
        done without asking when `new_model_if_needed`, e.g. `--dataset` at start-up).
        """
        if self._refuse_while_training("a dataset"):
            return None

        def apply(dataset: Dataset) -> None:
            if self._refuse_while_training("a dataset"):  # Train was pressed while it loaded
                return
            m = self.session.model
            if m is None or tuple(m.config.image_shape) == dataset.image_shape:
                self._show_dataset(dataset)
            elif new_model_if_needed:
                self._show_dataset_with_new_model(dataset)
            else:
                self._offer_new_model(dataset)

        return self._run(
            load_dataset, str(spec), count, done=apply, error_title="Cannot open dataset"
        )

    def _show_dataset(self, dataset: Dataset) -> None:
        skipped = dataset.extra.get("skipped")
        if skipped:
            self.statusBar().showMessage(
                f"Skipped {len(skipped)} unreadable file(s), e.g. {skipped[0]}", 15_000
            )
        self.session.set_dataset(dataset)
        self._encode()
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
            QMessageBox.Icon.Question, "Model and data do not match", message, parent=self
        )
        switch = box.addButton("New model for this dataset", QMessageBox.ButtonRole.AcceptRole)
        switch.setObjectName("newModelButton")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(
            lambda b: self._show_dataset_with_new_model(dataset) if b is switch else None
        )
        box.open()
        self.errorShown.emit(message)

    def _show_dataset_with_new_model(self, dataset: Dataset) -> None:
        if self._refuse_while_training("a dataset"):  # the question was answered late
            return
        try:
            config = self.panel.model_config(dataset.image_shape).validate()
        except ExplorerError as e:
            self.show_error("Cannot make a model for this dataset", str(e))
            return
        info = ModelInfo(source=f"untrained model for {dataset.name}")
        self.session.set_model(build_model(config), info)
        self._show_dataset(dataset)
        self.statusBar().showMessage("New untrained model: press Train to fit it", 15_000)

    def open_path(self, path: Path) -> None:
        if path.suffix == ".safetensors":
            self.open_checkpoint(path)
        else:
            self.open_dataset(path)

    def ask_open_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open checkpoint", self.recent.last_dir(), "Checkpoints (*.safetensors)"
        )
        if path:
            self.recent.set_last_dir(path)
            self.open_checkpoint(path)

    def ask_open_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open dataset",
            self.recent.last_dir(),
            "Datasets (*-ubyte *-ubyte.gz *.npz *.npy);;All files (*)",
        )
        if path:
            self.recent.set_last_dir(path)
            self.open_dataset(path)

    def ask_open_dataset_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Open a folder of images", self.recent.last_dir()
        )
        if path:
            self.recent.set_last_dir(path)
            self.open_dataset(path)

    # -- saving and exporting --------------------------------------------------------
    def save_checkpoint(self, path: str | Path) -> bool:
        return self.saver.save(path)

    def ask_save_checkpoint(self) -> bool:
        return self.saver.ask_save()

    def export(self, what: str, path: str | Path) -> bool:
        return self.exporter.export(what, path)

    # -- plane, model and data changes -----------------------------------------------
    def _training_running(self, running: bool) -> None:
        if running:
            self._encode_generation += 1  # codes now come from training; drop pending encodes
        elif not self._closing:  # ended, stopped, diverged or failed: keep it until saved
            self.saver.autosave()

    def _refuse_while_training(self, what: str) -> bool:
        """Opening another model or dataset mid-training would mix the two; say so."""
        if self.trainer.running:
            self.show_error(
                f"Cannot open {what}", f"Training is running: stop it before opening {what}."
            )
        return self.trainer.running

    def _model_changed(self) -> None:
        self.setWindowTitle(f"Latent Explorer — {self.session.info.source}")

    # -- drag and drop ---------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(Path(url.toLocalFile()))

    # -- closing ---------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        discard = False
        if self.session.info.unsaved:
            answer = QMessageBox.question(
                self,
                "Unsaved model",
                "The model trained in this session has not been saved. Save it before closing?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
            )
            if answer == QMessageBox.StandardButton.Cancel or (
                answer == QMessageBox.StandardButton.Save and not self.ask_save_checkpoint()
            ):
                event.ignore()
                return
            discard = answer == QMessageBox.StandardButton.Discard
        self._closing = True  # a training stopped by closing is not autosaved again
        self.shutdown()
        if discard:  # after shutdown, so no autosave write is still in flight
            self.saver.discard()
        self.panel.save_settings(self.settings)
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop training and wait for every background thread."""
        self.trainer.shutdown()
        for job in self.findChildren(LatestJob):
            job.wait()
        for task in list(self._tasks):
            task.wait()
