"""The values of the CLI's options, parsed and bounded where argparse reads them.

Each function here is an argparse `type=`: it turns the text into a value or raises
ArgumentTypeError, which the parser reports as one line naming the option ("error:
argument --threads: ..."). Bounding every option at the parser keeps values that only
fail deep inside torch (a thread count the OpenMP runtime dies on, a seed NumPy
refuses, the `meta` device) from ever reaching it.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable

from explorer.core.config import (
    MAX_BATCH_SIZE,
    MAX_CYCLES,
    MAX_EPOCHS,
    MAX_FLOW_STEPS,
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_WIDTH,
    MAX_LATENT_DIM,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_THREADS,
)
from explorer.core.data import BUILTINS
from explorer.core.disentanglement.points import MAX_BINS

# The model's and training's own limits (core/config.py), so the parser refuses exactly
# what the settings refuse; these few exist only on the command line.
MAX_COUNT = max(most for *_, most in BUILTINS.values())  # images of a built-in dataset
MAX_BETAS = 100  # models in one sweep
MAX_PRIOR_SAMPLES = 10_000  # decoded images held at once by on_data
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d{1,3})?")


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """A whole number from lo to hi."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be from {lo:,} to {hi:,}, got {value:,}")
        return value

    return parse


def float_in(lo: float, hi: float, *, above_lo: bool = False) -> Callable[[str], float]:
    """A finite number from lo (or above lo, when `above_lo`) to hi."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        low_ok = value > lo if above_lo else value >= lo
        if not (math.isfinite(value) and low_ok and value <= hi):
            if math.isfinite(hi):
                bounds = (
                    f"above {lo:g} and at most {hi:g}" if above_lo else f"from {lo:g} to {hi:g}"
                )
            else:
                bounds = f"above {lo:g}" if above_lo else f"at least {lo:g}"
            raise argparse.ArgumentTypeError(f"must be a finite number {bounds}, got {text!r}")
        return value

    return parse


def hidden_sizes(text: str) -> tuple[int, ...]:
    """Hidden layer sizes, "400" or "512,256"."""
    size = int_in(1, MAX_HIDDEN_WIDTH)
    sizes = tuple(size(v) for v in text.split(","))
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes)} in {text!r}"
        )
    return sizes


def sweep_values(name: str) -> Callable[[str], list[float]]:
    """The values of a sweep's weight (`name`, as messages say it: "β", "value"), in
    increasing order; each at most once."""

    def parse(text: str) -> list[float]:
        weight = float_in(0, math.inf)
        values = [weight(v) for v in text.split(",")]
        if len(values) > MAX_BETAS:
            raise argparse.ArgumentTypeError(
                f"at most {MAX_BETAS} {name} values, got {len(values)}"
            )
        if len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"a {name} is listed twice in {text!r}")
        return sorted(values)

    return parse


betas = sweep_values("β")


def device(text: str) -> str:
    """A device to train on: auto, cpu, cuda, cuda:N or mps (whether it is here is
    checked when the command starts, by device.pick_device)."""
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a device to train on; use auto, cpu, cuda, cuda:N or mps"
        )
    return text


def names(text: str) -> tuple[str, ...]:
    """Comma-separated names, e.g. of factors: "shape" or "shape,orientation"."""
    values = tuple(v.strip() for v in text.split(","))
    if not all(values):
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return values


latent_dim = int_in(1, MAX_LATENT_DIM)
seed = int_in(0, MAX_SEED)
threads = int_in(0, MAX_THREADS)
parallel = int_in(1, MAX_BETAS)  # worker processes of a sweep: at most one per model
count = int_in(1, MAX_COUNT)
bins = int_in(2, MAX_BINS)
epochs = int_in(1, MAX_EPOCHS)
batch_size = int_in(1, MAX_BATCH_SIZE)
importance_samples = int_in(1, MAX_SAMPLES)
cycles = int_in(1, MAX_CYCLES)
flow_steps = int_in(1, MAX_FLOW_STEPS)
prior_samples = int_in(0, MAX_PRIOR_SAMPLES)
max_images = int_in(1, 10_000_000)
