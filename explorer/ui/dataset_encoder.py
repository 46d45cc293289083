"""Encoding the open dataset with the current model, in the background.

Its count shows on the busy indicator; a newer model or dataset stops a running encode.
The codes of a saved model on a dataset file are kept on disk (core/codes_cache.py), so
opening the pair again skips the encode, and those of the last few saved models on the
open data in memory, so going back to one (a sweep's β slider) shows it at once. The
opener asks for an encode whenever it shows a model or a dataset; the window drops a
pending one when a run's codes come from elsewhere (training, a followed run).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from explorer.core.codes_cache import CodesCache, Encoded, encode_pair
from explorer.core.data import Dataset
from explorer.core.errors import ExplorerError
from explorer.core.external import ExternalModel
from explorer.core.metrics import dataset_labels, kl_per_dim
from explorer.core.model import images_to_tensor
from explorer.ui.services import Controller, Services
from explorer.ui.state import ModelInfo
from explorer.ui.workers import TaskThread

_CODES_KEPT = 8  # models whose codes are kept: a sweep's worth, a few MB each at 60k × 10


def _file_identity(info: ModelInfo) -> tuple | None:
    """A saved model's file as it is now (a file rewritten since is another model), and
    how it was read (a model from elsewhere may be read with other adapters)."""
    if info.path is None or info.unsaved:
        return None
    try:
        st = Path(info.path).stat()
    except OSError:
        return None
    return str(Path(info.path).resolve()), st.st_mtime_ns, st.st_size, info.source


class DatasetEncoder(Controller):
    def __init__(self, services: Services):
        super().__init__(services)
        self._encode_generation = 0
        # Codes of saved models already encoded on the open data, newest last, so going
        # back to a model (a sweep's β slider) shows it at once:
        # (file identity, dataset, mu, logvar)
        self._encoded: list[tuple[tuple, Dataset, np.ndarray, np.ndarray]] = []
        self.codes_cache = CodesCache()  # ... and on disk, for the next start
        self._encoding: tuple[TaskThread, threading.Event] | None = None  # the running encode

    def drop_pending_encodes(self) -> None:
        """Codes come from elsewhere now (training): a pending encode must not land."""
        self._encode_generation += 1
        self._stop_encoding()

    def _stop_encoding(self) -> None:
        """Stop the running encode (its codes are of no use any more), freeing the CPU."""
        if self._encoding is not None:
            task, stop = self._encoding
            stop.set()
            task.abandon()  # (its busy indicator goes)
            self._encoding = None

    def encode(self) -> None:
        """Re-encode the dataset with the current model, in the background (or recall the
        codes of a saved model encoded before on the same data)."""
        s = self.session
        if s.model is None or s.dataset is None:
            return
        if tuple(s.model.config.image_shape) != s.dataset.image_shape:
            return
        self._encode_generation += 1
        generation = self._encode_generation
        self._stop_encoding()
        path = _file_identity(s.info)
        for p, data, mu, logvar in self._encoded:
            if path is not None and p == path and data is s.dataset:
                self._apply_codes(mu, logvar)
                return
        model = s.model_snapshot()
        dataset = s.dataset  # this data, whatever is opened next

        def apply(result: Encoded) -> None:
            if generation != self._encode_generation:  # a newer model/dataset supersedes it
                return
            codes = (result.mu, result.logvar)
            if path is not None:
                kept = [e for e in self._encoded if e[1] is dataset and e[0] != path]
                self._encoded = [*kept[-(_CODES_KEPT - 1) :], (path, dataset, *codes)]
            self._apply_codes(*codes)
            if result.cached:
                self.show_status(f"Codes of {len(result.mu):,} images read from the cache")

        images = images_to_tensor(dataset.images)
        try:
            labels = dataset_labels(model, dataset)
        except ExplorerError as e:
            self.show_error("Cannot encode the dataset", str(e))
            return
        # kept on disk for a model from a checkpoint of ours, not one from elsewhere,
        # whose factory's code may change while its weights file does not
        saved = path is not None and not isinstance(model, ExternalModel)
        stop = threading.Event()
        task = self.run_task(
            encode_pair,
            model,
            images,
            labels,
            s.info.path if saved else None,
            s.info.source,
            dataset.source,
            self.codes_cache,
            stop,
            done=apply,
            error_title="Cannot encode the dataset",
            busy=f"Encoding {len(images):,} images",
        )

        def ended() -> None:
            stop.set()  # (cancelled from the busy indicator: the thread stops too)
            if self._encoding is not None and self._encoding[0] is task:
                self._encoding = None

        task.finished.connect(ended)
        self._encoding = (task, stop)

    def _apply_codes(self, mu: np.ndarray, logvar: np.ndarray) -> None:
        s = self.session
        if not s.info.kl_per_dim and not s.model.deterministic:  # a checkpoint from elsewhere
            s.update_info(kl_per_dim=kl_per_dim(mu, logvar).tolist())
        s.set_codes(mu, logvar)
