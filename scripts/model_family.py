"""The model family side by side (issue: PCA → AE → sparse AE → VAE → β-VAE → CVAE → IWAE
→ planar-flow VAE, then the disentangling objectives: β-TCVAE, FactorVAE, AnnealedVAE,
and a cyclical KL schedule; the semi-supervised M2 told 10% and 1% of the labels beside
the CVAE told them all).

Trains each kind on the same data with the same latent size and budget, and scores it
on the held-out validation images: reconstruction (nats), squared error, KL, ELBO,
the importance-weighted bound (k = 50) and the share of prior samples decoded onto
the data (core/on_data.py); for a deterministic code, how many of its units fire per
image (core/sparsity.py); for M2, its classifier's accuracy on the held-out labels.
Figures a kind does not define print as null.

    python scripts/model_family.py                      # built-in digits
    python scripts/model_family.py --dataset ../shared/data/mnist/t10k-images-idx3-ubyte.gz
    python scripts/model_family.py --only vae --only "planar-flow vae (K=4)"

Prints one JSON line per model and a summary line; exits 1 when one of the argument's
claims fails on these figures (those whose models ran): the autoencoder reconstructs
better than PCA, β = 4 trades reconstruction for less KL than β = 1, the IWAE's and
the flow's bounds are at least their ELBOs, the class makes the CVAE's ELBO better than
the VAE's, and fewer units fire per image in the sparse autoencoders' codes than in
the autoencoder's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.core.config import TrainConfig  # noqa: E402
from explorer.core.data import load_dataset  # noqa: E402
from explorer.core.kinds import ModelSettings, build_model, model_config  # noqa: E402
from explorer.core.metrics import encode, report  # noqa: E402
from explorer.core.model import images_to_tensor  # noqa: E402
from explorer.core.sparsity import firing  # noqa: E402
from explorer.core.train_split import split_indices  # noqa: E402
from explorer.core.training import train  # noqa: E402

# name -> (model kind, training settings besides the shared ones)
FAMILY = {
    "pca": ("pca", {}),
    "ae": ("ae", {}),
    "sparse ae (L1, λ=1)": ("sparseae", {"sparsity": 1.0}),
    "sparse ae (KL, λ=10, ρ=0.05)": ("sparseae-kl", {"sparsity": 10.0, "rho": 0.05}),
    "vae": ("vae", {"beta": 1.0}),
    "beta-vae (β=4)": ("vae", {"beta": 4.0}),
    "cvae": ("cvae", {}),
    "iwae (k=5)": ("iwae", {"samples": 5}),
    "planar-flow vae (K=4)": ("flowvae", {}),
    "vae, masked": ("vae", {"corruption": "mask"}),
    "vae, cyclical β": ("vae", {"kl_schedule": "cyclical"}),
    "beta-tcvae (β=6)": ("betatcvae", {"beta": 6.0}),
    "factorvae (γ=10)": ("factorvae", {"gamma": 10.0}),
    "annealedvae (γ=1000, C=25)": ("annealedvae", {"gamma": 1000.0, "c_max": 25.0}),
    "m2 (10% labels)": ("m2", {"labelled": 0.1}),
    "m2 (1% labels)": ("m2", {"labelled": 0.01}),
}

# claim -> (the models it compares, its test on their rows)
CLAIMS = {
    "ae reconstructs better than pca": (
        ("ae", "pca"),
        lambda r: r["ae"]["sq_error"] < r["pca"]["sq_error"],
    ),
    "β=4: less KL, worse reconstruction": (
        ("beta-vae (β=4)", "vae"),
        lambda r: (
            r["beta-vae (β=4)"]["kl"] < r["vae"]["kl"]
            and r["beta-vae (β=4)"]["recon"] > r["vae"]["recon"]
        ),
    ),
    "iwae bound ≥ its elbo": (
        ("iwae (k=5)",),
        lambda r: r["iwae (k=5)"]["iw_bound"] >= r["iwae (k=5)"]["elbo"],
    ),
    "flow bound ≥ its elbo": (
        ("planar-flow vae (K=4)",),
        lambda r: r["planar-flow vae (K=4)"]["iw_bound"] >= r["planar-flow vae (K=4)"]["elbo"],
    ),
    "cvae elbo > vae elbo": (("cvae", "vae"), lambda r: r["cvae"]["elbo"] > r["vae"]["elbo"]),
    "sparse codes: fewer units fire than the ae's": (
        ("ae", "sparse ae (L1, λ=1)", "sparse ae (KL, λ=10, ρ=0.05)"),
        lambda r: (
            r["sparse ae (L1, λ=1)"]["units_firing"] < r["ae"]["units_firing"]
            and r["sparse ae (KL, λ=10, ρ=0.05)"]["units_firing"] < r["ae"]["units_firing"]
        ),
    ),
}


def run_one(name: str, dataset, args) -> dict:
    kind, extra = FAMILY[name]
    model_cfg = model_config(ModelSettings(kind, args.latent_dim, hidden=(400,)), dataset)
    train_cfg = TrainConfig(epochs=args.epochs, seed=args.seed, **extra)
    model = build_model(model_cfg, seed=args.seed)
    t0 = time.perf_counter()
    for _ in train(model, dataset, train_cfg):
        pass
    seconds = time.perf_counter() - t0
    _, val_idx = split_indices(len(dataset), train_cfg.val_fraction, train_cfg.seed)
    held_out = dataset.subset(val_idx)
    rep = report(model, held_out, iw_k=50, seed=args.seed, on_data_samples=1000)
    row = {"model": name, "train_s": round(seconds, 1), **rep.to_dict()}
    if model.deterministic:
        codes, _ = encode(model, images_to_tensor(held_out.images))
        row["units_firing"] = float(firing(codes).sum(1).mean())
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="digits", help="built-in name or a dataset file")
    ap.add_argument("--latent-dim", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--only",
        action="append",
        help="a model of the family to train, by its name; repeat for more (default all)",
    )
    args = ap.parse_args()
    names = args.only or list(FAMILY)
    unknown = [n for n in names if n not in FAMILY]
    if unknown:
        ap.error(f"--only: {', '.join(unknown)} not in the family ({', '.join(FAMILY)})")
    dataset = load_dataset(args.dataset)
    rows = {}
    for name in names:
        rows[name] = run_one(name, dataset, args)
        print(json.dumps(rows[name]), flush=True)
    claims = {
        claim: test(rows)
        for claim, (needs, test) in CLAIMS.items()
        if all(name in rows for name in needs)
    }
    print(json.dumps({"dataset": dataset.name, "images": len(dataset), "claims": claims}))
    return 0 if all(claims.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
