"""The main window: wires the session, the views, the training panel and the workers.

It owns every background thread; closing the window stops training and waits for
all of them, so no thread outlives its widgets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.data import BUILTINS, Dataset, load_dataset
from explorer.core.errors import ExplorerError
from explorer.core.metrics import active_units, encode
from explorer.core.model import VAE, build_model, images_to_tensor
from explorer.resources import BUNDLED_MODELS, bundled_model
from explorer.ui.decoder_view import DecoderView
from explorer.ui.latent_view import LatentView
from explorer.ui.sliders import LatentSliders
from explorer.ui.state import ModelInfo, Session
from explorer.ui.training_panel import TrainingPanel
from explorer.ui.workers import Snapshot, TaskThread, TrainingThread

_MAX_RECENT = 8
_EXPORT_SCALE = 8  # decoded-image PNGs are enlarged with crisp pixels


class MainWindow(QMainWindow):
    errorShown = Signal(str)  # every message shown to the user in an error dialog
    trainingFinished = Signal(object)  # the final Progress record of a training run

    def __init__(self, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("Latent Explorer")
        self.settings = settings or QSettings()
        self.session = Session(self)
        self.training: TrainingThread | None = None
        self._tasks: set[TaskThread] = set()
        self._encode_generation = 0
        self._build_views()
        self._build_menus()
        self._build_status_bar()
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

        self.plane_combo = QComboBox(objectName="planeCombo")
        self.plane_combo.addItems(["PCA of the codes", "Two dimensions"])
        self.x_spin = QSpinBox(objectName="planeX", prefix="x = z")
        self.y_spin = QSpinBox(objectName="planeY", prefix="y = z", value=1)
        self.colour_combo = QComboBox(objectName="colourCombo")
        self.colour_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for w in (self.plane_combo, self.x_spin, self.y_spin):
            (w.currentIndexChanged if w is self.plane_combo else w.valueChanged).connect(
                self._plane_chosen
            )
        self.colour_combo.currentTextChanged.connect(
            lambda t: t and self.latent_view.set_colour_by(t.removeprefix("colour by "))
        )
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Plane:"))
        bar.addWidget(self.plane_combo)
        bar.addWidget(self.x_spin)
        bar.addWidget(self.y_spin)
        bar.addStretch(1)
        bar.addWidget(self.colour_combo)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addLayout(bar)
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

        self.panel.trainRequested.connect(self.start_training)
        self.panel.stopRequested.connect(self.stop_training)
        s.modelChanged.connect(self._model_changed)
        s.datasetChanged.connect(self._dataset_changed)
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
        self.recent_menu = m.addMenu("Recent files")
        self._refresh_recent()
        m.addSeparator()
        self._action(
            m, "&Save checkpoint as…", self.ask_save_checkpoint, QKeySequence.StandardKey.Save
        )
        self._action(m, "Export decoded &image…", lambda: self.ask_export("image"))
        self._action(m, "Export latent &plot…", lambda: self.ask_export("plot"))
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        models = self.menuBar().addMenu("&Model")
        for name in BUNDLED_MODELS:
            self._action(models, f"Bundled: {name}", lambda n=name: self.open_bundled(n))
        data = self.menuBar().addMenu("&Data")
        for name in BUILTINS:
            self._action(data, f"Built-in: {name}", lambda n=name: self.open_dataset(n))

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(shortcut)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _build_status_bar(self) -> None:
        self.code_label = QLabel()
        self.model_label = QLabel()
        self.statusBar().addWidget(self.code_label, 1)
        self.statusBar().addPermanentWidget(self.model_label)
        self.session.codeChanged.connect(self._show_code)

    def _show_code(self) -> None:
        z = self.session.z
        shown = ", ".join(f"{v:+.2f}" for v in z[:8]) + (", …" if len(z) > 8 else "")
        self.code_label.setText(f"z = ({shown})")

    # -- errors ----------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """A non-blocking warning dialog; the app keeps running and nothing is changed."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message.split("\n\n")[0], parent=self)
        if "\n\n" in message:
            box.setDetailedText(message.split("\n\n", 1)[1])
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(f"{title}: {message.splitlines()[0]}", 10_000)
        self.errorShown.emit(message)

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
        model = VAE(s.model.config)
        model.load_state_dict(s.model.state_dict())

        def apply(codes: np.ndarray) -> None:
            if generation == self._encode_generation:  # a newer model/dataset supersedes it
                self.session.set_codes(codes)

        self._run(
            lambda: encode(model, images_to_tensor(s.dataset.images))[0],
            done=apply,
            error_title="Cannot encode the dataset",
        )

    # -- opening things --------------------------------------------------------------
    def open_bundled(self, name: str) -> bool:
        return self.open_checkpoint(
            bundled_model(name), source=f"bundled {name} model", remember=False
        )

    def open_checkpoint(
        self, path: str | Path, source: str | None = None, remember: bool = True
    ) -> bool:
        """Open a checkpoint; a matching built-in dataset is generated when needed."""
        path = Path(path)
        try:
            ckpt = load_checkpoint(path)
        except ExplorerError as e:
            self.show_error("Cannot open checkpoint", str(e))
            return False
        shape = tuple(ckpt.model.config.image_shape)
        ds = self.session.dataset
        builtin = ckpt.dataset.get("name") if ckpt.dataset.get("source") is None else None
        need_builtin = (
            ds is None
            or ds.image_shape != shape
            or (builtin in BUILTINS and ds.source is None and ds.name != builtin)
        )
        if need_builtin and builtin not in BUILTINS:
            have = (
                f"the open dataset {ds.name} has {ds.image_shape}" if ds else "no dataset is open"
            )
            self.show_error(
                "Model and data do not match",
                f"{path}: the model expects images of shape {shape} (channels, height, "
                f"width) but {have}. Open a dataset of that shape first.",
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
        if need_builtin:
            self.open_dataset(builtin, count=ckpt.dataset.get("num_images"))
        else:
            self._encode()
        if remember:
            self._remember(path)
        return True

    def open_dataset(self, spec: str | Path, count: int | None = None) -> TaskThread:
        """Load a dataset (built-in name or path) in the background, then encode it."""
        spec = str(spec)

        def apply(dataset: Dataset) -> None:
            m = self.session.model
            if m is not None and tuple(m.config.image_shape) != dataset.image_shape:
                self.show_error(
                    "Model and data do not match",
                    f"{dataset.source or dataset.name}: images of shape {dataset.image_shape} "
                    f"(channels, height, width), but the current model expects "
                    f"{tuple(m.config.image_shape)}. Open a model trained on such images.",
                )
                return
            skipped = dataset.extra.get("skipped")
            if skipped:
                self.statusBar().showMessage(
                    f"Skipped {len(skipped)} unreadable file(s), e.g. {skipped[0]}", 15_000
                )
            self.session.set_dataset(dataset)
            self._encode()
            if dataset.source:
                self._remember(Path(dataset.source))

        return self._run(load_dataset, spec, count, done=apply, error_title="Cannot open dataset")

    def open_path(self, path: Path) -> None:
        if path.suffix == ".safetensors":
            self.open_checkpoint(path)
        else:
            self.open_dataset(path)

    def ask_open_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open checkpoint", self._last_dir(), "Checkpoints (*.safetensors)"
        )
        if path:
            self._set_last_dir(path)
            self.open_checkpoint(path)

    def ask_open_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open dataset",
            self._last_dir(),
            "Datasets (*-ubyte *-ubyte.gz *.npz *.npy);;All files (*)",
        )
        if path:
            self._set_last_dir(path)
            self.open_dataset(path)

    def ask_open_dataset_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of images", self._last_dir())
        if path:
            self._set_last_dir(path)
            self.open_dataset(path)

    # -- saving and exporting --------------------------------------------------------
    def save_checkpoint(self, path: str | Path) -> bool:
        s = self.session
        if s.model is None:
            return False
        ckpt = Checkpoint(
            model=s.model,
            train_config=s.info.train_config,
            dataset=s.dataset.describe() if s.dataset else {},
            metrics=s.info.metrics,
            kl_per_dim=s.info.kl_per_dim,
        )
        try:
            save_checkpoint(path, ckpt)
        except ExplorerError as e:
            self.show_error("Cannot save checkpoint", str(e))
            return False
        s.info.path, s.info.unsaved, s.info.source = Path(path), False, Path(path).name
        self._remember(Path(path))
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def ask_save_checkpoint(self) -> bool:
        default = str(Path(self._last_dir()) / "model.safetensors")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save checkpoint as", default, "Checkpoints (*.safetensors)"
        )
        if not path:
            return False
        if not path.endswith(".safetensors"):
            path += ".safetensors"
        self._set_last_dir(path)
        return self.save_checkpoint(path)

    def export(self, what: str, path: str | Path) -> bool:
        try:
            if what == "image":
                img = self.decoder_view.image
                if img is None:
                    raise OSError("nothing decoded yet")
                pil = Image.fromarray(np.round(img * 255).astype(np.uint8))
                pil.resize(
                    (pil.width * _EXPORT_SCALE, pil.height * _EXPORT_SCALE),
                    Image.Resampling.NEAREST,
                ).save(path)
            elif not self.latent_view.grab().save(str(path)):
                raise OSError("Qt could not write the image")
        except (OSError, ValueError) as e:
            self.show_error("Cannot export", f"{path}: {e}")
            return False
        return True

    def ask_export(self, what: str) -> None:
        name = "decoded.png" if what == "image" else "latent-plot.png"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export PNG", str(Path(self._last_dir()) / name), "PNG images (*.png)"
        )
        if path:
            self._set_last_dir(path)
            self.export(what, path)

    # -- training --------------------------------------------------------------------
    def start_training(self) -> None:
        s = self.session
        if self.training is not None or s.dataset is None:
            return
        try:
            model_cfg = self.panel.model_config(s.dataset.image_shape).validate()
            train_cfg = self.panel.train_config().validate()
            from explorer.core.training import pick_device

            pick_device(train_cfg.device)
        except ExplorerError as e:
            self.show_error("Cannot start training", str(e))
            return
        model = build_model(model_cfg, seed=train_cfg.seed)
        self.training = TrainingThread(
            model, s.dataset, train_cfg, images_to_tensor(s.dataset.images), parent=self
        )
        self._training_first_epoch = True
        self.training.stepsReady.connect(self.panel.add_steps)
        self.training.epochReady.connect(self._epoch_done)
        self.training.trainingDone.connect(self._training_done)
        self.training.failed.connect(self._training_failed)
        self.training.finished.connect(self._training_thread_finished)
        self.panel.clear_curves()
        self.panel.set_running(True)
        self._encode_generation += 1  # codes now come from training
        self.training.start()

    def stop_training(self) -> None:
        if self.training is not None:
            self.training.stop()

    def _apply_snapshot(self, snap: Snapshot, final: bool) -> None:
        t = self.training
        if t is None:
            return
        p = snap.progress
        info = ModelInfo(
            train_config=t.config, source=f"trained, β = {t.config.beta:g}", unsaved=True
        )
        if p.val is not None:
            info.metrics = {"elbo": p.val.elbo, "recon": p.val.recon, "kl": p.val.kl}
            info.kl_per_dim = list(p.val.kl_per_dim)
        if snap.codes is not None:
            info.metrics["active_units"] = int(active_units(snap.codes).sum())
        if self._training_first_epoch:
            model = VAE(t.model.config)
            model.load_state_dict(snap.state)
            self.session.set_model(model, info)
            self._training_first_epoch = False
        else:
            self.session.load_weights(snap.state)
            self.session.info = info
            if final:
                self.session.modelChanged.emit()
        if snap.codes is not None:
            self.session.set_codes(snap.codes)

    def _epoch_done(self, snap: Snapshot) -> None:
        self.panel.add_epoch(snap.progress)
        self._apply_snapshot(snap, final=False)

    def _training_done(self, snap: Snapshot) -> None:
        self._apply_snapshot(snap, final=True)
        p = snap.progress
        self.panel.show_done(p)
        if p.status == "diverged":
            self.show_error("Training stopped", p.message)
        else:
            self.statusBar().showMessage(p.message, 10_000)
        self.trainingFinished.emit(p)

    def _training_failed(self, message: str) -> None:
        self.show_error("Training failed", message)

    def _training_thread_finished(self) -> None:
        self.training = None
        self.panel.set_running(False)

    # -- plane, model and data changes -----------------------------------------------
    def _plane_chosen(self) -> None:
        pca = self.plane_combo.currentIndex() == 0
        self.x_spin.setEnabled(not pca)
        self.y_spin.setEnabled(not pca)
        x, y = self.x_spin.value(), self.y_spin.value()
        if not pca and x == y:
            return
        self.session.set_plane("pca" if pca else "dims", x, y)

    def _model_changed(self) -> None:
        s = self.session
        d = s.latent_dim
        for w in (self.plane_combo, self.x_spin, self.y_spin):
            w.blockSignals(True)
        self.plane_combo.setCurrentIndex(0 if s.plane_choice[0] == "pca" else 1)
        self.plane_combo.setEnabled(d > 2)
        self.x_spin.setRange(0, max(d - 1, 0))
        self.y_spin.setRange(0, max(d - 1, 0))
        self.x_spin.setValue(s.plane_choice[1])
        self.y_spin.setValue(s.plane_choice[2])
        self.x_spin.setEnabled(d > 2 and s.plane_choice[0] == "dims")
        self.y_spin.setEnabled(d > 2 and s.plane_choice[0] == "dims")
        for w in (self.plane_combo, self.x_spin, self.y_spin):
            w.blockSignals(False)
        cfg = s.model.config
        beta = s.info.train_config.beta if s.info.train_config else float("nan")
        self.model_label.setText(
            f"{s.info.source} · latent {cfg.latent_dim} · β {beta:g} · "
            f"{cfg.likelihood} · decoding on CPU"
        )
        self.setWindowTitle(f"Latent Explorer — {s.info.source}")

    def _dataset_changed(self) -> None:
        ds = self.session.dataset
        self.colour_combo.blockSignals(True)
        self.colour_combo.clear()
        options = ["label"] + [f for f in (ds.factor_names or []) if f != "shape"]
        self.colour_combo.addItems([f"colour by {o}" for o in options])
        self.colour_combo.setVisible(len(options) > 1)
        self.colour_combo.blockSignals(False)
        self.latent_view.colour_by = "label"

    # -- settings, recent files, drag and drop ---------------------------------------
    def _last_dir(self) -> str:
        return str(self.settings.value("files/last_dir", str(Path.home())))

    def _set_last_dir(self, path: str) -> None:
        self.settings.setValue("files/last_dir", str(Path(path).parent))

    def recent_files(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        self.settings.setValue("files/recent", recent[:_MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.recent_files():
            self._action(self.recent_menu, p, lambda checked=False, p=p: self.open_path(Path(p)))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(Path(url.toLocalFile()))

    # -- closing ---------------------------------------------------------------------
    def closeEvent(self, event) -> None:
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
        self.shutdown()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop training and wait for every background thread."""
        if self.training is not None:
            self.training.stop()
            self.training.wait()
        for task in list(self._tasks):
            task.wait()
