"""A model the CLI trained is never lost: the destination is checked before training,
the model is saved before its figures are computed, and a save that fails after all
puts it where the message says.

Faults are injected where they happen: the write of the file (safetensors' save_file)
raising "No space left on device", the folder refusing new files (mkstemp raising):
the tests run as root, where chmod does not stop a write.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from explorer import cli
from explorer.core import destination
from explorer.core.checkpoint import load_checkpoint

TINY = ["--count", "60", "--epochs", "1", "--hidden", "8"]
ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """`python -m explorer *argv` in this process: exit status, stdout, stderr."""
    try:
        code = cli.main(list(argv))
    except SystemExit as e:  # the parser exits on a bad option
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """The user data folder (where a model that could not be saved is kept)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "LatentExplorer" / "unsaved"


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("missing/m.safetensors", "m.safetensors: the folder {tmp}/missing does not exist"),
        ("afile/m.safetensors", "m.safetensors: {tmp}/afile is not a folder"),
        ("afolder", "afolder: is a folder; give a file name"),
        ("fifo", "fifo: is a device, pipe or socket, not a file; give a file name"),
        ("x" * 250 + ".safetensors", "the file name is too long for this file system (262 bytes"),
    ],
)
def test_a_destination_that_cannot_be_written_is_refused_before_training(
    tmp_path, capsys, out, message
):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "afolder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    code, _, err = run(capsys, "train", *TINY, "--out", str(tmp_path / out))
    assert code == 2
    assert last_line(err).startswith("error: ") and message.format(tmp=tmp_path) in err
    assert "training on" not in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.safetensors")) and not list(tmp_path.glob(".*.tmp"))


def refusing_new_files(folder: Path, code: int, monkeypatch) -> None:
    """`folder` refuses new files with OSError `code` (EACCES: a folder we may not write)."""
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if Path(dir) == folder:
            raise OSError(code, os.strerror(code))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (errno.EACCES, "no permission to write in {f}"),
        (errno.EROFS, "{f} is on a read-only file system"),
        (errno.ENOSPC, "no space left on the disk holding {f}"),
    ],
)
def test_a_folder_that_refuses_new_files_is_refused_before_training(
    tmp_path, capsys, monkeypatch, code, message
):
    folder = tmp_path / "ro"
    folder.mkdir()
    refusing_new_files(folder, code, monkeypatch)
    status, _, err = run(capsys, "train", *TINY, "--out", str(folder / "m.safetensors"))
    assert status == 2
    assert last_line(err) == f"error: {folder}/m.safetensors: {message.format(f=folder)}"
    assert "training on" not in err


def full_disk_in(folder: Path, monkeypatch) -> None:
    """Every checkpoint written into `folder` fails as on a full disk."""
    from explorer.core import checkpoint

    real = checkpoint.save_file

    def save_file(tensors, path, metadata=None):
        if Path(path).parent == folder:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(tensors, path, metadata=metadata)

    monkeypatch.setattr(checkpoint, "save_file", save_file)


def test_a_full_disk_at_save_keeps_the_model_in_the_user_data_folder(
    tmp_path, capsys, monkeypatch, data_home
):
    out = tmp_path / "full" / "m.safetensors"
    out.parent.mkdir()
    full_disk_in(out.parent, monkeypatch)
    code, stdout, err = run(capsys, "train", *TINY, "--out", str(out))
    kept = data_home / "m.safetensors"
    assert code == 3
    assert (
        f"error: {out}: could not save the checkpoint (No space left on device); any previous "
        f"file there is unchanged; the model was saved to {kept} instead"
    ) in err.splitlines()
    assert "Traceback" not in err and "ELBO" in stdout  # the figures are still shown
    ckpt = load_checkpoint(kept)
    assert ckpt.model.config.latent_dim == 2 and "elbo" in ckpt.metrics  # figures added
    assert not out.exists() and not list(out.parent.iterdir())  # no temporary left

    run(capsys, "train", *TINY, "--out", str(out))  # a second one never replaces the first
    assert (data_home / "m-2.safetensors").is_file() and kept.is_file()


def test_when_no_folder_takes_the_model_the_message_says_why_for_each(
    tmp_path, capsys, monkeypatch, data_home
):
    from explorer.core import checkpoint

    def save_file(tensors, path, metadata=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint, "save_file", save_file)
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", *TINY, "--out", str(tmp_path / "m.safetensors"))
    assert code == 2 and "Traceback" not in err
    line = last_line(err)
    assert line.startswith(f"error: {tmp_path}/m.safetensors: could not save the checkpoint")
    assert "keeping the model elsewhere failed too" in line
    for folder in destination.fallback_folders():
        assert str(folder) in line


def test_the_model_is_saved_before_its_figures_and_survives_them_failing(
    tmp_path, capsys, monkeypatch
):
    from explorer.core import metrics

    out = tmp_path / "m.safetensors"
    saved_first = []

    def failing_report(model, dataset, **kwargs):
        saved_first.append(out.is_file())
        raise RuntimeError("figures went wrong")

    monkeypatch.setattr(metrics, "report", failing_report)
    code, stdout, err = run(capsys, "train", *TINY, "--out", str(out))
    assert code == 0 and saved_first == [True]
    assert f"saved {out}" in stdout and "Traceback" not in err
    assert last_line(err) == (
        "note: the model's figures could not be computed (RuntimeError: figures went wrong); "
        "the model itself is saved"
    )
    assert load_checkpoint(out).model.config.latent_dim == 2


@pytest.mark.parametrize(("images", "kind"), [(1, "vae"), (2, "ae"), (3, "ae")])
def test_tiny_data_trains_saves_and_reports(tmp_path, capsys, images, kind):
    data = tmp_path / "d.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, (images, 8, 8), dtype=np.uint8))
    out = tmp_path / "m.safetensors"
    code, stdout, err = run(
        capsys, "train", "--dataset", str(data), "--kind", kind, *TINY[2:], "--out", str(out)
    )
    assert code == 0, err
    assert "Traceback" not in err and "note:" not in err
    assert f"images evaluated  {images}" in stdout
    assert ("on the data" in stdout) == (images >= 3)  # it needs a held-out image and two more
    assert load_checkpoint(out).metrics["images"] == images


def test_a_sweep_stops_at_a_full_disk_and_keeps_the_model(tmp_path, capsys, monkeypatch, data_home):
    out = tmp_path / "sweep"
    full_disk_in(out, monkeypatch)
    code, _, err = run(capsys, "sweep", *TINY, "--betas", "1,2", "--out", str(out))
    kept = data_home / "sweep-beta-1.safetensors"
    assert code == 3 and "Traceback" not in err
    assert f"the model was saved to {kept} instead" in err
    assert "[2/2]" not in err and "sweep stopped" in err
    assert load_checkpoint(kept).train_config.beta == 1.0


def test_a_sweep_destination_is_checked_before_training(tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, "sweep", *TINY, "--betas", "1", "--out", str(tmp_path / "a/b"))
    assert (
        code == 2
        and last_line(err) == f"error: {tmp_path}/a/b: the folder {tmp_path}/a does not exist"
    )
    out = tmp_path / "s"
    refusing_new_files(out, errno.EACCES, monkeypatch)  # the folder is made, takes no file
    code, _, err = run(capsys, "sweep", *TINY, "--betas", "1,2", "--out", str(out))
    assert code == 2 and last_line(err) == (
        f"error: {out}/beta-1.safetensors: no permission to write in {out}"
    )
    assert "training on" not in err and not out.exists()  # the folder it made is gone again


def test_a_real_process_with_a_full_disk_says_where_the_model_went(tmp_path):
    """The whole path in a separate `python -m explorer` process: the disk write fails
    inside safetensors (patched by a sitecustomize on PYTHONPATH, before the program
    starts), the model lands in the user data folder, and the exit status says so."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import errno, os
            from pathlib import Path
            import safetensors.torch

            _real, _full = safetensors.torch.save_file, Path(os.environ["FULL_FOLDER"])

            def save_file(tensors, path, metadata=None):
                if Path(path).parent == _full:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return _real(tensors, path, metadata=metadata)

            safetensors.torch.save_file = save_file
            """
        )
    )
    full = tmp_path / "full"
    full.mkdir()
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(hooks), str(ROOT)]),
        FULL_FOLDER=str(full),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    out = full / "m.safetensors"
    r = subprocess.run(
        [sys.executable, "-m", "explorer", "train", *TINY, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    kept = tmp_path / "data" / "LatentExplorer" / "unsaved" / "m.safetensors"
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    assert (
        f"No space left on device); any previous file there is unchanged; the model was "
        f"saved to {kept} instead"
    ) in r.stderr
    assert not out.exists() and load_checkpoint(kept).metrics["images"] > 0


def test_a_command_never_writes_over_what_it_reads(tmp_path, capsys):
    data = tmp_path / "d.npy"
    np.save(data, np.zeros((20, 8, 8), np.uint8))
    before = data.read_bytes()
    code, _, err = run(capsys, "train", "--dataset", str(data), *TINY[2:], "--out", str(data))
    assert code == 2 and "training on" not in err
    assert (
        last_line(err) == f"error: {data}: is {data}, which this command reads; give another name"
    )
    assert data.read_bytes() == before

    from explorer.resources import bundled_model

    ckpt = tmp_path / "m.safetensors"
    ckpt.write_bytes(bundled_model("digits").read_bytes())
    code, _, err = run(capsys, "export", str(ckpt), "--torchscript", str(ckpt))
    assert code == 2 and "which this command reads" in last_line(err)
    assert ckpt.read_bytes() == bundled_model("digits").read_bytes()


def test_training_that_fails_midway_keeps_the_model_as_it_was(tmp_path, capsys, monkeypatch):
    from explorer.core import training

    real = training.train

    def failing_train(*args, **kwargs):
        for p in real(*args, **kwargs):
            yield p
            raise MemoryError("out of memory in step 2")

    monkeypatch.setattr(training, "train", failing_train)
    out = tmp_path / "m.safetensors"
    code, _, err = run(capsys, "train", *TINY, "--out", str(out))
    assert code == 2 and "Traceback" not in err
    assert last_line(err) == (
        "error: training failed in epoch 1 (MemoryError: out of memory in step 2); "
        f"the model as it was then is saved to {out}"
    )
    assert load_checkpoint(out).model.config.latent_dim == 2


def test_a_sweep_never_replaces_a_model_already_in_its_folder(tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "beta-2.safetensors").write_bytes(b"an earlier sweep's model")
    code, _, err = run(capsys, "sweep", *TINY, "--betas", "1,2", "--out", str(out))
    assert code == 2 and "training on" not in err
    assert (
        last_line(err) == f"error: {out}/beta-2.safetensors: already exists; choose another --out"
    )
    assert (out / "beta-2.safetensors").read_bytes() == b"an earlier sweep's model"
    assert sorted(p.name for p in out.iterdir()) == ["beta-2.safetensors"]


def _file_size_limit(limit: int):
    """For a child process: writes past `limit` bytes fail as on a full disk (EFBIG),
    below Python, in C++ writers too."""

    def apply() -> None:
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(os.name != "posix", reason="POSIX resource limits")
def test_export_onto_a_disk_that_fills_up_is_one_line_not_an_abort(tmp_path):
    """torch's own TorchScript writer, failing mid-file, threw from a C++ destructor and
    aborted the process with a page of native frames; the module is now written by
    Python, and the failure is one line naming the file."""
    from explorer.resources import bundled_model

    out = tmp_path / "m.pt"
    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))
    command = ["export", str(bundled_model("digits")), "--torchscript", str(out)]
    r = subprocess.run(
        [sys.executable, "-m", "explorer", *command],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_file_size_limit(1 << 20),  # the digits model's module is larger
        timeout=300,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert "terminate called" not in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(f"error: {out}: could not write")
    assert list(tmp_path.glob("m.pt*")) == []  # nothing half-written left
