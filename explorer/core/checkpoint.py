"""Checkpoints: weights in a `.safetensors` file, everything else as JSON in its metadata.

The metadata (key "latent_explorer") holds the model config (enough to rebuild the
model), the training config, the dataset's description, final metrics, per-dimension
KL and the format version. Files are written atomically (`files.atomic_write`), so a
crash or a full disk never leaves a half-written checkpoint and never damages the
previous one. Loading parses the safetensors format only: nothing is ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from explorer import __version__
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.errors import CheckpointError, ConfigError
from explorer.core.files import atomic_write, check_readable_file
from explorer.core.kinds import build_model
from explorer.core.model import LatentModel

FORMAT = "latent-explorer-checkpoint"
VERSION = 1
_META_KEY = "latent_explorer"


@dataclass
class Checkpoint:
    """A model and what is known about how it was made."""

    model: LatentModel  # one of ours (core/kinds.py), never a model from elsewhere
    train_config: TrainConfig | None = None
    dataset: dict[str, Any] = field(default_factory=dict)  # Dataset.describe()
    metrics: dict[str, Any] = field(default_factory=dict)  # e.g. elbo, recon, kl, active_units
    kl_per_dim: list[float] = field(default_factory=list)
    created: str = ""  # ISO time it was written
    path: Path | None = None  # where it was read from or last written to


def save_checkpoint(path: str | Path, ckpt: Checkpoint) -> Path:
    """Write `ckpt` to `path` atomically; raises CheckpointError naming the file on failure."""
    path = Path(path)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "explorer_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": ckpt.model.config.to_dict(),
        "train": ckpt.train_config.to_dict() if ckpt.train_config else None,
        "dataset": ckpt.dataset,
        "metrics": ckpt.metrics,
        "kl_per_dim": list(ckpt.kl_per_dim),
    }
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in ckpt.model.state_dict().items()}
    try:
        with atomic_write(path) as tmp:
            save_file(tensors, tmp, metadata={_META_KEY: json.dumps(meta)})
    except (OSError, SafetensorError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise CheckpointError(
            f"{path}: could not save the checkpoint ({reason}); "
            "any previous file there is unchanged"
        ) from e
    ckpt.path, ckpt.created = path, meta["created"]
    return path


def _sniff(path: Path) -> str:
    """A hint about what a non-safetensors file really is."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return ""
    if head.startswith(b"PK"):
        return (
            " It looks like a PyTorch .pt/.pth (zip) file: a TorchScript module, or weights "
            "that open with the function that builds the model (a factory)."
        )
    if head[:1] == b"\x80":
        return (
            " It looks like a Python pickle, which could run code when opened; it is never loaded."
        )
    return ""


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The checkpoint's JSON metadata, validated, without reading the weights."""
    path = Path(path)
    check_readable_file(path, CheckpointError)
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a safetensors checkpoint ({e}).{_sniff(path)}") from e
    if raw is None:
        raise CheckpointError(
            f"{path}: a safetensors file, but not a Latent Explorer checkpoint "
            "(no model description in its metadata). Weights of a model trained elsewhere "
            "open with the function that builds it (a factory)"
        )
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: the checkpoint's metadata is not valid JSON ({e})") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: metadata is not in the {FORMAT} format")
    if meta.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path}: written by a newer Latent Explorer (format {meta.get('version')}, "
            f"this one reads up to {VERSION}); update the app"
        )
    return meta


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, check its weights against its config, and rebuild the model (CPU)."""
    path = Path(path)
    meta = read_metadata(path)
    try:
        config = ModelConfig.from_dict(meta["model"])
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise CheckpointError(f"{path}: the model description is invalid ({e})") from e
    try:
        with safe_open(str(path), framework="pt") as f:
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: the weights cannot be read ({e})") from e
    model = build_model(config)
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        wrong = [
            f"{k} is {found[k]}, expected {expected[k]}"
            for k in sorted(set(expected) & set(found))
            if expected[k] != found[k]
        ]
        parts = (
            ([f"missing {', '.join(missing[:3])}"] if missing else [])
            + ([f"unexpected {', '.join(extra[:3])}"] if extra else [])
            + wrong[:3]
        )
        raise CheckpointError(
            f"{path}: the weights do not match the model described in the file "
            f"({config.kind}, latent size {config.latent_dim}, {config.architecture}, image "
            f"{config.image_shape}): {'; '.join(parts)}"
        )
    with torch.no_grad():
        model.load_state_dict(state)
    model.eval()
    train = meta.get("train")
    return Checkpoint(
        model=model,
        train_config=TrainConfig.from_dict(train) if isinstance(train, dict) else None,
        dataset=meta.get("dataset") or {},
        metrics=meta.get("metrics") or {},
        kl_per_dim=list(meta.get("kl_per_dim") or []),
        created=meta.get("created", ""),
        path=path,
    )
