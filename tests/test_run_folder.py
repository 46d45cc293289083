"""`train --run-dir`: what the run folder holds as the run goes and however it ends, and
that its reader takes only whole, valid records."""

from __future__ import annotations

import contextlib
import json
import math
import threading

import pytest
import torch

from explorer import cli
from explorer.core.checkpoint import Checkpoint, load_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import make_digits
from explorer.core.kinds import build_model
from explorer.core.run_folder import (
    CHECKPOINT_FILE,
    METRICS_FILE,
    RUN_FILE,
    MetricsReader,
    RunError,
    RunWriter,
    read_run,
)
from explorer.core.training import train
from tests.run_writer import finished_run, run_epochs


def test_each_epoch_is_written_as_it_ends(tmp_path):
    folder = tmp_path / "run"
    run = run_epochs(folder, epochs=2)
    p = next(run)  # epoch 1 written
    r = read_run(folder)
    assert (r.state, r.epochs, r.epochs_done) == ("running", 2, 1)
    assert r.model.latent_dim == 2 and r.train.epochs == 2 and r.dataset["num_images"] == 256
    records = MetricsReader(folder, r.epochs).read_new()
    assert [e.epoch for e in records] == [1]
    assert records[0].val.elbo == pytest.approx(p.val.elbo)
    steps, epoch = records[0].progress(r.epochs)
    assert len(steps) == p.step and steps[-1].loss == pytest.approx(p.loss)
    assert epoch.kind == "epoch" and epoch.val.kl_per_dim == pytest.approx(p.val.kl_per_dim)
    epoch_one = load_checkpoint(folder / CHECKPOINT_FILE)
    assert epoch_one.metrics["elbo"] == pytest.approx(p.val.elbo)
    assert [e.epoch for e in epoch_one.history] == [1]  # its curves, for a report
    next(run)  # epoch 2
    done = next(run)
    assert done.status == "completed"
    r = read_run(folder)
    assert (r.state, r.epochs_done, r.message) == ("finished", 2, done.message)
    assert len((folder / METRICS_FILE).read_text().splitlines()) == 2


def test_a_half_written_line_is_not_a_record(tmp_path):
    folder = tmp_path / "run"
    run = run_epochs(folder, epochs=2)
    next(run)
    reader = MetricsReader(folder, 2)
    assert len(reader.read_new()) == 1
    whole = (folder / METRICS_FILE).read_bytes()
    with open(folder / METRICS_FILE, "ab") as f:  # a writer half-way through a line
        f.write(b'{"epoch": 2, "step": 8, "steps_to')
    assert reader.read_new() == []
    (folder / METRICS_FILE).write_bytes(whole)  # the writer's own line goes there instead
    next(run)
    assert [e.epoch for e in reader.read_new()] == [2]


def test_a_record_that_lies_is_refused_naming_its_line(tmp_path):
    folder = finished_run(tmp_path / "run")
    line = json.loads((folder / METRICS_FILE).read_text())
    line["epoch"] = 5  # of a 1-epoch run
    with open(folder / METRICS_FILE, "a") as f:
        f.write(json.dumps(line) + "\n")
    with pytest.raises(RunError, match=r"metrics.jsonl line 2: epoch must be between 1 and 1"):
        MetricsReader(folder, 1).read_new()


def interrupted_after_one_epoch(folder, how: str) -> bytes:
    """A run stopped in its second epoch, by Ctrl-C once (the loop's stop), by a second
    Ctrl-C or by a failure; the checkpoint of epoch 1 as it was written."""
    data = make_digits(256, seed=0)
    model = build_model(ModelConfig(latent_dim=2, hidden=(16,)))
    cfg = TrainConfig(epochs=3, batch_size=64)
    cancel = threading.Event()
    first = b""
    raises = pytest.raises((KeyboardInterrupt, RuntimeError))
    with (
        raises if how != "stop" else contextlib.nullcontext(),
        RunWriter(folder, model.config, cfg, data) as run,
    ):
        for p in train(model, data, cfg, cancel=cancel):
            run.record(p, model)
            if p.kind == "epoch":
                first = (folder / CHECKPOINT_FILE).read_bytes()
            elif p.kind == "step" and p.epoch == 1:
                if how == "stop":
                    cancel.set()
                elif how == "ctrl-c":
                    raise KeyboardInterrupt
                else:
                    raise RuntimeError("CUDA error: out of memory")
            elif p.kind == "done":
                run.finish(p, Checkpoint(model=model, train_config=cfg))
    return first


@pytest.mark.parametrize(
    "how, expected, message",
    [
        ("stop", "interrupted", "Stopped by the user"),
        ("ctrl-c", "interrupted", "interrupted (Ctrl-C)"),
        ("failure", "failed", "CUDA error: out of memory"),
    ],
)
def test_an_ended_run_says_how_and_keeps_its_last_epoch(tmp_path, how, expected, message):
    folder = tmp_path / "run"
    epoch_one = interrupted_after_one_epoch(folder, how)
    r = read_run(folder)
    assert (r.state, r.epochs_done) == (expected, 1) and message in r.message
    assert (folder / CHECKPOINT_FILE).read_bytes() == epoch_one  # the last good weights
    load_checkpoint(folder / CHECKPOINT_FILE)


def test_cli_train_writes_the_run_folder(tmp_path, capsys):
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    argv = ["train", "--count", "120", "--epochs", "2", "--hidden", "8", "--out", str(out)]
    assert cli.main([*argv, "--run-dir", str(folder)]) == 0
    r = read_run(folder)
    assert (r.state, r.epochs_done) == ("finished", 2)
    final, saved = load_checkpoint(folder / CHECKPOINT_FILE), load_checkpoint(out)
    for k, v in saved.model.state_dict().items():
        assert torch.equal(v, final.model.state_dict()[k])
    assert final.metrics == saved.metrics and "active_units" in final.metrics
    assert cli.main([*argv, "--run-dir", str(folder)]) == 2  # it holds a run already
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"{folder}: already holds a run (run.json); choose another")
    )


def test_cli_refuses_a_run_folder_it_cannot_write_in_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    folder = tmp_path / "file" / "run"  # under a file: no one can make it, root included
    code = cli.main(["train", "--count", "60", "--epochs", "1", "--run-dir", str(folder)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"error: --run-dir {folder}: cannot be made (Not a directory)"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"not a training run folder \(no run.json\)"),
        ("{", "run.json: not valid JSON"),
        ('{"format": "latent-explorer-run", "version": 1}', "run.json: epochs must be"),
    ],
)
def test_a_folder_that_is_no_run_is_named(tmp_path, content, message):
    if content is not None:
        (tmp_path / RUN_FILE).write_text(content)
    with pytest.raises(RunError, match=message) as e:
        read_run(tmp_path)
    assert str(tmp_path) in str(e.value)


def test_run_json_that_lies_about_its_epochs_is_refused(run_folder, tmp_path):
    data = json.loads((run_folder / RUN_FILE).read_text())
    data["epochs_done"] = data["epochs"] + 1
    (tmp_path / RUN_FILE).write_text(json.dumps(data))
    with pytest.raises(RunError, match="epochs_done must be between 0 and 1"):
        read_run(tmp_path)


def test_a_disentangling_run_carries_its_total_correlation(tmp_path):
    """β-TCVAE's steps report a TC estimate; the follower's curves draw it too."""
    data = make_digits(256, seed=0)
    model = build_model(ModelConfig(kind="betatcvae", latent_dim=2, hidden=(16,)))
    cfg = TrainConfig(epochs=1, batch_size=64)
    steps = []
    with RunWriter(tmp_path / "run", model.config, cfg, data) as run:
        for p in train(model, data, cfg):
            run.record(p, model)
            steps += [p] if p.kind == "step" else []
            if p.kind == "done":
                run.finish(p, Checkpoint(model=model, train_config=cfg))
    (record,) = MetricsReader(tmp_path / "run", 1).read_new()
    read, _ = record.progress(1)
    assert [r.tc for r in read] == pytest.approx([p.tc for p in steps])
    assert all(math.isfinite(r.tc) for r in read)
