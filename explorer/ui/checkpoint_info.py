"""What the window shows of a checkpoint's metadata, checked before the session changes.

Opening a model replaces it in the session, and every view reads the new model's
metadata as the session announces it: the training panel its training settings, the
status bar its β, the KL views its KL per dimension, the opener its dataset. A value of
the wrong type there failed inside those handlers, after the model had changed, and
left a half-updated window. So the opener checks all of it first, here: a checkpoint
either opens whole or is refused with the window as it was.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path
from typing import Any

from explorer.core.checkpoint import Checkpoint
from explorer.core.config import TrainConfig
from explorer.core.errors import CheckpointError, ConfigError

# figures a view formats as numbers (training_panel.metric_lines), and the one text
_NUMBERS = ("elbo", "recon", "kl", "sq_error", "iw_bound", "iw_k", "on_data", "active_units")
_TEXTS = ("kind",)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_metadata(ckpt: Checkpoint, path: Path) -> None:
    """Raise CheckpointError (naming `path` and the field) for any value the window
    cannot show: training settings, metrics, KL per dimension, dataset description."""

    def bad(what: str, value: Any, expected: str) -> CheckpointError:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return CheckpointError(f"{path}: its metadata's {what} is {shown}, expected {expected}")

    tc = ckpt.train_config
    if tc is not None:
        if not isinstance(tc, TrainConfig):
            raise bad("training settings", tc, "a set of settings")
        for f in fields(TrainConfig):
            value, default = getattr(tc, f.name), f.default
            if isinstance(default, float) and not _is_number(value):
                raise bad(f"training setting {f.name!r}", value, "a number")
            whole = isinstance(value, int) and not isinstance(value, bool)
            if isinstance(default, int) and not whole:
                raise bad(f"training setting {f.name!r}", value, "a whole number")
            if isinstance(default, str) and not isinstance(value, str):
                raise bad(f"training setting {f.name!r}", value, "a text")
        try:
            tc.validate()
        except (TypeError, ValueError, ConfigError) as e:
            raise CheckpointError(f"{path}: its metadata's training settings: {e}") from e
    if not isinstance(ckpt.metrics, dict):
        raise bad("metrics", ckpt.metrics, "a table of figures")
    for key in _NUMBERS:
        if ckpt.metrics.get(key) is not None and not _is_number(ckpt.metrics[key]):
            raise bad(f"metric {key!r}", ckpt.metrics[key], "a number")
    for key in _TEXTS:
        if key in ckpt.metrics and not isinstance(ckpt.metrics[key], str):
            raise bad(f"metric {key!r}", ckpt.metrics[key], "a text")
    kl, d = ckpt.kl_per_dim, ckpt.model.config.latent_dim
    if not isinstance(kl, list) or not all(_is_number(v) and math.isfinite(v) for v in kl):
        raise bad("KL per dimension", kl, "a list of numbers")
    if kl and len(kl) != d:
        raise bad("KL per dimension", kl, f"{d} numbers, one per latent dimension")
    described = ckpt.dataset
    if not isinstance(described, dict):
        raise bad("dataset", described, "a description of the dataset")
    for key in ("name", "source"):
        if described.get(key) is not None and not isinstance(described[key], str):
            raise bad(f"dataset {key}", described[key], "a text")
    count = described.get("num_images")
    if count is not None and not (isinstance(count, int) and not isinstance(count, bool)):
        raise bad("dataset's number of images", count, "a whole number")
    if count is not None and count < 1:
        raise bad("dataset's number of images", count, "a whole number ≥ 1")
