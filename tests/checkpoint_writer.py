"""Real safetensors checkpoints with tampered metadata or weights, for the refusal tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from explorer.core.checkpoint import Checkpoint, read_metadata, save_checkpoint
from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model

SMALL = ModelConfig(image_shape=(1, 8, 8), latent_dim=2, hidden=(4,))


def valid_metadata(tmp: Path) -> dict[str, Any]:
    """The metadata save_checkpoint writes for a small model (with a digits description)."""
    save_checkpoint(tmp, Checkpoint(model=build_model(SMALL), dataset={"name": "digits"}))
    meta = read_metadata(tmp)
    tmp.unlink()
    return meta


def write_checkpoint(
    path: Path,
    meta: dict[str, Any] | str,
    edit_weights: Callable[[dict[str, torch.Tensor]], None] | None = None,
) -> Path:
    """A safetensors file holding the small model's weights (edited in place by
    `edit_weights`) and `meta` (a dict, or raw text) as its Latent Explorer metadata."""
    tensors = {k: v.contiguous() for k, v in build_model(SMALL).state_dict().items()}
    if edit_weights is not None:
        edit_weights(tensors)
    text = meta if isinstance(meta, str) else json.dumps(meta)
    save_file(tensors, str(path), metadata={"latent_explorer": text})
    return path


def tampered(
    edit_meta: Callable[[dict[str, Any]], None] | None = None,
    edit_weights: Callable[[dict[str, torch.Tensor]], None] | None = None,
) -> Callable[[Path], None]:
    """A writer for the bad-input table: the small checkpoint, its metadata and/or
    weights edited."""

    def write(path: Path) -> None:
        meta = valid_metadata(path.with_name("valid.safetensors"))
        if edit_meta is not None:
            edit_meta(meta)
        write_checkpoint(path, meta, edit_weights)

    return write
