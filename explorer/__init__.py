"""Latent Explorer: train a VAE / β-VAE and see what it learned.

`explorer.core` is plain PyTorch + NumPy (no Qt): datasets, the model, the training
loop, checkpoints, latent planes and metrics. `explorer.ui` is the Qt desktop app on
top of it, and `explorer.cli` the headless front end.

The names in `__all__` are the Python API (docs/api.md): `explore` opens the window on
a model and images held in memory; the others open data, build, train, evaluate, save
and load models without a window. They are loaded when first used, so `import explorer`
stays cheap (no torch, no Qt) for the command line and for tools that only look.
"""

from __future__ import annotations

import importlib
import logging as _logging

__version__ = "0.1.0"

# A library stays quiet until a front end asks for a log file (explorer.logs).
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

# public name -> the module that defines it (the same name there unless noted in _RENAMED)
_EXPORTS = {
    "explore": "explorer.api",
    "ExplorerWindow": "explorer.api",
    "as_dataset": "explorer.core.in_memory",
    "adapt_model": "explorer.core.in_memory",
    "Dataset": "explorer.core.data",
    "load_dataset": "explorer.core.data",
    "ModelSettings": "explorer.core.kinds",
    "model_config": "explorer.core.kinds",
    "build_model": "explorer.core.kinds",
    "ModelConfig": "explorer.core.config",
    "TrainConfig": "explorer.core.config",
    "train": "explorer.core.training",
    "Progress": "explorer.core.training",
    "evaluate": "explorer.core.metrics",
    "Report": "explorer.core.metrics",
    "Checkpoint": "explorer.core.checkpoint",
    "load_checkpoint": "explorer.core.checkpoint",
    "save_checkpoint": "explorer.core.checkpoint",
    "ExplorerError": "explorer.core.errors",
    "DataError": "explorer.core.errors",
    "CheckpointError": "explorer.core.errors",
    "ConfigError": "explorer.core.errors",
}
# The API's name for a function whose own name says less out of context: the core's
# `report` is what `python -m explorer evaluate` computes and prints.
_RENAMED = {"evaluate": "report"}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    # by name, not with an import statement: the import contracts would read that as
    # the core (which imports `explorer` for its version) importing the window
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # found once; later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
