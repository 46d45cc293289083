"""The main window: wires the session, the views, the training panel and the workers.

Its one-off background jobs run through explorer.ui.background_tasks; closing the window
stops training and lets them end (see `shutdown`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.autosave import Autosave
from explorer.core.errors import ExplorerError
from explorer.core.run_folder import RUN_FILE
from explorer.core.sweep import MANIFEST, load_sweep
from explorer.core.training import Progress
from explorer.logs import LOGGER
from explorer.ui import window_layout
from explorer.ui.actions import shortcut_text
from explorer.ui.background_tasks import BackgroundTasks
from explorer.ui.busy_indicator import BusyIndicator
from explorer.ui.class_view import ClassBar, ClassGridView
from explorer.ui.compare_view import CompareView
from explorer.ui.data_point_view import DataPointView
from explorer.ui.data_warning import DataMismatchBanner
from explorer.ui.dataset_encoder import DatasetEncoder
from explorer.ui.decoder_view import DecoderView
from explorer.ui.direction_view import DirectionView
from explorer.ui.exporter import Exporter
from explorer.ui.factors_view import FactorsView
from explorer.ui.first_run_hint import show_once
from explorer.ui.gui_thread_gc import GuiThreadCollector
from explorer.ui.inpainting_view import InpaintingView
from explorer.ui.interpolation_view import InterpolationView
from explorer.ui.kl_view import KLView
from explorer.ui.latent_view import LatentView
from explorer.ui.menus import build_menu_bar
from explorer.ui.model_saver import ModelSaver
from explorer.ui.opener import Opener
from explorer.ui.plane_bar import PlaneBar
from explorer.ui.recent_files import RecentFiles
from explorer.ui.run_follower import RunFollower
from explorer.ui.selection_export import SelectionExporter
from explorer.ui.selection_view import SelectionView
from explorer.ui.services import Services
from explorer.ui.sliders import LatentSliders
from explorer.ui.state import Session
from explorer.ui.status_bar import StatusBar
from explorer.ui.sweep_bar import SweepBar
from explorer.ui.theme import hint_label
from explorer.ui.training_controller import TrainingController, run_summary
from explorer.ui.training_panel import TrainingPanel
from explorer.ui.training_settings import TrainingSettings
from explorer.ui.traversal_view import TraversalView
from explorer.ui.uncertainty import UncertaintyOverlay
from explorer.ui.workers import LatestJob, TaskThread

log = logging.getLogger(LOGGER)


class MainWindow(QMainWindow):
    errorShown = Signal(str)  # every message shown to the user in an error dialog
    closed = Signal()  # the window was closed (not when closing was cancelled)

    def __init__(self, settings: QSettings | None = None, autosave: Autosave | None = None):
        """`autosave`: where a trained model is kept until saved (none: not kept)."""
        super().__init__()
        self.setWindowTitle("Latent Explorer")
        self.settings = settings or QSettings()
        # cycles collected on this thread only, never in a worker (gui_thread_gc's why)
        self._collector = GuiThreadCollector(self)
        self.session = Session(self)
        self.training_settings = TrainingSettings(self)  # what Train trains, the panel's
        self._autosave = autosave
        self._closing = False
        self._run_summary = ""  # what the last run did, in words (the status bar's)
        self._build_views()
        self._build_controllers()
        self.train_action = build_menu_bar(self)
        self.setStatusBar(StatusBar(self.session, self.trainer, self.training_settings))
        self.statusBar().addPermanentWidget(self.follower.label)
        self.panel.restore_settings(self.settings)
        self.first_run_hint = show_once(
            self.settings, self.latent_view, shortcut_text(self.train_action)
        )
        self.setAcceptDrops(True)
        got_geometry, got_state = window_layout.restore(self, self.settings)
        if not got_geometry:
            self.resize(window_layout.initial_size(self.screen().availableGeometry()))
        if not got_state:
            window_layout.arrange_docks(self, self.training_dock, self.insight_dock)
        window_layout.keep_dock_shares(self, self.training_dock, self.insight_dock)

    # -- layout ----------------------------------------------------------------------
    def _build_views(self) -> None:
        s = self.session
        # made first, so its slot is the first to run when the code moves: the decoded
        # image is painted before the marker, the sliders and the other views follow
        self.decoder_view = DecoderView(s)
        self.latent_view = LatentView(s)
        self.busy = BusyIndicator()  # what runs in the background: opening, encoding
        self.busy.float_over(self.latent_view)
        self.tasks = BackgroundTasks(self.busy, self.show_error, self.show_status, parent=self)
        self.sliders = LatentSliders(s)
        self.panel = TrainingPanel(s, self.training_settings)
        self.setCentralWidget(self._build_centre())
        self.training_dock = self._build_training_dock()
        self.insight_dock = self._build_insight_dock()
        self.trainer = TrainingController(
            s, self.panel, self.training_settings, self.show_error, parent=self
        )
        self.trainer.runningChanged.connect(self._training_running)
        self.trainer.finished.connect(self._run_ended)
        s.modelChanged.connect(self._model_changed)
        s.pinnedChanged.connect(
            lambda p: self.pin_label.setText(
                "Pinned · click again or press Esc to release"
                if p
                else "Hover to decode · click to pin · Esc to release"
            )
        )

    def _build_centre(self) -> QSplitter:
        """The latent plot with its bars at the left, the decoded image and sliders right."""
        s = self.session
        self.plane_bar = PlaneBar(s, self.latent_view)
        self.plane_bar.points.restore(self.settings)  # the user's point size and opacity
        self.sweep_bar = SweepBar(s)
        self.sweep_bar.modelChosen.connect(lambda p: self.open_checkpoint(p, remember=False))
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addWidget(self.sweep_bar)
        lv.addWidget(self.plane_bar)
        lv.addWidget(DataMismatchBanner(s))
        lv.addWidget(self.latent_view, 1)

        self.pin_label = hint_label(QLabel("Hover to decode · click to pin · Esc to release"))
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(4, 4, 4, 4)
        self.class_bar = ClassBar(s)
        rv.addWidget(self.class_bar)
        rv.addWidget(self.decoder_view, 3)
        rv.addWidget(self.pin_label)
        rv.addWidget(self.sliders, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        # The plot takes two thirds of any width: the decoded image is square, and a
        # wider image column only framed it with empty space.
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 1)
        split.setSizes([2, 1])
        return split

    def _build_training_dock(self) -> QDockWidget:
        dock = QDockWidget("Training", self, objectName="trainingDock")
        # The form scrolls where the screen is too low for it, rather than holding the
        # window taller than the screen.
        self.panel.setMinimumWidth(310)
        dock.setWidget(_scrolling(self.panel))
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        # the training column takes the window's full height, beside the insight views
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_insight_dock(self) -> QDockWidget:
        """The insight views ("What the model learned"), a tab each, bound to the plot."""
        s = self.session
        self.kl_view = KLView(s)
        self.traversal_view = TraversalView(s)
        tabs = QTabWidget(objectName="insightTabs")
        tabs.addTab(self.traversal_view, "Traversals")
        tabs.addTab(self.kl_view, "KL / units")
        self.interpolation_view = InterpolationView(s)
        tabs.addTab(self.interpolation_view, "Interpolation")
        self.data_point_view = DataPointView(s)
        tabs.addTab(self.data_point_view, "Data point")
        self.factors_view = FactorsView(s)
        tabs.addTab(self.factors_view, "Factors")
        self.inpainting_view = InpaintingView(s)
        tabs.addTab(self.inpainting_view, "Inpainting")
        self.class_grid = ClassGridView(s)
        tabs.addTab(self.class_grid, "Classes")
        # only a conditional model has classes to show: the tab is there only then
        s.modelChanged.connect(
            lambda: tabs.setTabVisible(
                tabs.indexOf(self.class_grid), s.model is not None and s.model.conditional
            )
        )
        self.compare_view = CompareView(s, self.tasks.run)
        tabs.addTab(self.compare_view, "Compare")
        self.selection_view = SelectionView(self.latent_view)
        tabs.addTab(self.selection_view, "Selection")
        self.direction_view = DirectionView(self.latent_view, self.selection_view.selection)
        tabs.addTab(self.direction_view, "Direction")
        self.class_bar.gridRequested.connect(lambda: tabs.setCurrentWidget(self.class_grid))

        def show_selected() -> None:  # a lasso shows its images, unless A and B are being set
            if tabs.currentWidget() is not self.direction_view:
                tabs.setCurrentWidget(self.selection_view)

        self.selection_view.tool.drawn.connect(show_selected)
        self.factors_view.factorChosen.connect(self.plane_bar.show_factor)
        self.uncertainty = UncertaintyOverlay(s, self.latent_view)
        self.data_point_view.subsetChanged.connect(self.uncertainty.set_subset_size)
        self.latent_view.pointInspected.connect(lambda: tabs.setCurrentWidget(self.data_point_view))
        self.latent_view.codePicked.connect(self.interpolation_view.pick)
        self.latent_view.codePicked.connect(lambda: tabs.setCurrentWidget(self.interpolation_view))
        self.interpolation_view.pathChanged.connect(self.latent_view.set_path)
        insight = QDockWidget("What the model learned", self, objectName="insightDock")
        insight.setWidget(tabs)
        insight.setFeatures(self.training_dock.features())
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, insight)
        return insight

    def _build_controllers(self) -> None:
        """What the menus, the buttons and drops act through: opening, saving, exporting."""
        self.recent = RecentFiles(self.settings, QMenu("Recent files", self), self.open_path)
        services = Services(
            parent=self,
            session=self.session,
            recent=self.recent,
            show_error=self.show_error,
            show_status=self.show_status,
            run_task=self.tasks.run,
            notify=self.errorShown.emit,
            refuse_while_training=self._refuse_while_training,
        )
        self.encoder = DatasetEncoder(services)
        self.opener = Opener(services, self.training_settings, self.encoder)
        self.saver = ModelSaver(services, self._autosave)
        self.follower = RunFollower(services, self.panel, self.encoder.drop_pending_encodes)
        self.trainer.runningChanged.connect(lambda on: self.follower.stop() if on else None)
        self.trainer.epochShown.connect(self.saver.epoch_shown)
        self.exporter = Exporter(
            services,
            {
                "image": self.decoder_view,
                "plot": self.latent_view,
                "traversals": self.traversal_view,
                "kl": self.kl_view,
                "interpolation": self.interpolation_view,
                "data point": self.data_point_view,
                "factors": self.factors_view,
                "classes": self.class_grid,
                "inpainting": self.inpainting_view,
                "compare": self.compare_view,
                "loss": self.panel.loss_plot,
            },
        )
        self.selection_exporter = SelectionExporter(services, self.selection_view.selection)
        self.traversal_view.exportRequested.connect(lambda: self.exporter.ask_export("traversals"))

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

    # -- opening things (ui/opener.py) -----------------------------------------------
    def open_bundled(self, name: str) -> bool:
        return self.opener.open_bundled(name)

    def open_checkpoint(
        self, path: str | Path, source: str | None = None, remember: bool = True
    ) -> bool:
        return self.opener.open_checkpoint(path, source, remember)

    def open_dataset(
        self, spec: str | Path, count: int | None = None, new_model_if_needed: bool = False
    ) -> TaskThread | None:
        return self.opener.open_dataset(spec, count, new_model_if_needed)

    def open_path(self, path: Path) -> None:
        """A sweep or run folder, a checkpoint or a dataset (dropped, or from Recent files)."""
        if path.is_dir() and (path / MANIFEST).exists():
            self.open_sweep(path)
        elif path.is_dir() and (path / RUN_FILE).exists():
            self.follower.follow(path)
        else:
            self.opener.open_path(path)

    def open_sweep(self, folder: str | Path) -> bool:
        """Open a sweep: its model nearest a weight of 1 first, the others on the slider."""
        try:
            folder, models = load_sweep(folder)
        except ExplorerError as e:
            self.show_error("Cannot open sweep", str(e))
            return False
        first = min(models, key=lambda m: abs(m.value - 1.0))
        if not self.open_checkpoint(folder / first.file, remember=False):
            return False
        self.sweep_bar.show_sweep(folder, models)
        self.recent.remember(folder)
        return True

    def ask_open_sweep(self) -> None:
        if self._refuse_while_training("a sweep"):
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Open a β sweep folder", self.recent.last_dir()
        )
        if folder:
            self.recent.set_last_dir(folder)
            self.open_sweep(folder)

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
            self._run_summary = ""
            self.encoder.drop_pending_encodes()
            self.saver.run_started()
        elif not self._closing:  # ended, stopped, diverged or failed: keep it until saved
            self.saver.autosave(self._run_summary)

    def _run_ended(self, p: Progress) -> None:
        self._run_summary = run_summary(p)
        self.show_status(self._run_summary)

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
        self.tasks.stop_starting()
        self.shutdown()
        if discard:  # after shutdown, so no autosave write is still in flight
            self.saver.discard()
        self.panel.save_settings(self.settings)
        window_layout.save(self, self.settings)
        super().closeEvent(event)
        self.closed.emit()

    def shutdown(self) -> None:
        """Stop training and let the background work end: a write a while, anything else
        a moment (background_tasks). What still runs then (a model's factory that never
        returns, a file that never ends) is abandoned: its thread is left to the process,
        which ends without it."""
        self.trainer.shutdown()
        self.tasks.end(self.findChildren(LatestJob))
        self._collector.stop()


def _scrolling(panel: QWidget) -> QScrollArea:
    """`panel` in a frameless area that scrolls vertically when it is lower than the panel."""
    area = QScrollArea(objectName=f"{panel.objectName() or 'panel'}Scroll")
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # as wide as the panel and its scroll bar: it never needs to scroll sideways
    area.setMinimumWidth(panel.minimumWidth() + area.verticalScrollBar().sizeHint().width())
    return area
