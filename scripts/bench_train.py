"""Training throughput of the core loop against what a user would write (docs/performance.md).

Model: the classic 784-400-20 MLP VAE, Adam 1e-3, batch 128, BCE, on the real MNIST
test images (../shared/data/mnist). Four contenders, same layer sizes, same data, same
thread count; one warm-up round, then several rounds with the contenders interleaved so
drift on a shared machine hits all of them alike; medians are compared. Every contender
keeps training one model across rounds and times one epoch of steps per round (set-up
and the core's validation pass are outside the timer).

  core        explorer.core.training.train with the default precision ("auto": bf16
              mixed precision on a CPU with native bf16, else fp32)
  core_fp32   the same with precision="fp32", reported for comparison
  plain_loop  a hand-written loop over preloaded float tensors: sigmoid + BCE, default Adam
  dataloader  the same plain model fed one item at a time (a PIL image, then ToTensor,
              as torchvision's MNIST does) through a DataLoader, as the PyTorch examples do

Prints one JSON line; exits 1 when core < 1.2 × plain_loop or core < 3 × dataloader.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.core.config import ModelConfig, TrainConfig  # noqa: E402
from explorer.core.data import Dataset, open_dataset  # noqa: E402
from explorer.core.device import pick_precision  # noqa: E402
from explorer.core.kinds import build_model  # noqa: E402
from explorer.core.training import train  # noqa: E402

BATCH = 128


class PlainVAE(nn.Module):
    """The VAE as the PyTorch examples write it: the decoder ends in a sigmoid."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def plain_step(model: PlainVAE, opt: torch.optim.Optimizer, x: torch.Tensor) -> float:
    recon, mu, logvar = model(x)
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    loss = (bce + kld) / len(x)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def plain_epoch(images: np.ndarray) -> Callable[[], float]:
    """One epoch of the hand-written loop over preloaded float tensors."""
    model = PlainVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.from_numpy(images.reshape(len(images), -1)).float().div(255)

    def run() -> float:
        t0 = time.perf_counter()
        perm = torch.randperm(len(data))
        for b in range(0, len(data), BATCH):
            plain_step(model, opt, data[perm[b : b + BATCH]])
        return time.perf_counter() - t0

    return run


class PerItemMNIST(torch.utils.data.Dataset):
    """Per-item access exactly as torchvision's MNIST does it: the images and targets
    held as tensors, one PIL image per item, then transforms.ToTensor()."""

    def __init__(self, images: np.ndarray):
        self.data = torch.from_numpy(images)
        self.targets = torch.zeros(len(images), dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy(), mode="L")
        # ToTensor on an 8-bit PIL image:
        x = torch.from_numpy(np.array(img, np.uint8, copy=True))
        x = x.view(img.size[1], img.size[0], 1).permute((2, 0, 1)).contiguous()
        return x.to(dtype=torch.get_default_dtype()).div(255), target


def dataloader_epoch(images: np.ndarray) -> Callable[[], float]:
    model = PlainVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(PerItemMNIST(images), batch_size=BATCH, shuffle=True)

    def run() -> float:
        t0 = time.perf_counter()
        for x, _ in loader:
            plain_step(model, opt, x)
        return time.perf_counter() - t0

    return run


def core_epoch(dataset: Dataset, precision: str) -> Callable[[], float]:
    """One epoch of steps of explorer.core.training.train, as the app and CLI run it.

    One long run, one epoch per round: like the other contenders, its set-up and its
    per-epoch validation pass are outside the timed steps.
    """
    model = build_model(ModelConfig(image_shape=(1, 28, 28), latent_dim=20, hidden=(400,)))
    cfg = TrainConfig(
        epochs=1000, batch_size=BATCH, lr=1e-3, val_fraction=0.0, device="cpu", precision=precision
    )
    records = train(model, dataset, cfg)
    steps_per_epoch = -(-len(dataset) // BATCH)

    def run() -> float:
        r = next(records)  # set-up on the first round, else the last epoch's validation
        t0 = time.perf_counter()
        while not (r.kind == "step" and r.step % steps_per_epoch == 0):
            r = next(records)
        return time.perf_counter() - t0

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--mnist", type=Path, default=ROOT.parent / "shared/data/mnist/t10k-images-idx3-ubyte.gz"
    )
    ap.add_argument("--rounds", type=int, default=5, help="timed epochs per contender")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dataset = open_dataset(args.mnist)
    runners = {
        "core": core_epoch(dataset, "auto"),
        "core_fp32": core_epoch(dataset, "fp32"),
        "plain_loop": plain_epoch(dataset.images),
        "dataloader": dataloader_epoch(dataset.images),
    }
    rates: dict[str, list[float]] = {k: [] for k in runners}
    for r in range(args.rounds + 1):  # round 0 warms up
        for name, run in runners.items():
            seconds = run()
            if r:
                rates[name].append(len(dataset) / seconds)
    med = {k: statistics.median(v) for k, v in rates.items()}
    result = {
        "benchmark": "train_throughput",
        "model": "mlp 784-400-20, Adam 1e-3, batch 128, BCE",
        "data": f"MNIST test set, {len(dataset)} images",
        "threads": args.threads,
        "samples_per_s_median": {k: round(v) for k, v in med.items()},
        "samples_per_s_min_max": {k: [round(min(v)), round(max(v))] for k, v in rates.items()},
        "core_vs_plain": round(med["core"] / med["plain_loop"], 3),
        "core_vs_dataloader": round(med["core"] / med["dataloader"], 3),
        "core_precision": pick_precision("auto", torch.device("cpu")),
        "core_fp32_vs_plain": round(med["core_fp32"] / med["plain_loop"], 3),
        "core_fp32_vs_dataloader": round(med["core_fp32"] / med["dataloader"], 3),
        "targets": {"core_vs_plain": 1.2, "core_vs_dataloader": 3.0},
    }
    result["pass"] = result["core_vs_plain"] >= 1.2 and result["core_vs_dataloader"] >= 3.0
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
