"""Where a model computes and in what precision: the device a name stands for
(`pick_device`: "auto" prefers CUDA, then MPS, then the CPU), bf16 or fp32 on it
(`pick_precision`, `native_bf16`), and the autocast that runs a step in bf16.

The training loop, the CLI, the window's status bar and the sweep's workers all choose
here, so a device or precision is refused alike wherever it is asked for.
"""

from __future__ import annotations

import contextlib

import torch

from explorer.core.errors import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """The device for `name`: "auto" prefers CUDA, then MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ConfigError(
            f"device {name!r} is not a device name (try auto, cpu, cuda or mps)"
        ) from e
    if device.type not in ("cpu", "cuda", "mps"):  # meta, xla, ...: nothing trains there
        raise ConfigError(f"device {name!r} cannot train a model (use auto, cpu, cuda or mps)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} was asked for but CUDA is not available here")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(
            f"device {name!r} was asked for but this machine has "
            f"{torch.cuda.device_count()} CUDA device(s), cuda:0 to "
            f"cuda:{torch.cuda.device_count() - 1}"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {name!r} was asked for but MPS is not available here")
    return device


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bf16 matmuls in hardware (else bf16 is emulated, slower)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:  # private but long-standing probes; absent ones mean "no"
            return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
        except AttributeError:
            return False
    return False


def pick_precision(precision: str, device: torch.device) -> str:
    """ "bf16" or "fp32" for a TrainConfig.precision on `device`."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision == "bf16" and device.type not in ("cpu", "cuda"):
        raise ConfigError(f"bf16 precision is not supported on {device}; use fp32")
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context a step's forward pass runs in: bf16 autocast for "bf16", else none."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
