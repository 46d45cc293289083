"""Training throughput of one process against two under torchrun (gloo on the CPU).

Model: the classic 784-400-20 MLP VAE, Adam 1e-3, fp32, on the real MNIST test images
(../shared/data/mnist), a global batch of 128: one process of 128, and two processes
of 64 each (`torchrun --nproc-per-node 2`, one thread each as torchrun sets). Each
contender is the CLI a user runs, timed by its own epoch lines (the training loop's
images a second over an epoch; start-up, data reading and the final figures are
outside them); the last epoch's figure is reported, the first warms up.

  one_process_1_thread    python -m explorer train --threads 1
  one_process_n_threads   python -m explorer train (torch's default threads: one a core)
  two_processes           torchrun --nproc-per-node 2 -m explorer train --batch-size 64

Two processes share the machine's cores: on 2 cores they can at best match one process
using both, less the per-step all_reduce of gradients (a few hundred KB over loopback);
on more cores or GPUs each process brings its own. Prints one JSON line; exits 1 only
on a real failure: a run that fails, or two processes whose validation ELBO is not the
one process's (within `--elbo-tolerance` nats: each process draws its own sampling
noise, so the two runs are not identical, but the same training must land alike).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_EPOCH = re.compile(r"^epoch (\d+)/\d+ .*validation ELBO (-?[\d.]+).*?([\d,]+) img/s$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str], out: Path) -> dict[str, float]:
    """Run one contender; its last epoch's images a second and validation ELBO."""
    done = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    epochs = [m for line in done.stderr.splitlines() if (m := _EPOCH.match(line.strip()))]
    if done.returncode != 0 or not epochs:
        tail = done.stderr.strip().splitlines()[-3:]
        raise SystemExit(f"{' '.join(command[:6])}…: failed ({done.returncode}): {tail}")
    last = epochs[-1]
    return {"samples_per_s": float(last[3].replace(",", "")), "val_elbo": float(last[2])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--mnist", type=Path, default=ROOT.parent / "shared/data/mnist/t10k-images-idx3-ubyte.gz"
    )
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--elbo-tolerance", type=float, default=3.0, help="nats per image")
    args = ap.parse_args()
    train = ["-m", "explorer", "train", "--dataset", str(args.mnist), "--epochs", str(args.epochs)]
    train += ["--latent-dim", "20", "--hidden", "400", "--precision", "fp32", "--device", "cpu"]
    python = [sys.executable]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    torchrun += ["--master-addr", "127.0.0.1", "--master-port", str(_free_port())]
    contenders = {
        "one_process_1_thread": [*python, *train, "--batch-size", "128", "--threads", "1"],
        "one_process_n_threads": [*python, *train, "--batch-size", "128"],
        "two_processes": [*torchrun, *train, "--batch-size", "64"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        figures = {
            name: _run(command, Path(tmp) / f"{name}.safetensors")
            for name, command in contenders.items()
        }
    one, two = figures["one_process_1_thread"], figures["two_processes"]
    gap = abs(one["val_elbo"] - two["val_elbo"])
    print(
        json.dumps(
            {
                "cores": os.cpu_count(),
                "global_batch": 128,
                "epochs": args.epochs,
                **figures,
                "two_over_one_1_thread": two["samples_per_s"] / one["samples_per_s"],
                "two_over_one_n_threads": two["samples_per_s"]
                / figures["one_process_n_threads"]["samples_per_s"],
                "val_elbo_gap": gap,
            }
        )
    )
    return 0 if gap <= args.elbo_tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
