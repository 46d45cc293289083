"""The full 737,280-image sprites grid: memory and speed (DESIGN §5, issue: speed and scale).

Each measurement runs in a fresh Python process so its peak memory (ru_maxrss) is its
own:

  generate   make_sprites(None): the whole grid, bit-packed as it is rendered
  train      the grid generated, then the core's training loop (latent 10, MLP 512-256,
             batch 128) for `--steps` steps, and the images per second of those steps
  encode     the grid generated, then every image encoded in chunks of 4,096, as the
             app does after opening it (the chunks are unpacked one at a time)

Prints one JSON line; exits 1 when a process needed more than 2 GiB (the issue's
budget for the loader; training and encoding are held to it too).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MB = 2048

_CHILD = r"""
import json, resource, sys, time, threading
sys.path.insert(0, {root!r})
import torch
from explorer.core.data import make_sprites
what, steps = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
data = make_sprites(None)
out = {{"images": len(data), "generate_s": time.perf_counter() - t0,
        "images_mb": data.images.nbytes / 2**20}}
if what == "train":
    from explorer.core.config import ModelConfig, TrainConfig
    from explorer.core.kinds import build_model
    from explorer.core.training import train
    model = build_model(ModelConfig(image_shape=(1, 64, 64), latent_dim=10, hidden=(512, 256)))
    cancel = threading.Event()
    timed = None
    for p in train(model, data, TrainConfig(epochs=1, device="cpu"), cancel=cancel):
        if p.kind == "step" and p.step == 20:  # warmed up
            timed = time.perf_counter()
        if p.kind == "step" and p.step == 20 + steps:
            out["train_img_per_s"] = steps * 128 / (time.perf_counter() - timed)
            cancel.set()
if what == "encode":
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model
    from explorer.core.metrics import encode
    from explorer.core.model import images_to_tensor
    model = build_model(ModelConfig(image_shape=(1, 64, 64), latent_dim=10, hidden=(512, 256)))
    images = images_to_tensor(data.images)
    t0 = time.perf_counter()
    for lo in range(0, len(images), 4096):
        encode(model, images[lo : lo + 4096])
    out["encode_s"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def child(what: str, steps: int) -> dict:
    code = _CHILD.format(root=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code, what, str(steps)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{what}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=200, help="timed training steps")
    args = ap.parse_args()
    runs = {what: child(what, args.steps) for what in ("generate", "train", "encode")}
    result = {
        "benchmark": "sprites_full_grid",
        "images": runs["generate"]["images"],
        "packed_images_mb": round(runs["generate"]["images_mb"], 1),
        "generate_s": round(runs["generate"]["generate_s"], 2),
        "train_img_per_s": round(runs["train"]["train_img_per_s"]),
        "encode_all_s": round(runs["encode"]["encode_s"], 1),
        "peak_rss_mb": {k: round(v["peak_rss_mb"]) for k, v in runs.items()},
        "budget_mb": BUDGET_MB,
    }
    result["pass"] = max(result["peak_rss_mb"].values()) <= BUDGET_MB
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
