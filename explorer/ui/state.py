"""The session: what the user is looking at, as one QObject with signals and no widgets.

Views receive it, read from it and call its setters; they never reach into each other.
It holds the model used for decoding (a CPU copy, never the one being trained), the
dataset, its posteriors (means and log-variances), the latent plane, the current code
z and the data point in focus.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from explorer.core.code_spans import code_spans
from explorer.core.config import TrainConfig
from explorer.core.data import Dataset
from explorer.core.history import Epoch
from explorer.core.kind_table import KIND_TABLE
from explorer.core.metrics import active_units
from explorer.core.model import LatentModel
from explorer.core.projection import Plane, dims_plane, pca_plane


@dataclass
class ModelInfo:
    """What is known about the current model besides its weights."""

    train_config: TrainConfig | None = None
    metrics: dict = field(default_factory=dict)
    kl_per_dim: list[float] = field(default_factory=list)
    path: Path | None = None  # file it was loaded from or last saved to
    unsaved: bool = False  # trained in this session and not saved since
    source: str = ""  # how it came to be: "bundled digits", a file name, "trained"
    trained_on: dict = field(default_factory=dict)  # Dataset.describe() of its data; {}: unknown
    history: tuple[Epoch, ...] = ()  # its training, one entry per epoch, where recorded
    world_size: int = 1  # processes that trained it together (torchrun), from its file
    # its training is being drawn as it happens (trained in this window, or a followed
    # run): the live curves show it, not the recorded history
    live: bool = False


class Session(QObject):
    modelChanged = Signal()  # a different model (new weights or config)
    datasetChanged = Signal()
    codesChanged = Signal()  # the dataset's encoded means were replaced
    planeChanged = Signal()
    # the user moved the code z (set_z, hover); a new model, which may reset z, is told
    # by modelChanged alone
    codeChanged = Signal()
    # the same code decodes differently: a new model, new weights or another class
    # (model_version grew). Views of the decoded z listen to both; views that decode
    # something else (a data image, a path) to this one, not to every mouse move.
    decoderChanged = Signal()
    pinnedChanged = Signal(bool)
    focusChanged = Signal()  # a different data point is in focus (or none)
    conditionChanged = Signal(int)  # a conditional model now decodes another class
    # the points are coloured by another factor (or the label, or a quantity), or the
    # quantity's values arrived
    colourByChanged = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.model: LatentModel | None = None
        self.info = ModelInfo()
        self.dataset: Dataset | None = None
        self.codes: np.ndarray | None = None  # (N, d) posterior means of the dataset
        self.logvars: np.ndarray | None = None  # (N, d) their log-variances, log σ²
        self.active: np.ndarray | None = None  # (d,) bool: the active units of `codes`
        # (d, 2) each dimension's low and high end, what sliders and traversals cover: the
        # prior's ±3, or where the codes lie for a kind without a prior (core.code_spans)
        self.spans = np.zeros((0, 2))
        self.focus: int | None = None  # the data point hovered or clicked last (an index)
        self.plane: Plane | None = None
        self.plane_choice: tuple[str, int, int] = ("dims", 0, 1)  # ("pca" | "dims", x, y)
        self.z = np.zeros(0)  # (d,) the code being shown
        self.pinned = False
        # what colours the data points: "label", a factor's name or a quantity of
        # core.per_point (its values, (N,), in colour_values once worked out)
        self.colour_by = "label"
        self.colour_values: np.ndarray | None = None
        self._snapshot: tuple[int, LatentModel] | None = None  # (model_version, its copy)
        # the model shown before the current one (to compare with), and what was known of it
        self.previous: tuple[LatentModel, ModelInfo] | None = None
        self.model_version = 0  # grows with every new model or new weights

    # -- model and data ---------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim if self.model is not None else 0

    def set_model(self, model: LatentModel, info: ModelInfo) -> None:
        """Show `model` (moved to the CPU, eval mode); its codes arrive via set_codes."""
        if self.model is not None and self.model is not model:
            self.previous = (self.model, self.info)
        self.model = model.to("cpu").eval()
        self.model_version += 1
        self.info = info
        self.codes = self.logvars = self.active = self.colour_values = None
        self.spans = code_spans(None, self.latent_dim, prior=True)  # until its codes are in
        if self.latent_dim != len(self.z):
            self.z = np.zeros(self.latent_dim)
            self.plane_choice = ("pca", 0, 1) if self.latent_dim > 2 else ("dims", 0, 1)
        self._fit_plane()
        self.planeChanged.emit()
        self.modelChanged.emit()
        self.decoderChanged.emit()

    def load_weights(
        self, state: dict[str, torch.Tensor], info: ModelInfo | None = None, final: bool = False
    ) -> None:
        """Swap in a weight snapshot of the same model (a training epoch's), with what is
        known of the model now (`info`; None: unchanged). `final`: a run's last weights,
        so the views of the model's figures (modelChanged) show them; an epoch's do not,
        every epoch."""
        if self.model is None:
            return
        with torch.no_grad():
            self.model.load_state_dict(state)
        self.model_version += 1
        if info is not None:
            self.info = info
        self.decoderChanged.emit()
        if final:
            self.modelChanged.emit()

    def update_info(self, **changes) -> None:
        """Amend what is known of the current model (`ModelInfo`'s fields by name): its
        figures once its codes are in, the file it was saved to. Emits nothing: what
        shows them reads them with the next modelChanged, or is told by the caller."""
        self.info = replace(self.info, **changes)

    def set_dataset(self, dataset: Dataset) -> None:
        """Show `dataset` (its codes arrive via set_codes), its points coloured by label."""
        self.dataset = dataset
        self.codes = self.logvars = self.active = self.colour_values = None
        self.colour_by = "label"  # another data's factors may not be this one's
        self.set_focus(None)
        self.datasetChanged.emit()

    def set_codes(
        self,
        codes: np.ndarray,
        logvars: np.ndarray,
        active: np.ndarray | None = None,
        pca: Plane | None = None,
    ) -> None:
        """The dataset's posteriors q(z|x): means and log-variances, (N, d) each; `active`,
        their active units, and `pca`, their principal plane, when already known (else
        worked out here, once for all views).

        A PCA plane is refitted to the means.

        Only codesChanged is emitted: listeners redraw the codes on the (refitted) plane
        once, rather than once for the plane and again for the codes.
        """
        self.codes, self.logvars = codes, logvars
        self.colour_values = None  # (a quantity of the old codes)
        self.active = active_units(codes) if active is None else active
        prior = self.model is None or KIND_TABLE[self.model.kind].prior
        self.spans = code_spans(codes, codes.shape[1], prior)
        if self.plane_choice[0] == "pca":
            self._fit_plane(pca)
        self.codesChanged.emit()

    # -- plane and code --------------------------------------------------------------
    def set_plane(self, kind: str, x: int = 0, y: int = 1) -> None:
        self.plane_choice = (kind, x, y)
        self._fit_plane()
        self.planeChanged.emit()

    def _fit_plane(self, pca: Plane | None = None) -> None:
        """The plane of `plane_choice`; `pca`, the codes' principal plane if known."""
        d = self.latent_dim
        if d == 0:
            return
        kind, x, y = self.plane_choice
        if kind == "pca" and self.codes is not None and d > 2:
            self.plane = pca if pca is not None else pca_plane(self.codes)
        elif kind == "pca":
            self.plane = dims_plane(d, 0, 1) if d > 1 else dims_plane(1)
        else:
            self.plane = dims_plane(d, x, y) if d > 1 else dims_plane(1)

    def set_z(self, z: np.ndarray) -> None:
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (self.latent_dim,):
            raise ValueError(
                f"code of shape {z.shape} for a model of latent size {self.latent_dim}"
            )
        if not np.isfinite(z).all():  # (a caller's code: the views' own are always finite)
            raise ValueError(f"code {z} holds NaN or infinite values")
        if np.array_equal(z, self.z):
            return
        self.z = z
        self.codeChanged.emit()

    def hover(self, point: np.ndarray) -> None:
        """The cursor is at plane point `point`: follow it unless the code is pinned."""
        if not self.pinned and self.plane is not None:
            self.set_z(self.plane.to_latent(point, self.z))

    def set_pinned(self, pinned: bool, point: np.ndarray | None = None) -> None:
        if point is not None and self.plane is not None:
            self.set_z(self.plane.to_latent(point, self.z))
        if pinned != self.pinned:
            self.pinned = pinned
            self.pinnedChanged.emit(pinned)

    def set_colour_by(self, what: str) -> None:
        """Colour the data points by `what`: "label", one of the data's factor names or a
        quantity of core.per_point (whose values arrive by set_colour_values)."""
        if what != self.colour_by:
            self.colour_by = what
            self.colour_values = None
            self.colourByChanged.emit()

    def set_colour_values(self, values: np.ndarray) -> None:
        """The values (N,) of the quantity the points are coloured by."""
        self.colour_values = values
        self.colourByChanged.emit()

    def set_focus(self, index: int | None) -> None:
        """Put data point `index` (or none) in focus: its posterior is drawn and inspected."""
        if index != self.focus:
            self.focus = index
            self.focusChanged.emit()

    def set_condition(self, c: int) -> None:
        """Decode class `c` from now on (a conditional model; others have no class)."""
        m = self.model
        if m is None or not m.conditional or c == m.condition:
            return
        if not 0 <= c < m.config.classes:
            raise ValueError(f"class {c} for a model of {m.config.classes} classes")
        m.condition = c
        self.model_version += 1  # background copies must carry the class too
        self.conditionChanged.emit(c)
        self.decoderChanged.emit()

    def class_names(self) -> list[str]:
        """The names of a conditional model's classes (the data's, else numbers)."""
        if self.model is None or not self.model.conditional:
            return []
        k = self.model.config.classes
        names = self.dataset.class_names if self.dataset is not None else None
        return list(names[:k]) if names and len(names) >= k else [str(i) for i in range(k)]

    def model_snapshot(self) -> LatentModel:
        """A copy of the model for background jobs; never changed, shared until replaced."""
        if self._snapshot is None or self._snapshot[0] != self.model_version:
            self._snapshot = (self.model_version, self.model.copy())
        return self._snapshot[1]

    # -- decoding --------------------------------------------------------------------
    def decode(self, z: np.ndarray | None = None) -> np.ndarray:
        """The decoded mean image of z (default: the current code) as float32 in [0, 1].

        Returns (H, W) for one channel, (H, W, C) otherwise.
        """
        if self.model is None:
            raise RuntimeError("no model")
        z = self.z if z is None else z
        with torch.inference_mode():
            img = self.model.decode(torch.as_tensor(z, dtype=torch.float32)[None])[0]
        img = img.permute(1, 2, 0).numpy()
        return img[..., 0] if img.shape[2] == 1 else img


def active_dims(session: Session) -> np.ndarray | None:
    """(d,) bool: the active dimensions of the current codes, or None before they exist."""
    codes = session.codes
    if codes is None or codes.shape[1:] != (session.latent_dim,):
        return None
    return session.active
