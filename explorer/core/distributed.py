"""Training one model in several processes: torchrun's environment and PyTorch's DDP.

`torchrun --nproc-per-node N -m explorer train …` starts N copies of the command, each
one rank of a process group (several machines: `--nnodes` and `--rdzv-endpoint`). The
one training loop (core/training.py) runs in every rank; what differs between one
process and many goes through the narrow seams of `Group`, which are the identity for
the single-process group `SINGLE`:

- `join` (the CLI, once) reads torchrun's variables and opens the process group, nccl
  for CUDA and gloo for the CPU; `current` is the group joined, else `SINGLE`.
- `Group.device`: a rank's GPU is cuda:LOCAL_RANK.
- `Group.objective`: the model's loss behind DistributedDataParallel, so the backward
  pass averages the gradients over the ranks.
- `Group.shard`: the rank's share of a global batch, every world_size-th image of it.
  The global batch is the one a single process takes from the same seeded permutation
  (`batch_size` per rank, so `batch_size × world_size` in all), and the union of the
  ranks' shares is that batch.
- `Group.agree`: the step's figures as means over the global batch, and whether any
  rank was asked to stop, so every rank stops after the same step.
- `Group.evaluate`: each rank scores its share of the validation images; their sums
  and counts are added up over the ranks.

Objectives whose loss is not a mean over images (AnnealedVAE's |KL − C| of the batch's
KL, β-TCVAE's minibatch estimate of q(z)) are computed on each rank's share; a
FactorVAE, whose discriminator has an optimiser of its own, and PCA, fitted in closed
form, are refused (`check_supported`). Each rank draws its own sampling noise
(`training._set_up`), so a run of several processes ends with exactly the weights of one
process taking the global batch for a deterministic objective (the autoencoder), and
with weights trained alike, not the same, for a sampled one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from explorer.core.errors import ConfigError
from explorer.core.kind_table import KIND_TABLE, kinds_where
from explorer.core.metrics import Evaluation, EvaluationSums, evaluate, evaluation_sums
from explorer.core.model import LatentModel, LossTerms

# torchrun's variables: every rank's number, how many ranks, the rank's number on its
# machine (`torchrun --help`)
_RANK, _WORLD_SIZE, _LOCAL_RANK = "RANK", "WORLD_SIZE", "LOCAL_RANK"
_NEEDED = (_RANK, _LOCAL_RANK, "MASTER_ADDR", "MASTER_PORT")  # besides WORLD_SIZE
MAX_WORLD_SIZE = 1 << 16  # more processes than a run has: bounds what a checkpoint may claim
# How long a rank waits for the others in one collective (the first one waits while the
# slowest rank reads the data); a rank that died is noticed at once, not after this.
_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class Shard:
    """A rank's part of one global batch."""

    index: torch.Tensor  # (b,) indices into the training images
    count: int  # images of the global batch this rank scores (0: `index` is a stand-in)
    weight: float  # loss factor making the ranks' averaged gradients the global mean's


@dataclass(frozen=True)
class Group:
    """The processes training one model; `SINGLE` is one process alone."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def leader(self) -> bool:
        """Rank 0: it alone reports progress and writes files."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """The device this rank trains on, given the one the settings pick."""
        if not self.active or device.type != "cuda":
            return device
        if device.index is not None:
            raise ConfigError(
                f"--device {device}: under torchrun each process takes the GPU of its "
                "LOCAL_RANK; give --device cuda (or auto)"
            )
        count = torch.cuda.device_count()
        if self.local_rank >= count:
            raise ConfigError(
                f"torchrun started process {self.local_rank + 1} on this machine, which has "
                f"{count} CUDA device(s); start at most {count} per machine (--nproc-per-node)"
            )
        return torch.device("cuda", self.local_rank)

    def objective(self, model: LatentModel) -> Callable[..., LossTerms]:
        """`model.loss`; across ranks, behind DDP (whose backward averages gradients).
        Building it copies rank 0's weights to every rank."""
        if not self.active:
            return model.loss
        device = model.device
        return DistributedDataParallel(
            _Objective(model), device_ids=[device.index] if device.type == "cuda" else None
        )

    def shard(self, batch: torch.Tensor) -> Shard:
        """This rank's share of a global batch (B,) of indices: every world_size-th one.
        A rank left without an image (a last batch smaller than the world) scores one as
        a stand-in with weight 0, since every rank must take part in each backward pass."""
        if not self.active:
            return Shard(batch, len(batch), 1.0)
        mine = batch[self.rank :: self.world_size]
        if len(mine) == 0:
            return Shard(batch[:1], 0, 0.0)
        # DDP averages the ranks' gradients of their shares' means; weighted so, the
        # average is the gradient of the global batch's mean however the shares differ
        return Shard(mine, len(mine), self.world_size * len(mine) / len(batch))

    def agree(self, figures: torch.Tensor, count: int, stop: bool) -> tuple[list[float], bool]:
        """The step's `figures` (k,) (means over this rank's `count` images) as means over
        the global batch, and whether any rank asked to stop. One collective per step."""
        if not self.active:
            return figures.tolist(), stop
        tail = torch.tensor([count, float(stop)], dtype=torch.float64, device=figures.device)
        flat = torch.cat([figures.double() * count, tail])
        dist.all_reduce(flat)
        summed = flat.tolist()
        total = summed[-2]
        return [v / total for v in summed[:-2]], summed[-1] > 0

    def evaluate(
        self, model: LatentModel, images: torch.Tensor, labels: torch.Tensor | None
    ) -> Evaluation:
        """The validation figures of `images` (N, C, H, W), each rank scoring every
        world_size-th image."""
        if not self.active:
            return evaluate(model, images, labels)
        mine = torch.arange(self.rank, len(images), self.world_size)
        sums = evaluation_sums(model, images[mine], None if labels is None else labels[mine])
        values = torch.tensor(sums.values(), dtype=torch.float64, device=model.device)
        dist.all_reduce(values)
        return EvaluationSums.of_values(values.tolist()).evaluation(model.deterministic)


SINGLE = Group()
_joined = SINGLE


class _Objective(nn.Module):
    """The model's loss as a module's forward: DDP prepares its gradient averaging in
    forward, and the training loop calls `loss`, not the model."""

    def __init__(self, model: LatentModel):
        super().__init__()
        self.model = model

    def forward(self, *args, **kwargs) -> LossTerms:
        return self.model.loss(*args, **kwargs)


def describe_world(world_size: int, batch_size: int) -> str:
    """How a model of `world_size` torchrun processes was trained, in words."""
    return (
        f"trained by {world_size} processes together (torchrun): {batch_size} images "
        f"each, a global batch of {world_size * batch_size}"
    )


def launched() -> bool:
    """Whether torchrun started this process as one of several."""
    return environment().active


def environment() -> Group:
    """The group torchrun's variables describe, `SINGLE` where they are not set (or
    describe one process). Raises ConfigError naming a variable that is wrong."""
    world_text = os.environ.get(_WORLD_SIZE)
    if world_text is None:
        return SINGLE
    world_size = _number(_WORLD_SIZE, world_text)
    if world_size <= 1:
        return SINGLE
    missing = [name for name in _NEEDED if name not in os.environ]
    if missing:
        raise ConfigError(
            f"WORLD_SIZE={world_size} without {', '.join(missing)}: start the processes "
            "with torchrun (torchrun --nproc-per-node N -m explorer train …)"
        )
    rank = _number(_RANK, os.environ[_RANK])
    if rank >= world_size:
        raise ConfigError(f"RANK={rank}: not a rank of WORLD_SIZE={world_size} processes")
    return Group(rank, world_size, _number(_LOCAL_RANK, os.environ[_LOCAL_RANK]))


def _number(name: str, text: str) -> int:
    if not text.isdigit() or int(text) >= MAX_WORLD_SIZE:
        raise ConfigError(f"{name}={text!r}: not a process number torchrun sets")
    return int(text)


def join(device: torch.device) -> Group:
    """Open the process group torchrun's variables describe (nccl for a CUDA `device`,
    gloo otherwise) and return it; `SINGLE` when torchrun did not start several."""
    global _joined
    group = environment()
    if not group.active or dist.is_initialized():
        _joined = group
        return group
    if not dist.is_available():
        raise ConfigError("torchrun: this build of PyTorch has no torch.distributed")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(group.device(device))
    try:
        dist.init_process_group(backend, timeout=_TIMEOUT)
    except (dist.DistError, ValueError) as e:  # no answer at MASTER_ADDR:MASTER_PORT, ...
        where = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
        raise ConfigError(
            f"torchrun: rank {group.rank} cannot join the run at {where} ({_reason(e)})"
        ) from e
    _joined = group
    return group


def current() -> Group:
    """The group `join` opened, else `SINGLE`."""
    return _joined


def leave() -> None:
    """Close the process group `join` opened (nothing when none is open)."""
    global _joined
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _joined = SINGLE


def check_supported(kind_name: str, group: Group | None = None) -> None:
    """Raise ConfigError when a model of `kind_name` cannot train across the ranks of
    `group` (default: the one joined)."""
    if not (group or current()).active:
        return
    kind = KIND_TABLE[kind_name]
    if kind.fitted or kind.discriminator:
        why = (
            "is fitted in closed form in one process"
            if kind.fitted
            else "trains its discriminator with an optimiser of its own, which DDP does not share"
        )
        raise ConfigError(
            f"--kind {kind_name}: a {kind.noun} {why}; run it without torchrun (torchrun "
            f"trains {kinds_where(lambda k: k.trained and not k.discriminator)})"
        )


def peer_failure(error: BaseException) -> str | None:
    """In words, another rank's failure that reached this one through a collective as
    `error` (the backends raise RuntimeErrors naming themselves); None for another error."""
    if not current().active:
        return None
    text = str(error).strip()
    if not isinstance(error, dist.DistError) and not re.search(r"gloo|nccl", text, re.I):
        return None
    return f"another process of the run failed or was stopped: {_reason(error)}"


def _reason(error: BaseException) -> str:
    """The first sentence of a backend's error, without gloo's "[pair.cc:537] " prefix."""
    text = str(error).strip()
    first = re.sub(r"^\[[^\]]*\]\s*", "", text.splitlines()[0] if text else "")
    return first.split(". ")[0][:200] or type(error).__name__
