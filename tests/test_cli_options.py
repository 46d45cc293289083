"""Every CLI option at and past its edges: refused by the parser with one line naming
the option and exit status 2, never a traceback or a crash deep inside torch; the
edges themselves work."""

from __future__ import annotations

import pytest
import torch

from explorer.cli_options import MAX_THREADS
from explorer.core.checkpoint import load_checkpoint
from explorer.core.device import pick_device
from explorer.core.errors import ConfigError
from tests.test_cli_save import TINY, last_line, run

HUGE = str(10**12)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--threads", "100000"], f"--threads: must be from 0 to {MAX_THREADS:,}"),
        (["train", "--threads", "-1"], "--threads: must be from 0"),
        (["train", "--seed", "-1"], "--seed: must be from 0 to 4,294,967,295, got -1"),
        (["train", "--seed", str(2**32)], "--seed: must be from 0 to 4,294,967,295"),
        (["train", "--data-seed", str(2**64)], "--data-seed: must be from 0 to 4,294,967,295"),
        (["train", "--seed", "1.5"], "--seed: expected a whole number, got '1.5'"),
        (["train", "--device", "meta"], "--device: 'meta' is not a device to train on"),
        (["train", "--device", "cuda:x"], "--device: 'cuda:x' is not a device to train on"),
        (["train", "--device", "xla"], "--device: 'xla' is not a device to train on"),
        (["train", "--hidden", HUGE], "--hidden: must be from 1 to 16,384"),
        (["train", "--hidden", "0"], "--hidden: must be from 1 to 16,384, got 0"),
        (["train", "--hidden", ",".join(["8"] * 9)], "--hidden: at most 8 hidden layers, got 9"),
        (["train", "--count", "0"], "--count: must be from 1 to 737,280, got 0"),
        (["train", "--count", HUGE], "--count: must be from 1 to 737,280"),
        (["train", "--latent-dim", "65"], "--latent-dim: must be from 1 to 64, got 65"),
        (["train", "--epochs", "0"], "--epochs: must be from 1"),
        (["train", "--batch-size", HUGE], "--batch-size: must be from 1 to 1,000,000"),
        (["train", "--samples", HUGE], "--samples: must be from 1 to 1,000"),
        (["train", "--lr", "0"], "--lr: must be a finite number above 0 and at most 10, got '0'"),
        (
            ["train", "--lr", "nan"],
            "--lr: must be a finite number above 0 and at most 10, got 'nan'",
        ),
        (["train", "--beta", "inf"], "--beta: must be a finite number at least 0, got 'inf'"),
        (["train", "--warmup", "-1"], "--warmup: must be a finite number from 0"),
        (["train", "--corrupt-level", "1"], "--corrupt-level: must be a finite number above 0"),
        (["sweep", "--betas", ",".join(map(str, range(101)))], "--betas: at most 100 β values"),
        (["sweep", "--betas", "1,x"], "--betas: expected a number, got 'x'"),
        (["sweep", "--betas", "1,2", "--parallel", "0"], "--parallel: must be from 1 to 100"),
        (["sweep", "--betas", "0,-0"], "--betas: a β is listed twice in '0,-0'"),
        (["evaluate", "m.safetensors", "--k", "0"], "--k: must be from 1 to 1,000, got 0"),
        (["evaluate", "m.safetensors", "--k", HUGE], "--k: must be from 1 to 1,000"),
        (["evaluate", "m.safetensors", "--max-images", "0"], "--max-images: must be from 1"),
        (["evaluate", "m.safetensors", "--prior-samples", "-1"], "--prior-samples: must be"),
        (["evaluate", "m.safetensors", "--prior-samples", HUGE], "--prior-samples: must be"),
        (["evaluate", "m.safetensors", "--bins", "1"], "--bins: must be from 2 to 1,000, got 1"),
        (
            ["evaluate", "m.safetensors", "--exclude-factors", "shape,"],
            "--exclude-factors: expected comma-separated names, got 'shape,'",
        ),
        (["evaluate", "m.safetensors", "--codes", "modes"], "--codes: invalid choice: 'modes'"),
    ],
)
def test_an_option_out_of_bounds_is_one_line_naming_it(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1  # no usage block before it
    line = last_line(err)
    assert line.startswith("error: argument ") and message in line, line
    assert line.endswith(f"(see python -m explorer {argv[0]} --help)")


def test_the_edges_themselves_work(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    seed = str(2**32 - 1)
    argv = ["--count", "1", "--seed", seed, "--data-seed", seed, "--threads", "1"]
    code, _, err = run(capsys, "train", *argv, *TINY[2:], "--out", str(out))
    assert code == 0, err
    assert load_checkpoint(out).train_config.seed == 2**32 - 1
    code, stdout, err = run(capsys, "evaluate", str(out), "--count", "5", "--max-images", "1")
    assert code == 0, err
    assert "images evaluated  1" in stdout and "Traceback" not in err


def test_a_device_that_is_not_here_is_named(capsys):
    if torch.cuda.is_available():
        device = f"cuda:{torch.cuda.device_count()}"
        message = f"error: device '{device}' was asked for but this machine has"
    else:
        device, message = "cuda", "error: device 'cuda' was asked for but CUDA is not available"
    code, _, err = run(capsys, "train", *TINY, "--device", device)
    assert code == 2 and last_line(err).startswith(message)
    assert "training on" not in err


@pytest.mark.parametrize("name", ["meta", "cpu:0:1", "xla"])
def test_pick_device_refuses_what_cannot_train(name):
    """The window reads device names from settings and checkpoints, not the parser."""
    with pytest.raises(ConfigError, match=f"device '{name}'"):
        pick_device(name)


def test_a_large_importance_k_evaluates_in_bounded_batches(capsys, tmp_path, monkeypatch):
    """k = 1000 on 64×64 sprites would decode 256 × 1000 images at once (4 GB)."""
    from explorer.core import metrics

    out = tmp_path / "s.safetensors"
    sprites = ["--dataset", "sprites", "--count", "40"]
    assert run(capsys, "train", *sprites, *TINY[2:], "--out", str(out))[0] == 0
    decoded, real = [], metrics.importance_terms

    def importance_terms(model, x, k, y=None, inputs=None):
        decoded.append(len(x) * k * x[0].numel())  # pixels decoded at once
        return real(model, x, k, y, inputs)

    monkeypatch.setattr(metrics, "importance_terms", importance_terms)
    code, _, err = run(capsys, "evaluate", str(out), *sprites, "--k", "1000")
    assert code == 0, err
    assert decoded and max(decoded) <= metrics._IW_VALUES


def test_the_importance_bound_decodes_within_what_an_inference_pass_may_take(
    capsys, tmp_path, monkeypatch
):
    """A broadcast decoder keeps 32 values for every pixel it decodes: k = 20 samples of
    256 sprites at once would hold 2.8 GB beside the decoded images' 84 MB."""
    from explorer.core import metrics
    from explorer.core.pass_size import images_per_pass

    out = tmp_path / "b.safetensors"
    sprites = ["--dataset", "sprites", "--count", "60"]
    train = [*sprites, *TINY[2:], "--arch", "broadcast", "--out", str(out)]
    assert run(capsys, "train", *train)[0] == 0
    monkeypatch.setattr("explorer.core.pass_size.memory_budget", lambda: 64 << 20)
    decoded, real = [], metrics.importance_terms

    def importance_terms(model, x, k, y=None, inputs=None):
        decoded.append(len(x) * k)  # images decoded at once
        return real(model, x, k, y, inputs)

    monkeypatch.setattr(metrics, "importance_terms", importance_terms)
    code, _, err = run(capsys, "evaluate", str(out), *sprites, "--k", "20")
    assert code == 0, err
    assert decoded and max(decoded) <= images_per_pass((1, 64, 64), 10**9) < 256 * 20


@pytest.mark.parametrize(
    "options",
    [
        ["--arch", "conv", "--batch-size", "1000"],
        # a batch the mlp trains with here: the broadcast decoder's pixel layer holds 32
        # values for each pixel, three times over in a step
        ["--dataset", "sprites", "--arch", "broadcast", "--batch-size", "100"],
        ["--kind", "iwae", "--samples", "200", "--batch-size", "200"],
    ],
)
def test_options_that_together_need_more_memory_than_there_is_are_refused_before_training(
    tmp_path, capsys, monkeypatch, options
):
    """Each option is in bounds; a training step of them all would not fit in memory
    (here a 64 MB machine; on a real one, a batch of megapixel images, say)."""
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 16 << 20)
    out = tmp_path / "m.safetensors"
    code, _, err = run(
        capsys, "train", "--count", "300", "--epochs", "1", "--out", str(out), *options
    )
    assert code == 2 and "Traceback" not in err and not out.exists()
    line = last_line(err)
    assert line.startswith("error: batch size ") and "use a batch size of at most" in line
    fits = int(line.rsplit(" ", 1)[-1].replace(",", ""))
    code, _, err = run(
        capsys,
        "train",
        "--count",
        "1200",
        "--epochs",
        "1",
        "--out",
        str(out),
        *options,
        "--batch-size",
        str(fits),
    )
    assert code == 0 and out.exists()


def test_a_model_the_data_and_options_make_too_large_names_both(tmp_path, capsys):
    """Images each reader accepts (2000×2 pixels), or options each in range, that make a
    model too large together: the line names the data and the options that decide it."""
    from PIL import Image

    folder = tmp_path / "wide images"
    folder.mkdir()
    for i in range(3):
        Image.new("L", (2000, 2), color=i * 50).save(folder / f"{i}.png")
    out = tmp_path / "m.safetensors"
    code, _, err = run(capsys, "train", "--dataset", str(folder), "--out", str(out))
    assert code == 2 and not out.exists()
    assert last_line(err).startswith(
        f"error: {folder} (1×2×2000 images) with --kind vae --arch mlp --hidden 400: "
        "images of 2,000×2 pixels are larger than the 1024×1024"
    )
    hidden = ["--hidden", "16384,16384,16384"]
    code, _, err = run(capsys, "train", "--count", "60", *hidden, "--out", str(out))
    assert code == 2 and not out.exists()
    assert last_line(err).startswith(
        "error: digits (1×28×28 images) with --kind vae --arch mlp --hidden 16384,16384,16384: "
    )
    assert "more than the limit of 100,000,000" in last_line(err)
