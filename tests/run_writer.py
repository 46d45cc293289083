"""Training runs written into a folder in this process, as `train --run-dir` writes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from explorer.core.checkpoint import Checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import make_digits
from explorer.core.kinds import build_model
from explorer.core.run_folder import RunWriter
from explorer.core.training import Progress, train


def run_epochs(folder: Path, epochs: int, images: int = 256) -> Iterator[Progress]:
    """Train a tiny digits model into `folder`, yielding after each epoch is written
    (the caller looks at the folder meanwhile), then after the run is finished."""
    data = make_digits(images, seed=0)
    model = build_model(ModelConfig(latent_dim=2, hidden=(16,)))
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=3e-3)
    with RunWriter(folder, model.config, cfg, data) as run:
        for p in train(model, data, cfg):
            run.record(p, model)
            if p.kind == "epoch":
                yield p
            if p.kind == "done":
                ckpt = Checkpoint(model=model, train_config=cfg, dataset=data.describe())
                run.finish(p, ckpt)
                yield p


def finished_run(folder: Path, epochs: int = 1) -> Path:
    for _ in run_epochs(folder, epochs):
        pass
    return folder
