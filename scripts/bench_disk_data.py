"""A `.npy` dataset several times the memory budget: trained and encoded in bounded memory.

Writes a uint8 `.npy` of 64×64 images (`--gib`, default 1.5 GiB, written a chunk at a
time) and, in a fresh Python process that takes the machine to have `--budget-mb` of
memory (default 500: the file is then 3× that; `files.memory_budget`, what one dataset
may take, is a quarter of it, as on a real machine, so the loader leaves the file on
disk instead of loading it), runs what a user runs on it:

  train    `python -m explorer train --dataset FILE --epochs 1` (the CLI, one thread,
           a small MLP: the data's reading is measured, not the model's arithmetic)
  encode   every image's code from the saved checkpoint (`metrics.encode`, what the app
           plots) and every image's reconstruction error (`per_point`, what it colours by)

The child's peak resident memory (everything it held at its peak, the Python and torch
libraries included) is measured twice: its own VmHWM (Linux), and its ru_maxrss read by
this process once it has ended (which also counts what it started with: this process's
peak, as it is forked from it). Both must stay under the budget. Prints one JSON line; exits
1 when the peak is over the budget or the file is under 3× it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIDE = 64  # image side: a page (4 KiB) per image, so a gather touches few pages per row

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
from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import open_dataset
from explorer.core.metrics import encode
from explorer.core.model import images_to_tensor
from explorer.core.per_point import reconstruction_errors
path, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
status = cli.main(["train", "--dataset", path, "--epochs", "1", "--latent-dim", "4",
                   "--hidden", "32", "--threads", "1", "--out", out])
t1 = time.perf_counter()
model = load_checkpoint(out).model
data = open_dataset(path)
images = images_to_tensor(data.images)
mu, logvar = encode(model, images)
errors = reconstruction_errors(model, images, mu)
t2 = time.perf_counter()
hwm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({{"status": status, "child_vmhwm_bytes": hwm,
                  "held": type(data.images).__name__, "images": len(data),
                  "codes": list(mu.shape), "errors_finite": bool((errors == errors).all()),
                  "train_s": t1 - t0, "encode_s": t2 - t1}}))
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
    args = parser.parse_args()
    budget = args.budget_mb << 20
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "big.npy"
        size = write_npy(path, args.gib)
        child = _CHILD.format(root=str(ROOT), budget=budget)
        t0 = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", child, str(path), str(Path(tmp) / "model.safetensors")],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
    if run.returncode != 0:
        print(run.stdout[-2000:], run.stderr[-4000:], file=sys.stderr)
        return 1
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    result = {
        "file_bytes": size,
        "budget_bytes": budget,
        "file_over_budget": round(size / budget, 2),
        "peak_rss_bytes": peak,
        "peak_over_budget": round(peak / budget, 3),
        "wall_s": round(wall, 1),
        **figures,
    }
    print(json.dumps(result))
    ok = max(peak, figures["child_vmhwm_bytes"]) <= budget and size >= 3 * budget
    ok = ok and figures["status"] == 0
    return 0 if ok and figures["held"] == "DiskImages" else 1


if __name__ == "__main__":
    sys.exit(main())
