"""Model quality with the core's training, on fixed budgets (issue: core engine).

1. MNIST: the classic 784-400-20 MLP VAE (Adam 1e-3, batch 128, BCE), 10 epochs on
   9,000 of the real MNIST test images, validation ELBO on the other 1,000.
2. sprites: MIG of a latent-size-10 model at β = 1 and at β = 4, same architecture,
   data and budget. Target: MIG(β=4) > MIG(β=1) and MIG(β=4) ≥ 0.2.

Prints one JSON line; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.core.config import ModelConfig, TrainConfig  # noqa: E402
from explorer.core.data import make_sprites, open_dataset  # noqa: E402
from explorer.core.kinds import build_model  # noqa: E402
from explorer.core.metrics import report  # noqa: E402
from explorer.core.training import train  # noqa: E402


def run(model, dataset, cfg):
    last = None
    for p in train(model, dataset, cfg):
        last = p
    return last


def mnist_elbo(path: Path) -> dict:
    data = open_dataset(path)
    model = build_model(ModelConfig(latent_dim=20, hidden=(400,)))
    t0 = time.perf_counter()
    done = run(model, data, TrainConfig(epochs=10, batch_size=128, lr=1e-3, val_fraction=0.1))
    return {
        "validation_elbo": round(done.val.elbo, 2),
        "recon": round(done.val.recon, 2),
        "kl": round(done.val.kl, 2),
        "validation_images": done.val.count,
        "train_images": len(data) - done.val.count,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def sprites_mig(count: int, epochs: int, hidden: tuple[int, ...]) -> dict:
    data = make_sprites(count, seed=0)
    out = {}
    for beta in (1.0, 4.0):
        model = build_model(
            ModelConfig(image_shape=(1, 64, 64), latent_dim=10, hidden=hidden), seed=0
        )
        t0 = time.perf_counter()
        run(model, data, TrainConfig(beta=beta, epochs=epochs, batch_size=128, lr=1e-3))
        rep = report(model, data)
        out[f"beta_{beta:g}"] = {
            "mig": round(rep.mig.score, 3),
            "mig_per_factor": {
                n: round(g, 3) for n, g in zip(rep.mig.factor_names, rep.mig.gaps, strict=True)
            },
            "active_units": rep.active_count,
            "elbo": round(rep.evaluation.elbo, 2),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--mnist", type=Path, default=ROOT.parent / "shared/data/mnist/t10k-images-idx3-ubyte.gz"
    )
    ap.add_argument("--sprites", type=int, default=50_000, help="sprites images for the MIG runs")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per sprites model")
    ap.add_argument("--hidden", default="512,256")
    args = ap.parse_args()
    hidden = tuple(int(h) for h in args.hidden.split(","))
    result = {
        "benchmark": "quality",
        "mnist": mnist_elbo(args.mnist),
        "sprites": {
            "images": args.sprites,
            "epochs": args.epochs,
            "hidden": list(hidden),
            **sprites_mig(args.sprites, args.epochs, hidden),
        },
    }
    m1, m4 = result["sprites"]["beta_1"]["mig"], result["sprites"]["beta_4"]["mig"]
    result["pass"] = m4 > m1 and m4 >= 0.2
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
