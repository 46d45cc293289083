"""Saving the session's model: "Save as", the autosave after training, and its restore offer.

A trained model is never only in memory: when a training ends the window hands it to
`autosave()`, which writes it in the background to the autosave slot; during a run the
newest epoch goes there too, every `KEEP_EVERY_S`. Saving it with "Save as" (or
discarding it on close) empties the slot; a slot still full at the next start means the
model was lost with the app, and `offer_restore` asks to bring it back.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from explorer.autosave import Autosave, LeftBehind
from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.errors import ExplorerError
from explorer.core.external import ExternalModel
from explorer.logs import LOGGER
from explorer.ui.opener import Opener
from explorer.ui.services import Controller, Services
from explorer.ui.workers import TaskThread

log = logging.getLogger(LOGGER)
RESTORED = "restored: the last model trained, never saved"
# During a run its newest epoch is kept at most this often (seconds), at the end of an
# epoch: a crash or a kill mid-run loses the epoch under way and at most about this much
# before it. Each costs the window a copy of the weights on the GUI thread; the write
# runs in the background.
KEEP_EVERY_S = 60.0


class ModelSaver(Controller):
    def __init__(self, services: Services, autosave: Autosave | None = None):
        super().__init__(services)
        self.autosave_slot = autosave  # None: no autosave (e.g. windows made by tests)
        self._kept_at = 0.0  # time.monotonic() of the run's start or its last epoch kept
        self._keeping = False  # keep the run's epochs (until a write of them fails)
        self._writing = False  # an epoch's write is in flight

    def checkpoint(self) -> Checkpoint | None:
        """The session's model and what is known about it, with a copy of the weights."""
        s = self.session
        if s.model is None:
            return None
        return Checkpoint(
            model=s.model_snapshot(),
            train_config=s.info.train_config,
            # the data it was trained on, which the open dataset need not be
            dataset=s.info.trained_on or (s.dataset.describe() if s.dataset else {}),
            metrics=dict(s.info.metrics),
            kl_per_dim=list(s.info.kl_per_dim),
            history=list(s.info.history),
            world_size=s.info.world_size,  # kept: the global batch is the ranks' together
        )

    # -- "Save as" ---------------------------------------------------------------------
    def save(self, path: str | Path) -> bool:
        if isinstance(self.session.model, ExternalModel):
            self.show_error(
                "Cannot save checkpoint",
                f"{self.session.info.source}: a model trained elsewhere stays in its own file "
                "and is not saved again. Pictures and codes export from File ▸ Export.",
            )
            return False
        ckpt = self.checkpoint()
        if ckpt is None:
            return False
        try:
            save_checkpoint(path, ckpt)
        except ExplorerError as e:
            self.show_error("Cannot save checkpoint", str(e))
            return False
        if self.session.info.unsaved and self.autosave_slot is not None:
            self.autosave_slot.clear()  # the trained model is safe in `path` now
        self.session.update_info(path=Path(path), unsaved=False, source=Path(path).name)
        self.recent.remember(Path(path))
        self.show_status(f"Saved {path}")
        return True

    def ask_save(self) -> bool:
        path = self.recent.ask_save_path(
            self.parent_widget,
            "Save checkpoint as",
            "model.safetensors",
            "Checkpoints (*.safetensors)",
        )
        if not path:
            return False
        if not path.endswith(".safetensors"):
            path += ".safetensors"
        return self.save(path)

    # -- the autosave ------------------------------------------------------------------
    def run_started(self) -> None:
        self._kept_at, self._keeping = time.monotonic(), True

    def epoch_shown(self) -> None:
        """A run's newest epoch is the session's model: keep it if its turn has come."""
        # One write at a time: a failure is then told once, not for each of the epochs
        # that ended while the first write was failing.
        due = time.monotonic() - self._kept_at >= KEEP_EVERY_S
        if self._keeping and not self._writing and due:
            self._kept_at = time.monotonic()
            task = self.autosave()
            if task is not None:  # a failure is told once, not every minute of the run
                self._writing = True
                task.failed.connect(self._stop_keeping)
                task.finished.connect(self._written)

    def _written(self) -> None:
        self._writing = False

    def _stop_keeping(self) -> None:
        self._keeping = False

    def autosave(self, summary: str = "") -> TaskThread | None:
        """Keep the just-trained model in the autosave slot (written in the background).

        `summary`: what the run did, said first when the copy is written (where it is
        kept matters less than that)."""
        slot = self.autosave_slot
        if slot is None or not self.session.info.unsaved:
            return None

        def kept(path: Path | None) -> None:
            if path is not None:  # None: saved or discarded before the write ran
                where = f"A copy is kept in {path} until saved."
                self.show_status(f"{summary} {where}" if summary else where)

        return self.run_task(
            slot.write,
            self.checkpoint(),
            slot.ticket(),
            done=kept,
            error_title="Cannot keep a copy of the trained model",
            write=True,
        )

    def discard(self) -> None:
        """The user chose not to keep the trained model."""
        if self.autosave_slot is not None:
            self.autosave_slot.clear()

    def offer_restore(self, opener: Opener) -> QMessageBox | None:
        """If a model trained in an app that has ended was never saved, ask (without
        blocking) to restore it. Only slots of ended apps are offered (see autosave)."""
        found = self.autosave_slot.left_behind() if self.autosave_slot else None
        if found is None:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore the last trained model?",
            "A model trained in an earlier session was never saved (if the app ended "
            "during training: the last of its epochs kept). Restore it? "
            f"(A copy is kept in {found.path}.)",
            parent=self.parent_widget,
        )
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        restore.setObjectName("restoreButton")
        discard = box.addButton("Discard it", QMessageBox.ButtonRole.DestructiveRole)
        discard.setObjectName("discardButton")
        box.addButton("Ask next time", QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button) -> None:
            if button is discard:
                found.forget()
            elif button is restore:
                self._restore(found, opener)
            else:
                found.keep()

        box.buttonClicked.connect(answered)
        box.open()
        return box

    def _restore(self, found: LeftBehind, opener: Opener) -> None:
        """Open a left-behind model and take its slot over; a file that cannot be read is
        moved aside, so that it is not offered at every start."""
        title = "Cannot restore the last trained model"
        if self.session.info.unsaved:
            found.keep()
            self.show_error(
                title,
                "The model trained in this session has not been saved: save it first. "
                f"The earlier one stays in {found.path} and is offered at the next start.",
            )
            return
        try:
            ckpt = opener.read_checkpoint(found.path)
        except ExplorerError as e:
            try:
                moved = f"It was moved to {found.set_aside()} and will not be offered again."
            except OSError as moving:
                found.keep()
                moved = f"It could not be moved aside either ({moving})."
            self.show_error(title, f"{e}. {moved}")
            return
        # unsaved: closing still asks to save it
        if not opener.show_checkpoint(ckpt, found.path, RESTORED, remember=False, unsaved=True):
            found.keep()  # its data is missing: offered again, once the user has seen why
            return
        try:
            self.autosave_slot.adopt(found)
        except ExplorerError as e:  # it stays where it was, offered again at a later start
            found.keep()
            log.warning("%s", e)
