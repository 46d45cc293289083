"""torchrun training: several processes (gloo on the CPU) train one model.

The end-to-end tests start real launchers (`python -m torch.distributed.run`, what the
`torchrun` script runs) on 127.0.0.1 with a free port, on tiny data, as a user would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from explorer.cli import main
from explorer.core.checkpoint import load_checkpoint, read_metadata
from explorer.core.distributed import Group
from tests.checkpoint_writer import valid_metadata, write_checkpoint

# 301 digits keep 271 for training: a last global batch of 15, shared 8 and 7
DATA = ["--dataset", "digits", "--count", "301", "--hidden", "16", "--latent-dim", "2"]
FP32 = ["--precision", "fp32"]  # the same arithmetic in every process, whatever the CPU
_LAUNCH_TIMEOUT = 300  # seconds a launch may take on a loaded machine before it has failed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(*launcher: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *launcher, "-m", "explorer", "train"]


def _local(nproc: int) -> list[str]:
    """A launcher of `nproc` processes on this machine."""
    port = str(_free_port())
    return _torchrun(
        "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1", "--master-port", port
    )


def _failure(stderr: str) -> str:
    """What a failed launch printed, for the assertion: the ranks' own messages come
    first and torchrun's long ChildFailedError traceback last, so keep both ends."""
    return stderr if len(stderr) <= 6000 else f"{stderr[:4000]}\n[…]\n{stderr[-2000:]}"


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path).model.state_dict()


def test_two_processes_of_batch_64_end_with_the_weights_of_one_process_of_batch_128(
    tmp_path, capsys
):
    # the autoencoder: a VAE's ranks each draw their own reparameterisation noise
    settings = [*DATA, "--kind", "ae", "--epochs", "2", *FP32]
    two = tmp_path / "two.safetensors"
    done = subprocess.run(
        [*_local(2), *settings, "--batch-size", "64", "--out", str(two)],
        capture_output=True,
        text=True,
        timeout=_LAUNCH_TIMEOUT,
    )
    assert done.returncode == 0, _failure(done.stderr)
    # rank 0 alone reports: one line per epoch, not one per process
    assert done.stderr.count("epoch 1/2") == 1 and f"saved {two}" in done.stdout
    one = tmp_path / "one.safetensors"
    assert (
        main(["train", *settings, "--batch-size", "128", "--threads", "1", "--out", str(one)]) == 0
    )
    capsys.readouterr()
    a, b = _weights(two), _weights(one)
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(
            a[name], b[name], rtol=0, atol=1e-5, msg=lambda m, name=name: f"{name}: {m}"
        )
    assert read_metadata(two)["distributed"] == {"world_size": 2, "global_batch": 128}
    assert read_metadata(one)["distributed"] == {"world_size": 1, "global_batch": 128}
    assert load_checkpoint(two).history[-1].val_recon == pytest.approx(
        load_checkpoint(one).history[-1].val_recon, rel=1e-5
    )


def test_two_nodes_meet_through_the_c10d_rendezvous_and_save_one_model(tmp_path):
    out = tmp_path / "nodes.safetensors"
    launcher = _torchrun(
        "--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d",
        "--rdzv-endpoint", f"127.0.0.1:{_free_port()}", "--rdzv-id", "test",
    )  # fmt: skip
    command = [*launcher, *DATA, "--epochs", "1", "--batch-size", "64", *FP32, "--out", str(out)]
    nodes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [node.communicate(timeout=_LAUNCH_TIMEOUT) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], [_failure(err) for _, err in results]
    assert sum(f"saved {out}" in stdout for stdout, _ in results) == 1  # one rank 0 of two
    saved = load_checkpoint(out)
    assert saved.world_size == 2 and saved.global_batch == 128 and len(saved.history) == 1


def _rank_process(launcher_pid: int, rank: int) -> int:
    """The pid of the worker of `rank` that the launcher started."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == launcher_pid and f"RANK={rank}".encode() in environ:
            return int(entry)
    raise AssertionError(f"no worker of rank {rank} under {launcher_pid}")


@contextlib.contextmanager
def _at_epoch_2(command: list[str]) -> Iterator[subprocess.Popen]:
    """A launch of `command` (a long run) once rank 0 has reported its second epoch;
    killed on leaving, if it is still running."""
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in run.stderr:  # rank 0's lines, as they come
            if line.startswith("epoch 2/"):
                break
        yield run
    finally:
        run.kill()
        run.wait()


LONG = [*DATA, "--epochs", "500", "--batch-size", "64", *FP32]


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the worker in /proc")
def test_a_killed_rank_ends_the_run_with_a_message_and_the_last_good_weights(tmp_path):
    out, folder = tmp_path / "killed.safetensors", tmp_path / "run"
    with _at_epoch_2([*_local(2), *LONG, "--run-dir", str(folder), "--out", str(out)]) as run:
        os.kill(_rank_process(run.pid, 1), signal.SIGKILL)
        _, err = run.communicate(timeout=_LAUNCH_TIMEOUT)
    assert run.returncode != 0
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err[-3000:]
    assert "another process of the run failed or was stopped" in errors[0]
    assert errors[0].endswith(f"the model as it was then is saved to {out}")
    saved = load_checkpoint(out)
    assert saved.world_size == 2 and len(saved.history) >= 2  # the epochs it had ended
    # the run folder keeps the last complete epoch's model, for a rank 0 that dies itself
    epoch = load_checkpoint(folder / "model.safetensors")
    assert epoch.world_size == 2 and len(epoch.history) == len(saved.history)


def test_ctrl_c_stops_every_rank_after_the_same_step_and_rank_0_saves(tmp_path):
    out = tmp_path / "stopped.safetensors"
    # a terminal's Ctrl-C reaches the launcher alone (its workers have sessions of their
    # own); it passes SIGINT on to each
    with _at_epoch_2([*_local(2), *LONG, "--out", str(out)]) as run:
        run.send_signal(signal.SIGINT)
        stdout, err = run.communicate(timeout=_LAUNCH_TIMEOUT)
    assert "error:" not in err, err[-3000:]
    stopped = [line for line in err.splitlines() if line.startswith("Stopped by the user")]
    assert len(stopped) == 1 and f"saved {out}" in stdout
    saved = load_checkpoint(out)
    assert saved.world_size == 2 and len(saved.history) >= 2


def _as_torchrun_would(monkeypatch, rank: int) -> None:
    """The variables torchrun gives rank `rank` of 2 (no process group is opened)."""
    variables = {"RANK": rank, "WORLD_SIZE": 2, "LOCAL_RANK": rank}
    variables |= {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": _free_port()}
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))


def test_a_factorvae_is_refused_under_torchrun_before_the_data_is_read(capsys, monkeypatch):
    _as_torchrun_would(monkeypatch, rank=1)
    assert main(["train", "--dataset", "no-such-file.npz", "--kind", "factorvae"]) == 2
    err = capsys.readouterr().err.strip()
    said, listed = err.removesuffix(")").split(" (torchrun trains ")
    assert said == (
        "error: rank 1: --kind factorvae: a FactorVAE trains its discriminator with an "
        "optimiser of its own, which DDP does not share; run it without torchrun"
    )
    kinds = listed.split(", ")  # the kinds it can train instead, from the kind table
    assert {"ae", "vae", "cvae", "iwae", "betatcvae", "annealedvae"} <= set(kinds)
    assert "factorvae" not in kinds and "pca" not in kinds


def test_commands_other_than_train_are_refused_under_torchrun(capsys, monkeypatch, tmp_path):
    _as_torchrun_would(monkeypatch, rank=0)
    assert main(["sweep", "--betas", "0,1", "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: sweep: runs in one process; torchrun starts train only"
    )
    assert not (tmp_path / "s").exists()


def test_a_world_size_without_the_rest_of_torchruns_variables_is_refused(capsys, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for name in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOCAL_RANK", "0")
    assert main(["train", "--count", "60", "--epochs", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: WORLD_SIZE=2 without RANK, MASTER_ADDR, MASTER_PORT: start the processes "
        "with torchrun (torchrun --nproc-per-node N -m explorer train …)"
    )


@pytest.mark.parametrize("world_size, size", [(2, 15), (3, 2), (4, 128)])
def test_the_ranks_shares_make_up_the_global_batch_and_its_mean(world_size, size):
    batch = torch.randperm(1000)[:size]
    shares = [Group(rank, world_size).shard(batch) for rank in range(world_size)]
    scored = torch.cat([s.index[: s.count] for s in shares])
    assert sorted(scored.tolist()) == sorted(batch.tolist())
    # DDP averages the ranks' weighted gradients of their means: weights count/size·world
    assert sum(s.weight for s in shares) == pytest.approx(world_size)
    for s in shares:
        assert s.weight == pytest.approx(world_size * s.count / size) and len(s.index) >= 1


def test_a_checkpoint_without_a_world_size_was_trained_by_one_process(tmp_path):
    meta = valid_metadata(tmp_path / "valid.safetensors")
    meta.pop("distributed", None)
    assert load_checkpoint(write_checkpoint(tmp_path / "old.safetensors", meta)).world_size == 1


def test_a_global_batch_that_is_not_the_world_times_the_batch_is_refused(tmp_path):
    from explorer.core.config import TrainConfig
    from explorer.core.errors import CheckpointError

    meta = valid_metadata(tmp_path / "valid.safetensors")
    meta["train"] = TrainConfig(batch_size=64).to_dict()
    meta["distributed"] = {"world_size": 2, "global_batch": 100}
    path = write_checkpoint(tmp_path / "lying.safetensors", meta)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert str(e.value) == (
        f"{path}: the checkpoint's metadata is invalid: distributed global_batch is 100, "
        "not the world size 2 × the batch size 64"
    )
