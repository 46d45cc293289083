"""Checkpoints: weights in a `.safetensors` file, everything else as JSON in its metadata.

The metadata (key "latent_explorer") holds the model config (enough to rebuild the
model), the training config, the dataset's description, final metrics, per-dimension
KL, the training history (`core.history`, where recorded), how many processes trained
it ("distributed": the world size and the global batch, with the training config; a
file without it was trained by one process) and the format version.
Files are written atomically (`files.atomic_write`), so a crash or a full disk never
leaves a half-written checkpoint and never damages the previous one. Loading parses the
safetensors format only: nothing is ever unpickled.
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
from explorer.core import checks
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import BUILTINS, builtin_count
from explorer.core.data.dataset import MAX_FACTORS, check_description
from explorer.core.distributed import MAX_WORLD_SIZE
from explorer.core.errors import CheckpointError, ExplorerError
from explorer.core.files import atomic_write, check_readable_file
from explorer.core.history import Epoch, from_json, to_json
from explorer.core.kinds import build_model, state_shapes
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
    history: list[Epoch] = field(default_factory=list)  # one entry per epoch trained, if recorded
    created: str = ""  # ISO time it was written
    path: Path | None = None  # where it was read from or last written to
    world_size: int = 1  # processes that trained it together (torchrun), each on its share

    @property
    def global_batch(self) -> int | None:
        """Images per optimiser step on all processes together; None without a config."""
        return None if self.train_config is None else self.train_config.batch_size * self.world_size


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
        "history": to_json(ckpt.history),
    }
    if ckpt.train_config is not None:
        meta["distributed"] = {"world_size": ckpt.world_size, "global_batch": ckpt.global_batch}
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
    """A hint about what a file that safetensors cannot parse really is."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return ""
    # A safetensors file starts with its header's length (8 bytes, little-endian) and
    # the header's "{". That length's low byte is 0x80, a pickle's first byte, in one
    # file in 256, so the safetensors layout is recognised first.
    if head[8:9] == b"{":
        return " It looks like a damaged or truncated safetensors file."
    if head.startswith(b"PK"):
        return (
            " It looks like a PyTorch .pt/.pth (zip) file: a TorchScript module, or weights "
            "that open with the function that builds the model (a factory)."
        )
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return (
            " It looks like a Python pickle, which could run code when opened; it is never loaded."
        )
    return ""


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The checkpoint's JSON metadata, its structure and types checked, without reading
    the weights. Raises CheckpointError naming the file."""
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
    except RecursionError as e:  # nesting deeper than the parser's stack
        raise CheckpointError(f"{path}: the checkpoint's metadata is nested too deeply") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: metadata is not in the {FORMAT} format")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"{path}: the format version must be a whole number, got {version!r}")
    if version > VERSION:
        raise CheckpointError(
            f"{path}: written by a newer Latent Explorer (format {version}, "
            f"this one reads up to {VERSION}); update the app"
        )
    return meta


@dataclass
class _Contents:
    """What load_checkpoint takes from the metadata, each part checked."""

    model: ModelConfig
    train: TrainConfig | None
    dataset: dict[str, Any]
    metrics: dict[str, Any]
    kl_per_dim: list[float]
    history: list[Epoch]
    created: str
    world_size: int


def _contents(meta: dict[str, Any]) -> _Contents:
    """Raises ExplorerError naming the part of the metadata that is wrong."""
    model = ModelConfig.from_dict(checks.mapping(meta.get("model"), "model"))
    train = meta.get("train")
    train = None if train is None else TrainConfig.from_dict(checks.mapping(train, "train"))
    dataset = check_description(meta.get("dataset") or {})
    drawn_again = dataset.get("name") in BUILTINS and dataset.get("source") is None
    if drawn_again and "num_images" in dataset:  # the window draws it again on opening
        builtin_count(dataset["name"], dataset["num_images"])
    kl = checks.items(meta.get("kl_per_dim") or [], "kl_per_dim", model.latent_dim)
    return _Contents(
        model=model,
        train=train,
        dataset=dataset,
        metrics=_metrics(meta.get("metrics") or {}),
        kl_per_dim=[checks.number(v, "kl_per_dim") for v in kl],
        history=from_json(meta.get("history") or []),
        created=checks.text(meta.get("created", ""), "created", 64),
        world_size=_world_size(meta.get("distributed"), train),
    )


def _world_size(value: Any, train: TrainConfig | None) -> int:
    """The processes that trained the model, as "distributed" records them (1 without
    it: files from before torchrun training, and one process's runs)."""
    if value is None:
        return 1
    parts = checks.mapping(value, "distributed")
    world = checks.whole(parts.get("world_size"), "distributed world_size", 1, MAX_WORLD_SIZE)
    batch = checks.whole(parts.get("global_batch"), "distributed global_batch", 1, 2**62)
    if train is not None and batch != world * train.batch_size:
        raise ExplorerError(
            f"distributed global_batch is {batch:,}, not the world size {world} × the batch "
            f"size {train.batch_size}"
        )
    return world


# Figures the front ends format as numbers; "elbo", "recon" and "kl" are None where a
# model does not define them (an autoencoder has no KL).
_NUMBERS = ("images", "active_units", "sq_error", "iw_bound", "iw_k", "on_data")
_NUMBERS += ("on_data_threshold", "mig")
_NUMBERS += ("accuracy", "held_out_accuracy")  # M2's classifier: on the data; on unseen labels


def _metrics(value: Any) -> dict[str, Any]:
    """The metrics a checkpoint records, each of its type (kept as written); unknown
    keys are dropped, nothing reads them."""
    metrics = checks.mapping(value, "metrics")
    out: dict[str, Any] = {}
    for key, v in metrics.items():
        if key in _NUMBERS or (key in ("elbo", "recon", "kl") and v is not None):
            checks.number(v, f"metric {key}")
        elif key == "kind":
            checks.text(v, "metric kind", 64)
        elif key == "mig_per_factor":
            gaps = checks.mapping(v, "metric mig_per_factor")
            checks.items(list(gaps), "metric mig_per_factor", MAX_FACTORS)
            for name, gap in gaps.items():
                checks.text(name, "a factor", 256)
                checks.number(gap, f"metric mig_per_factor {name}")
        elif key not in ("elbo", "recon", "kl"):
            continue
        out[key] = v
    return out


_FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")  # safetensors' names; loaded as float32


def _header_problems(f: Any, expected: dict[str, tuple[int, ...]]) -> list[str]:
    """How the tensors a safetensors header declares differ from `expected`, read from
    the header alone (no tensor data)."""
    found = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [
        f"{k} is {found[k]}, expected {expected[k]}"
        for k in sorted(set(expected) & set(found))
        if expected[k] != found[k]
    ]
    kinds = [
        f"{k} holds {dtype} values, not floating point"
        for k in sorted(set(expected) & set(found))
        if (dtype := f.get_slice(k).get_dtype()) not in _FLOAT_DTYPES
    ]
    return (
        ([f"missing {', '.join(missing[:3])}"] if missing else [])
        + ([f"unexpected {', '.join(extra[:3])}"] if extra else [])
        + wrong[:3]
        + kinds[:3]
    )


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, check its weights against its config, and rebuild the model (CPU).

    Everything the file claims is checked before memory is spent on it: the metadata's
    types and sizes, then each tensor's shape and type from the safetensors header
    against the model the metadata describes, then the values (finite) once read.
    """
    path = Path(path)
    meta = read_metadata(path)
    try:
        contents = _contents(meta)
        expected = state_shapes(contents.model)
    except ExplorerError as e:
        raise CheckpointError(f"{path}: the checkpoint's metadata is invalid: {e}") from e
    config = contents.model
    try:
        with safe_open(str(path), framework="pt") as f:
            problems = _header_problems(f, expected)
            if problems:
                raise CheckpointError(
                    f"{path}: the weights do not match the model described in the file "
                    f"({config.kind}, latent size {config.latent_dim}, {config.architecture}, "
                    f"image {config.image_shape}): {'; '.join(problems)}"
                )
            state = {k: f.get_tensor(k) for k in expected}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: the weights cannot be read ({e})") from e
    bad = [k for k, v in state.items() if not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(
            f"{path}: the weights hold NaN or infinite values ({', '.join(bad[:3])}); "
            "the model cannot be used"
        )
    model = build_model(config)
    with torch.no_grad():
        model.load_state_dict(state)
    model.eval()
    return Checkpoint(
        model=model,
        train_config=contents.train,
        dataset=contents.dataset,
        metrics=contents.metrics,
        kl_per_dim=contents.kl_per_dim,
        history=contents.history,
        created=contents.created,
        path=path,
        world_size=contents.world_size,
    )
