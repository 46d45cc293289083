"""A `.npy` dataset several times the memory budget: trained and encoded in bounded memory.

Writes a uint8 `.npy` of 64×64 images (`--gib`, default 1.5 GiB, written a chunk at a
time) and runs what a user runs on it in fresh Python processes that take the machine
to have `--budget-mb` of memory (default 500: the file is then 3× that).
`files.memory_budget`, what one dataset may take, is a quarter of it there, as on a
real machine, so the loader leaves the file on disk instead of loading it. One thread,
a small MLP (latent 4, hidden 32): the data's reading is measured, not arithmetic.

  core   one epoch of the training loop (what `train` and the app's Train run), then
         every image's code (`metrics.encode`, what the app plots) and reconstruction
         error (`per_point`, what it colours by). Its peak must be under the budget.
  cli    (with --cli) `python -m explorer train --dataset FILE --epochs 1`: the same
         epoch, then the CLI's closing figures on a seeded 10,000 of the images, whose
         on-data check keeps up to 5,000 float reference images (82 MB at 64×64) and
         torch.cdist a copy of them per pass: bounded by those counts, not by the file.
         Reported, not held to the budget.

Each child's peak resident memory (everything it held at its peak, the Python and torch
libraries included) is its VmHWM (Linux), printed by the child. Prints one JSON line;
exits 1 when the core peak is over the budget or the file is under 3× it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIDE = 64  # image side: 4 KiB per image

_CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)
from explorer.core import files
# a machine of `budget` bytes: a dataset may take a quarter of it, as files.memory_budget
# says of a real one (passes over the data are sized from it and take their multiples)
files.memory_budget = lambda: {budget} // 4
from explorer import cli
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import open_dataset
from explorer.core.kinds import build_model
from explorer.core.metrics import encode
from explorer.core.model import images_to_tensor
from explorer.core.per_point import reconstruction_errors
from explorer.core.training import train
what, path, out = sys.argv[1:4]
figures = {{}}
t0 = time.perf_counter()
if what == "cli":
    figures["status"] = cli.main(["train", "--dataset", path, "--epochs", "1", "--latent-dim",
                                  "4", "--hidden", "32", "--threads", "1", "--out", out])
    figures["train_s"] = time.perf_counter() - t0
else:
    data = open_dataset(path)
    model = build_model(ModelConfig(image_shape=data.image_shape, latent_dim=4, hidden=(32,)))
    last = list(train(model, data, TrainConfig(epochs=1, threads=1, device="cpu")))[-1]
    t1 = time.perf_counter()
    images = images_to_tensor(data.images)
    mu, logvar = encode(model, images)
    errors = reconstruction_errors(model, images, mu)
    figures.update(status=0 if last.status == "completed" else 1, images=len(data),
                   held=type(data.images).__name__, codes=list(mu.shape),
                   finite=bool(torch.isfinite(torch.from_numpy(errors)).all()),
                   train_s=t1 - t0, samples_per_s=last.samples_per_s,
                   encode_s=time.perf_counter() - t1)
figures["peak_bytes"] = next(
    int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM")
)
print(json.dumps(figures))
"""


def write_npy(path: Path, gib: float) -> int:
    """A uint8 (N, 64, 64) `.npy` of about `gib` GiB, written a chunk at a time with plain
    writes (a mapping would count in this process's peak, and a child forked from it
    starts with that peak as its own ru_maxrss): its size."""
    n = int(gib * 2**30) // (SIDE * SIDE)
    rng = np.random.default_rng(0)
    chunk = 8192
    with open(path, "wb") as f:
        header = {"descr": "|u1", "fortran_order": False, "shape": (n, SIDE, SIDE)}
        np.lib.format.write_array_header_1_0(f, header)
        for lo in range(0, n, chunk):  # blobs of varying brightness: something to learn
            k = min(chunk, n - lo)
            levels = rng.integers(0, 256, (k, 1, 1), dtype=np.uint8)
            images = np.repeat(np.repeat(levels, SIDE, 1), SIDE, 2)
            images[:, 16:48, 16:48] = 255 - levels
            f.write(images.tobytes())
    return path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.5, help="size of the .npy file")
    parser.add_argument("--budget-mb", type=int, default=500, help="the memory budget")
    parser.add_argument("--dir", default=None, help="where to write the file (default: /tmp)")
    parser.add_argument("--cli", action="store_true", help="also run the CLI's train on it")
    args = parser.parse_args()
    budget = args.budget_mb << 20
    result: dict = {"budget_bytes": budget}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "big.npy"
        result["file_bytes"] = size = write_npy(path, args.gib)
        result["file_over_budget"] = round(size / budget, 2)
        child = _CHILD.format(root=str(ROOT), budget=budget)
        for what in ("core", "cli") if args.cli else ("core",):
            out = str(Path(tmp) / "model.safetensors")
            t0 = time.perf_counter()
            run = subprocess.run(
                [sys.executable, "-c", child, what, str(path), out], capture_output=True, text=True
            )
            if run.returncode != 0:
                print(run.stdout[-2000:], run.stderr[-4000:], file=sys.stderr)
                return 1
            figures = json.loads(run.stdout.strip().splitlines()[-1])
            figures["wall_s"] = round(time.perf_counter() - t0, 1)
            figures["peak_over_budget"] = round(figures["peak_bytes"] / budget, 3)
            result[what] = figures
    print(json.dumps(result))
    core = result["core"]
    ok = core["peak_bytes"] <= budget and size >= 3 * budget and core["status"] == 0
    ok = ok and core["held"] == "DiskImages" and result.get("cli", {}).get("status", 0) == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
