"""Training throughput of the core loop against what a user would write (DESIGN §5).

Model: the classic 784-400-20 MLP VAE, Adam 1e-3, batch 128, BCE, on the real MNIST
test images (../shared/data/mnist). Three contenders, same layer sizes, same data, same
thread count; one warm-up round, then several rounds with the contenders interleaved so
drift on a shared machine hits all of them alike; medians are compared.

  core        explorer.core.training.train, one epoch per round (validation excluded)
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
from explorer.core.model import build_model  # noqa: E402
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


def plain_epoch(images: np.ndarray) -> Callable[[], None]:
    """One epoch of the hand-written loop over preloaded float tensors."""
    model = PlainVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.from_numpy(images.reshape(len(images), -1)).float().div(255)

    def run() -> None:
        perm = torch.randperm(len(data))
        for b in range(0, len(data), BATCH):
            plain_step(model, opt, data[perm[b : b + BATCH]])

    return run


class PerItemMNIST(torch.utils.data.Dataset):
    """Per-item access as torchvision's MNIST does it: a PIL image, then ToTensor."""

    def __init__(self, images: np.ndarray):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        img = Image.fromarray(self.images[i], mode="L")
        x = torch.from_numpy(np.array(img, np.uint8, copy=True))
        x = x.view(img.size[1], img.size[0], 1).permute(2, 0, 1).contiguous()
        return x.float().div(255), 0


def dataloader_epoch(images: np.ndarray) -> Callable[[], None]:
    model = PlainVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(PerItemMNIST(images), batch_size=BATCH, shuffle=True)

    def run() -> None:
        for x, _ in loader:
            plain_step(model, opt, x)

    return run


def core_epoch(dataset: Dataset) -> Callable[[], None]:
    """One epoch of explorer.core.training.train, up to its last step (no validation)."""
    model = build_model(ModelConfig(image_shape=(1, 28, 28), latent_dim=20, hidden=(400,)))
    cfg = TrainConfig(epochs=1, batch_size=BATCH, lr=1e-3, val_fraction=0.0, device="cpu")

    def run() -> None:
        for r in train(model, dataset, cfg):
            if r.kind == "step" and r.step == r.steps_total:
                return  # leaving the generator here skips the validation pass

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
        "core": core_epoch(dataset),
        "plain_loop": plain_epoch(dataset.images),
        "dataloader": dataloader_epoch(dataset.images),
    }
    rates: dict[str, list[float]] = {k: [] for k in runners}
    for r in range(args.rounds + 1):  # round 0 warms up
        for name, run in runners.items():
            t0 = time.perf_counter()
            run()
            if r:
                rates[name].append(len(dataset) / (time.perf_counter() - t0))
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
        "targets": {"core_vs_plain": 1.2, "core_vs_dataloader": 3.0},
    }
    result["pass"] = result["core_vs_plain"] >= 1.2 and result["core_vs_dataloader"] >= 3.0
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
