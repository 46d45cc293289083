"""The one training loop, shared by the CLI and the app.

`train(...)` is a generator: it takes one optimiser step, yields a small `Progress`
record, and repeats; after each epoch it yields the validation ELBO. A front end
drives it however it likes (a terminal progress bar, a Qt worker thread) and stops it
between steps by setting the `cancel` event or closing the generator.

Its parts elsewhere: what is refused before the first step (`train_checks`), which
images train and which score each epoch (`train_split`), and the device and precision
(`device`). Here are the loop, its records, the optimisers and the NaN guard.

Speed: the images live on the device as one uint8 tensor and each batch is a gather
by a shuffled index (no per-item Python, no DataLoader); the decoder's logits feed
BCE-with-logits; Adam uses its fused kernel where the device has one; where the device
computes bf16 natively (CPUs with AVX512-BF16 or AMX, recent GPUs) the forward and
backward matmuls run in bf16 under autocast while weights, Adam state and the loss
stay fp32: faster where the hardware has it, for the same validation ELBO
(`scripts/bench_train.py` times it, `scripts/bench_quality.py` checks the ELBO).

Safety: a non-finite loss stops training; the model keeps the last finite weights
(the current ones if still finite, else a snapshot taken at most
`_SNAPSHOT_EVERY` steps earlier), and the final record says why.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from explorer.core import distributed
from explorer.core.config import TrainConfig
from explorer.core.corruption import corrupt
from explorer.core.data import Dataset
from explorer.core.data.packed import rows_of
from explorer.core.device import autocast, pick_device, pick_precision
from explorer.core.kind_table import KIND_TABLE, beta_in_effect
from explorer.core.metrics import Evaluation, evaluate
from explorer.core.model import LatentModel, LossTerms, Weights, images_to_tensor
from explorer.core.objectives import DISCRIMINATOR_BETAS, DISCRIMINATOR_LR
from explorer.core.pca import PCAModel
from explorer.core.schedules import Schedule
from explorer.core.train_checks import check_fit
from explorer.core.train_split import MAX_EVAL_IMAGES, TrainSplit, split_indices

# torch's own choice of intra-op threads (one per physical core), read when this module
# is first imported: the app lowers its GUI thread's count to 1 (app.py), and a thread
# started after that begins with 1 too, so a training thread sets this back.
DEFAULT_THREADS = torch.get_num_threads()

_SNAPSHOT_EVERY = 50  # steps between copies of known-finite weights for the NaN guard


@dataclass(frozen=True)
class Progress:
    """One report from the loop; plain data, safe to hand to another thread."""

    kind: str  # "step" after an optimiser step, "epoch" after validation, "done" at the end
    epoch: int  # epochs completed (a "step" record is inside epoch `epoch + 1`)
    epochs: int  # epochs requested
    step: int  # optimiser steps taken so far
    steps_total: int  # steps for the whole run
    loss: float  # last step's objective: recon + β·kl, per image in nats
    recon: float  # last step's reconstruction term
    kl: float  # last step's KL term
    beta: float  # β in effect (as the KL schedule has it at this step)
    samples_per_s: float  # training throughput in the current epoch
    eta_s: float  # estimated seconds left
    val: Evaluation | None = None  # validation ELBO ("epoch" and "done" records)
    status: str = "running"  # "running", or for "done": "completed", "stopped", "diverged"
    message: str = ""  # for "done": what happened, in words a user understands
    tc: float = math.nan  # last step's total correlation estimate (β-TCVAE, FactorVAE)
    capacity: float = math.nan  # C the KL is held at (AnnealedVAE, capacity schedule)

    @property
    def fraction(self) -> float:
        return self.step / self.steps_total if self.steps_total else 1.0


def _make_optimizer(params: list, device: torch.device, **settings) -> torch.optim.Adam:
    if device.type in ("cpu", "cuda"):
        try:
            return torch.optim.Adam(params, fused=True, **settings)
        except (RuntimeError, TypeError):  # older torch: no fused kernel for this device
            pass
    return torch.optim.Adam(params, **settings)


def _finite_params(model: LatentModel) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def state_snapshot(model: LatentModel) -> dict[str, torch.Tensor]:
    """Detached CPU copies of the weights: safe to hand to another thread or save."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def train(
    model: LatentModel,
    dataset: Dataset,
    config: TrainConfig,
    cancel: threading.Event | None = None,
) -> Iterator[Progress]:
    """Train `model` in place on `dataset`, yielding a Progress record per step and epoch.

    The last record has kind "done". The model stays on the training device. PCA is
    fitted in one go: one "epoch" record, then "done". Under torchrun every rank runs
    this loop on its share of each batch (core/distributed.py); each yields the same
    records, the figures being the global batch's.
    """
    config.validate()
    check_fit(model, dataset, config)
    if isinstance(model, PCAModel):
        yield from _fit_pca(model, dataset, config)
        return
    group = distributed.current()
    device, precision = _set_up(config, group)
    split = TrainSplit.place(model, dataset, config, device)
    model.to(device).train()
    objective = group.objective(model)
    optimizer = _make_optimizer(model.objective_parameters(), device, lr=config.lr)
    critic = _discriminator_optimizer(model, device)
    n, bs = len(split.images), config.batch_size * group.world_size  # the global batch
    steps_per_epoch = math.ceil(n / bs)
    schedule = _schedule(model.kind, config, steps_per_epoch)
    beta = beta_in_effect(model.kind, config.beta)
    run = _Tally(config, steps_per_epoch * config.epochs, bs, beta)
    guard = _LastGood(model)
    shuffle = torch.Generator().manual_seed(config.seed)
    for epoch in range(config.epochs):
        perm = torch.randperm(n, generator=shuffle).to(device)
        t0 = time.perf_counter()
        for b in range(steps_per_epoch):
            batch = perm[b * bs : (b + 1) * bs]
            shard = group.shard(batch)
            x = split.images[shard.index].float().div_(255.0)
            y = None if split.labels is None else split.labels[shard.index]
            # β as scheduled (where β is a setting of the kind), and the capacity C
            run.beta = beta_in_effect(model.kind, config.beta * schedule.factor(run.step))
            weights = Weights(
                config.alpha,
                config.gamma,
                schedule.capacity(run.step),
                n,
                sparsity=config.sparsity,
                rho=config.rho,
                classify=split.classify,
            )
            inputs = corrupt(x, config.corruption, config.corruption_level)
            with autocast(device, precision):
                terms = objective(
                    x, run.beta, y=y, inputs=inputs, samples=config.samples, weights=weights
                )
            # every rank learns whether any was asked to stop, and stops after this step
            asked = cancel is not None and cancel.is_set()
            figures, stop = group.agree(_figures(terms), shard.count, asked)
            if stop:
                model.eval()
                yield run.stopped(epoch)
                return
            run.take(figures, terms)
            if not math.isfinite(run.loss):
                kept = guard.restore(run.step)
                model.eval()
                yield run.diverged(epoch, kept)
                return
            optimizer.zero_grad(set_to_none=True)
            (terms.total * shard.weight).backward()
            optimizer.step()
            if critic is not None:  # FactorVAE: D learns to tell codes from shuffled ones
                with autocast(device, precision):
                    critic_loss = model.discriminator.loss(terms.codes)
                critic.zero_grad(set_to_none=True)  # drops what the VAE's loss gave D
                critic_loss.backward()
                critic.step()
            run.step += 1
            guard.stepped(run.step)
            run.rate = (b * bs + len(batch)) / max(time.perf_counter() - t0, 1e-9)
            yield run.record("step", epoch)
        run.val = group.evaluate(model, split.val_images, split.val_labels)
        yield run.record("epoch", epoch + 1, val=run.val)
    model.eval()
    yield run.record(
        "done",
        config.epochs,
        val=run.val,
        status="completed",
        message=f"Trained {_counted(config.epochs, 'epoch')} "
        f"({_counted(run.steps_total, 'step')}).",
    )


def _counted(n: int, noun: str) -> str:
    """`n` of `noun`, in the singular for one: "1 epoch", "2 epochs"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _schedule(kind: str, config: TrainConfig, steps_per_epoch: int) -> Schedule:
    """The run's KL schedule: the user's where β is a setting of the kind, the capacity
    for an AnnealedVAE; the rest have a fixed KL weight, which no factor changes
    (`beta_in_effect`), and no capacity."""
    row = KIND_TABLE[kind]
    chosen = "capacity" if row.capacity else config.kl_schedule if row.scheduled else "warmup"
    return Schedule(chosen, steps_per_epoch, steps_per_epoch * config.epochs, config)


def _discriminator_optimizer(model: LatentModel, device: torch.device) -> torch.optim.Adam | None:
    """A FactorVAE's discriminator's own optimiser (Kim & Mnih's settings), else None."""
    if not KIND_TABLE[model.kind].discriminator:
        return None
    return _make_optimizer(
        list(model.discriminator.parameters()),
        device,
        lr=DISCRIMINATOR_LR,
        betas=DISCRIMINATOR_BETAS,
    )


def _set_up(config: TrainConfig, group: distributed.Group) -> tuple[torch.device, str]:
    """The device and precision to train with; the thread count and seed set."""
    device = group.device(pick_device(config.device))
    precision = pick_precision(config.precision, device)
    if config.threads:
        torch.set_num_threads(config.threads)
    # reparameterisation noise: each rank draws its own (the same seed would give every
    # rank's share of a batch the same noise); rank 0 draws what a single process does
    torch.manual_seed(config.seed + group.rank)
    return device, precision


def _figures(terms: LossTerms) -> torch.Tensor:
    """The step's reported figures (3,) or, with a TC estimate, (4,): loss, recon, KL, TC."""
    values = [terms.total, terms.recon, terms.kl]
    if terms.tc is not None:
        values.append(terms.tc)
    return torch.stack([v.detach().float() for v in values])


class _LastGood:
    """The NaN guard: a copy of known-finite weights, taken every `_SNAPSHOT_EVERY` steps."""

    def __init__(self, model: LatentModel):
        self.model = model
        self.state = state_snapshot(model)
        self.step = 0  # the step the copy was taken after

    def stepped(self, step: int) -> None:
        if step % _SNAPSHOT_EVERY == 0 and _finite_params(self.model):
            self.state, self.step = state_snapshot(self.model), step

    def restore(self, step: int) -> str:
        """Keep the current weights if still finite, else the copy; which, in words."""
        if _finite_params(self.model):
            return f"the weights from step {step}"
        self.model.load_state_dict(self.state)
        return f"the weights from step {self.step}"


@dataclass
class _Tally:
    """What the run's records report: the last step's figures and the run's pace."""

    config: TrainConfig
    steps_total: int
    batch: int  # images per step, on all ranks together
    beta: float  # β in effect (as scheduled)
    step: int = 0  # optimiser steps taken
    loss: float = float("nan")
    recon: float = float("nan")
    kl: float = float("nan")
    tc: float = float("nan")
    capacity: float = float("nan")
    rate: float = 0.0  # images a second in the current epoch
    val: Evaluation | None = None  # the last epoch's validation figures

    def take(self, figures: list[float], terms: LossTerms) -> None:
        """The step's `figures` (`_figures` of its loss `terms`, over the global batch)."""
        self.loss, self.recon, self.kl = figures[:3]
        self.tc = figures[3] if terms.tc is not None else math.nan
        self.capacity = math.nan if terms.capacity is None else terms.capacity

    def record(self, kind: str, epoch: int, **extra) -> Progress:
        left = (self.steps_total - self.step) * self.batch
        return Progress(
            kind=kind,
            epoch=epoch,
            epochs=self.config.epochs,
            step=self.step,
            steps_total=self.steps_total,
            loss=self.loss,
            recon=self.recon,
            kl=self.kl,
            beta=self.beta,
            samples_per_s=self.rate,
            eta_s=left / self.rate if self.rate > 0 else float("nan"),
            tc=self.tc,
            capacity=self.capacity,
            **extra,
        )

    def stopped(self, epoch: int) -> Progress:
        return self.record(
            "done",
            epoch,
            val=self.val,
            status="stopped",
            message=f"Stopped by the user after {self.step} of {self.steps_total} steps.",
        )

    def diverged(self, epoch: int, kept: str) -> Progress:
        return self.record(
            "done",
            epoch,
            val=self.val,
            status="diverged",
            message=(
                f"Training stopped: the loss became {self.loss} at step {self.step + 1} "
                f"(epoch {epoch + 1}) with β = {self.beta:g} and learning rate "
                f"{self.config.lr:g}. Kept {kept}. Try a lower learning rate."
            ),
        )


def _fit_pca(model: PCAModel, dataset: Dataset, config: TrainConfig) -> Iterator[Progress]:
    """Fit PCA on the training split (closed form) and report on the validation split."""
    device = pick_device(config.device)
    train_idx, val_idx = split_indices(len(dataset), config.val_fraction, config.seed)
    all_images = images_to_tensor(dataset.images)
    t0 = time.perf_counter()
    model.to(device).fit(rows_of(all_images, torch.from_numpy(train_idx)))
    rate = len(train_idx) / max(time.perf_counter() - t0, 1e-9)
    eval_idx = (val_idx if len(val_idx) else train_idx)[:MAX_EVAL_IMAGES]
    val = evaluate(model, all_images[torch.from_numpy(eval_idx)])
    model.eval()
    fields = dict(epochs=1, step=1, steps_total=1, loss=val.recon, recon=val.recon, kl=0.0)
    fields |= dict(beta=0.0, samples_per_s=rate, eta_s=0.0, val=val)
    yield Progress(kind="epoch", epoch=1, **fields)
    yield Progress(
        kind="done",
        epoch=1,
        status="completed",
        message=f"Fitted PCA to {len(train_idx):,} images in closed form.",
        **fields,
    )
