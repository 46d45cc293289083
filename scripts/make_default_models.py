"""Make the two bundled checkpoints in resources/ reproducibly, with the CLI's own training.

    python scripts/make_default_models.py            # both
    python scripts/make_default_models.py digits     # one

digits: latent size 2, β = 1, so the plot is the latent space itself and the cursor
morphs one digit into another. sprites: a β-TCVAE of latent size 10 (total correlation
weighted β = 10) with a spatial broadcast decoder (`--arch broadcast`), so that x, y
and scale each have a slider of their own; the MIG it scores is in the README
("Disentanglement metrics"). Its seed was picked from a sweep: whether x and y come out
on the axes or turned within their plane is settled in the first epochs and differs
between seeds (docs/performance.md). Seeds and threads are fixed: the same torch version
on the same kind of machine reproduces the same weights (training runs in bf16 where the
CPU computes it natively, so a CPU without it trains other weights).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.cli import main as cli  # noqa: E402
from explorer.resources import bundled_model  # noqa: E402

RECIPES = {
    "digits": [
        "--dataset",
        "digits",
        "--latent-dim",
        "2",
        "--beta",
        "1",
        "--hidden",
        "512,256",
        "--epochs",
        "30",
        "--seed",
        "0",
        "--device",
        "cpu",
    ],
    "sprites": [
        "--dataset",
        "sprites",
        "--kind",
        "betatcvae",
        "--arch",
        "broadcast",
        "--latent-dim",
        "10",
        "--beta",
        "10",
        "--hidden",
        "400",
        "--epochs",
        "20",
        "--seed",
        "6",
        "--device",
        "cpu",
        "--threads",
        "1",
    ],
}


def main(names: list[str]) -> int:
    for name in names or list(RECIPES):
        status = cli(["train", *RECIPES[name], "--out", str(bundled_model(name))])
        if status != 0:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
