"""Train the example VAE the way its own repository would, and save its weights.

    python examples/own_vae/train.py t10k-images-idx3-ubyte.gz --epochs 10 --out vae.pth

A stand-in for "a model trained elsewhere": plain PyTorch, no Latent Explorer. It also
writes a TorchScript copy (`--torchscript vae.pt`) for the other way of opening it.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import build_model


def read_idx_images(path: Path) -> torch.Tensor:
    """An MNIST-style IDX image file (.gz or raw) -> (N, 784) float in [0, 1]."""
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    n, h, w = (int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(3))
    pixels = np.frombuffer(raw, np.uint8, n * h * w, offset=16)
    return torch.from_numpy(pixels.reshape(n, h * w).astype(np.float32) / 255)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("images", type=Path)
    ap.add_argument("--latent-dim", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("vae.pth"))
    ap.add_argument("--torchscript", type=Path)
    args = ap.parse_args()
    torch.manual_seed(0)
    x = read_idx_images(args.images)
    model = build_model(args.latent_dim)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        total = 0.0
        for idx in torch.randperm(len(x)).split(128):
            batch = x[idx]
            recon, mu, logvar = model(batch)
            bce = F.binary_cross_entropy(recon, batch, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + kl) / len(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1}: loss {total / len(x):.1f} nats/image")
    torch.save(model.state_dict(), args.out)
    print(f"wrote {args.out}")
    if args.torchscript:
        model.eval()
        scripted = torch.jit.script(model)
        scripted.save(str(args.torchscript))
        print(f"wrote {args.torchscript}")


if __name__ == "__main__":
    main()
