"""Make the two bundled checkpoints in resources/ reproducibly, with the CLI's own training.

    python scripts/make_default_models.py            # both
    python scripts/make_default_models.py digits     # one

digits: latent size 2, β = 1, so the plot is the latent space itself and the cursor
morphs one digit into another. sprites: a β-TCVAE of latent size 10 (total correlation
weighted β = 10), so that several sliders move one factor each (scale, x, y); of the
recipes tried on a CPU it scored the highest MIG (README, "Disentanglement"). Seeds and
threads are fixed: the same torch version on the same kind of machine reproduces the
same weights.
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
        "--latent-dim",
        "10",
        "--beta",
        "10",
        "--hidden",
        "512,256",
        "--epochs",
        "40",
        "--seed",
        "0",
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
