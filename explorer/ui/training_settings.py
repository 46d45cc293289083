"""The settings the window trains with: the model chosen, and how to train it.

One small QObject holding two frozen dataclasses, the core's `ModelSettings` and
`TrainConfig`, each replaced whole and announced by its own signal. The training panel's
widgets are bound to it both ways; what trains (the training controller), what makes an
untrained model (the opener) and what says where training runs (the status bar) read it,
never the widgets, so a setting can come from elsewhere (a model shown, a settings file)
without them knowing.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from explorer.core.config import TrainConfig
from explorer.core.kind_table import weights_on_switch
from explorer.core.kinds import ModelSettings


class TrainingSettings(QObject):
    modelChanged = Signal(object)  # the ModelSettings now: the kind, latent size, network
    trainChanged = Signal(object)  # the TrainConfig now: β, the optimiser, the device, …

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._model = ModelSettings()
        self._train = TrainConfig()

    @property
    def model(self) -> ModelSettings:
        """The model Train makes (core.kinds.model_config makes it for a dataset)."""
        return self._model

    @property
    def train(self) -> TrainConfig:
        """How Train trains it (not yet validated: `TrainConfig.validate`)."""
        return self._train

    def update_model(self, **changes) -> None:
        """Change `ModelSettings` fields by name; announced only when something changed."""
        new = replace(self._model, **changes)
        if new != self._model:
            self._model = new
            self.modelChanged.emit(new)

    def choose_kind(self, kind: str) -> None:
        """The user picks another kind: its weights start at the paper's values where
        they differ from the last kind's (β 6 for the β-TCVAE, γ 10 for the FactorVAE),
        and keep what the user set where both start alike."""
        switched = weights_on_switch(self._model.kind, kind)
        self.update_model(kind=kind)
        self.update_train(**switched)

    def update_train(self, **changes) -> None:
        """Change `TrainConfig` fields by name; announced only when something changed."""
        new = replace(self._train, **changes)
        if new != self._train:
            self._train = new
            self.trainChanged.emit(new)
