"""A training run's history, one entry per epoch: what a report's loss curves draw.

The training loop's "epoch" records (`training.Progress`) are reduced to a few numbers
each and kept in the checkpoint, so the curves of a model trained on a GPU box can be
drawn anywhere later. A file's history is checked like all its metadata: a list of at
most `MAX_EPOCHS_KEPT` entries of numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from explorer.core import checks

if TYPE_CHECKING:
    from explorer.core.training import Progress

# Entries kept: a longer run keeps every second epoch each time the list fills, so its
# whole course stays (at a coarser step) in a metadata block of bounded size.
MAX_EPOCHS_KEPT = 2000


@dataclass(frozen=True)
class Epoch:
    """One epoch's figures, per image in nats."""

    epoch: int  # epochs completed, from 1
    loss: float  # the training objective at the epoch's last step: recon + β·kl
    val_recon: float  # validation reconstruction term
    val_kl: float  # validation KL; NaN for a deterministic kind (it has none)
    beta: float  # β in effect at the epoch's end (it ramps during warm-up)

    @property
    def val_loss(self) -> float:
        """The validation −ELBO, or the reconstruction alone where there is no KL."""
        return self.val_recon if math.isnan(self.val_kl) else self.val_recon + self.val_kl


def epoch_of(p: Progress) -> Epoch | None:
    """The history entry of an "epoch" record (None for the loop's other records)."""
    if p.kind != "epoch" or p.val is None:
        return None
    return Epoch(p.epoch, p.loss, p.val.recon, p.val.kl, p.beta)


def extend(history: list[Epoch], entry: Epoch | None) -> list[Epoch]:
    """`history` with `entry` added (when there is one), at most MAX_EPOCHS_KEPT long.

    A full history keeps every second entry (the first always), and from then on takes
    epochs at that wider step; the newest epoch is always last, standing in until the
    next one on the step replaces it.
    """
    if entry is None:
        return history
    if len(history) >= MAX_EPOCHS_KEPT:
        history = history[::2]
    if len(history) >= 3:
        step = history[1].epoch - history[0].epoch
        if history[-1].epoch - history[-2].epoch < step:  # the newest, off the step
            history = history[:-1]
    return [*history, entry]


def to_json(history: list[Epoch]) -> list[dict[str, Any]]:
    """Plain data; NaN (a deterministic kind's KL) as None, which JSON can hold."""
    return [{k: None if v != v else v for k, v in asdict(e).items()} for e in history]


def from_json(value: Any) -> list[Epoch]:
    """The entries of a file's history; ConfigError naming the part that is wrong."""
    out = []
    for i, raw in enumerate(checks.items(value, "history", MAX_EPOCHS_KEPT)):
        entry = checks.mapping(raw, f"history entry {i}")
        kl = entry.get("val_kl")
        out.append(
            Epoch(
                epoch=checks.whole(entry.get("epoch"), f"history entry {i} epoch", 1, 2**31),
                loss=checks.number(entry.get("loss"), f"history entry {i} loss"),
                val_recon=checks.number(entry.get("val_recon"), f"history entry {i} val_recon"),
                val_kl=math.nan if kl is None else checks.number(kl, f"history entry {i} val_kl"),
                beta=checks.number(entry.get("beta"), f"history entry {i} beta"),
            )
        )
    return out
