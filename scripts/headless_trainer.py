"""The core's training loop in a process of its own, run on request: bench_ui's baseline.

    python scripts/headless_trainer.py '{"dataset": "digits", "count": 20000,
                                         "model": {...}, "train": {...}}'

loads the data once (ModelConfig / TrainConfig as their to_dict gives them), then for
each line read on stdin trains a fresh model and answers with one JSON line: the
samples/s of every epoch. Loop, data and thread count are those of `python -m explorer
train` (the core's generator on the main thread, torch's default threads, no Qt); only
the process start (importing torch) is paid once, so bench_ui can alternate runs here
with runs in the window a few seconds apart, and the machine's changing load falls on
both alike.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import load_dataset
from explorer.core.kinds import build_model
from explorer.core.training import train


def main() -> int:
    spec = json.loads(sys.argv[1])
    dataset = load_dataset(spec["dataset"], count=spec["count"])
    model_cfg = ModelConfig.from_dict(spec["model"]).validate()
    train_cfg = TrainConfig.from_dict(spec["train"]).validate()
    for _ in sys.stdin:
        model = build_model(model_cfg, seed=train_cfg.seed)
        rates = [p.samples_per_s for p in train(model, dataset, train_cfg) if p.kind == "epoch"]
        print(json.dumps(rates), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
