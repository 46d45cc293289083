"""`sweep --parallel N`: the values trained in N worker processes give the serial sweep's
folder; a value that fails is named and the others finish; Ctrl-C stops every worker."""

from __future__ import annotations

import csv
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from explorer.core.checkpoint import load_checkpoint
from explorer.core.sweep import SweepModel, load_sweep
from explorer.sweep_runs import SweepJob, SweepOutcome, SweepTally
from tests.test_cli import cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--dataset", "sprites", "--count", "300", "--latent-dim", "3", "--hidden", "32"]
FIGURES = ("elbo", "recon", "kl", "mig", "dci_disentanglement", "sap", "factor_vae_score")


def parallel_sweep(out: Path, *args: str) -> list[str]:
    """The command line of a sweep of TINY models, two at a time, into `out`."""
    command = [sys.executable, "-m", "explorer", "sweep", *TINY, *args]
    return [*command, "--parallel", "2", "--out", str(out)]


def rows(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / "sweep.csv").open()))


def test_a_parallel_sweep_writes_the_serial_sweeps_folder(tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    args = [*TINY, "--epochs", "2", "--betas", "4,0.5,1"]
    r = cli("sweep", *args, "--out", str(serial))
    assert r.returncode == 0, r.stderr
    r = cli("sweep", *args, "--out", str(parallel), "--parallel", "2")
    assert r.returncode == 0, r.stderr
    assert "training 3 models, 2 at a time (" in r.stderr and "Traceback" not in r.stderr
    assert "[β = 0.5] epoch 2/2" in r.stderr  # each worker's lines name its value

    theirs, ours = rows(serial), rows(parallel)
    assert list(ours[0]) == list(theirs[0])  # the same columns
    assert [r["value"] for r in ours] == [r["value"] for r in theirs] == ["0.5", "1.0", "4.0"]
    for a, b in zip(ours, theirs, strict=True):
        assert (a["file"], a["status"], a["active_units"]) == (b["file"], "completed", "3")
        for column in FIGURES:  # the same seeds: the threads per process may differ
            assert float(a[column]) == pytest.approx(float(b[column]), rel=1e-3, abs=1e-2)
    ours, theirs = (json.loads((f / "sweep.json").read_text()) for f in (parallel, serial))
    assert {k: v for k, v in ours.items() if k != "models"} == {
        k: v for k, v in theirs.items() if k != "models"
    }  # the format, its version and the dataset
    assert [list(m) for m in ours["models"]] == [list(m) for m in theirs["models"]]
    folder, models = load_sweep(parallel)  # what the app's sweep slider opens
    assert [m.value for m in models] == [0.5, 1.0, 4.0]
    for m in models:
        ckpt = load_checkpoint(folder / m.file)
        assert ckpt.train_config.beta == m.value and ckpt.metrics["images"] == 300


def failing_at_beta_2(tmp_path, how: str) -> dict:
    """The environment of a process whose training fails at β = 2, raising or killed, once
    β = 1 trains in another worker (a sitecustomize on PYTHONPATH patches the loss in the
    parent and every worker; the two first steps meet at a named pipe, whose opening
    blocks until both ends are open)."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    meet = tmp_path / "meet"
    os.mkfifo(meet)
    (hooks / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import os, signal
            from explorer.core.model import VAE

            _real, _met = VAE.loss, []

            def loss(self, x, beta, *args, **kwargs):
                if beta in (1.0, 2.0) and not _met:
                    _met.append(beta)
                    end = os.O_WRONLY if beta == 1.0 else os.O_RDONLY
                    os.close(os.open(os.environ["MEET"], end))
                if beta == 2.0 and os.environ["FAIL_HOW"] == "raise":
                    raise RuntimeError("CUDA error: out of memory")
                if beta == 2.0:
                    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
                return _real(self, x, beta, *args, **kwargs)

            VAE.loss = loss
            """
        )
    )
    path = os.pathsep.join([str(hooks), str(ROOT)])
    return dict(os.environ, PYTHONPATH=path, FAIL_HOW=how, MEET=str(meet))


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("raise", "RuntimeError: CUDA error: out of memory"),
        ("kill", "its worker process ended abruptly"),
    ],
)
def test_a_failing_value_is_named_and_the_others_finish(tmp_path, how, message):
    out = tmp_path / "sweep"
    r = subprocess.run(
        parallel_sweep(out, "--epochs", "100", "--betas", "1,2"),
        capture_output=True,
        text=True,
        timeout=300,
        env=failing_at_beta_2(tmp_path, how),
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: β = 2: {message}"]
    # β = 1 had 299 steps to go when β = 2 failed: it trained on to the end
    assert [(row["value"], row["status"]) for row in rows(out)] == [("1.0", "completed")]


def test_ctrl_c_stops_every_worker_and_keeps_their_models(tmp_path):
    """Ctrl-C at a terminal signals the whole process group: the parent and its workers."""
    out = tmp_path / "sweep"
    sweep = subprocess.Popen(
        parallel_sweep(out, "--epochs", "1000", "--betas", "1,2,4"),
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )
    training = set()
    for line in sweep.stderr:  # until both workers are past their first epoch
        if "epoch 1/1000" in line:
            training.add(line.split("]")[0])
        if len(training) == 2:
            break
    os.killpg(sweep.pid, signal.SIGINT)
    rest = sweep.stderr.read()
    assert sweep.wait(timeout=120) == 130, rest
    assert "sweep stopped: the finished models are in the table" in rest
    assert "Traceback" not in rest
    # the two that were training are saved as stopped; the third never started
    assert [(row["value"], row["status"]) for row in rows(out)] == [
        ("1.0", "stopped"),
        ("2.0", "stopped"),
    ]
    assert not (out / "beta-4.safetensors").exists()
    for pid in group(sweep.pid):  # what is left (multiprocessing's tracker) ends by itself
        assert ends_within(pid, seconds=10), f"process {pid} of the sweep is still running"


def group(pgid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def ends_within(pid: int, seconds: float) -> bool:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], seconds)[0])
    finally:
        os.close(fd)


def test_the_table_keeps_the_weights_order_whichever_model_finishes_first(tmp_path, capsys):
    def job(value: float) -> SweepJob:
        return SweepJob("gamma", value, tmp_path, f"gamma-{value:g}.safetensors", None, None)

    def row(value: float, status: str = "completed") -> SweepModel:
        return SweepModel("gamma", value, job(value).file, -100.0, 90.0, 10.0, 2, None, status)

    tally = SweepTally(tmp_path, {"name": "sprites"})
    assert tally.add(job(4.0), SweepOutcome(row(4.0), "completed"))
    assert [r["value"] for r in rows(tmp_path)] == ["4.0"]  # written as each one finishes
    assert tally.add(job(8.0), SweepOutcome(None, "failed", error="RuntimeError: out of memory"))
    assert tally.add(job(0.5), SweepOutcome(row(0.5), "completed"))
    assert [r["value"] for r in rows(tmp_path)] == ["0.5", "4.0"]
    assert capsys.readouterr().err == "error: γ = 8: RuntimeError: out of memory\n"
    assert tally.exit_status() == 1  # a value failed
    assert not tally.add(job(1.0), SweepOutcome(row(1.0, "stopped"), "stopped"))  # no more starts
    assert [r["value"] for r in rows(tmp_path)] == ["0.5", "1.0", "4.0"]
    assert tally.exit_status() == 130
