"""The headless CLI as a user runs it: a real process, its output and exit status."""

import json
import subprocess
import sys

import numpy as np
import pytest

from explorer.core.checkpoint import load_checkpoint


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_train_then_evaluate_on_builtin_data(tmp_path):
    out = tmp_path / "m.safetensors"
    r = cli(
        "train",
        "--dataset",
        "sprites",
        "--count",
        "300",
        "--latent-dim",
        "3",
        "--beta",
        "4",
        "--epochs",
        "1",
        "--hidden",
        "32",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert f"saved {out}" in r.stdout and "MIG" in r.stdout
    assert "epoch 1/1" in r.stderr and "Traceback" not in r.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.train_config.beta == 4.0 and ckpt.model.config.latent_dim == 3
    assert ckpt.dataset["name"] == "sprites" and "mig" in ckpt.metrics
    assert len(ckpt.kl_per_dim) == 3

    r = cli("evaluate", str(out), "--count", "200", "--k", "5", "--max-images", "100", "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert figures["images"] == 100 and figures["iw_bound"] <= 0 and "mig" in figures


def test_train_on_an_npz_file(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "d.npz",
        x=rng.integers(0, 256, (50, 12, 12), dtype=np.uint8),
        y=np.arange(50) % 5,
    )
    r = cli(
        "train",
        "--dataset",
        str(tmp_path / "d.npz"),
        "--epochs",
        "1",
        "--hidden",
        "16",
        "--out",
        str(tmp_path / "m.safetensors"),
    )
    assert r.returncode == 0, r.stderr
    assert load_checkpoint(tmp_path / "m.safetensors").model.config.image_shape == (1, 12, 12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "--latent-dim", "0"],
            "error: argument --latent-dim: must be from 1 to 64, got 0"
            " (see python -m explorer train --help)",
        ),
        (
            ["train", "--beta", "-1"],
            "error: argument --beta: must be a finite number at least 0, got '-1'"
            " (see python -m explorer train --help)",
        ),
        (["train", "--dataset", "missing.npz"], "error: missing.npz: no such file or folder"),
        (["evaluate", "nothing.safetensors"], "error: nothing.safetensors: no such file"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, args, message):
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1] == message
    assert "Traceback" not in r.stderr


def test_evaluate_a_pickle_renamed_to_safetensors(tmp_path):
    import pickle

    (tmp_path / "m.safetensors").write_bytes(pickle.dumps([1, 2, 3]))
    r = cli("evaluate", str(tmp_path / "m.safetensors"), "--dataset", "digits")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "not a safetensors checkpoint" in r.stderr and "pickle" in r.stderr


def test_evaluate_with_mismatched_image_shape(tmp_path):
    out = tmp_path / "m.safetensors"
    assert (
        cli(
            "train", "--count", "40", "--epochs", "1", "--hidden", "8", "--out", str(out)
        ).returncode
        == 0
    )
    r = cli("evaluate", str(out), "--dataset", "sprites", "--count", "10")
    assert r.returncode == 2
    assert "expects images of shape (1, 28, 28)" in r.stderr and "(1, 64, 64)" in r.stderr


def _figures(*args):
    r = cli("evaluate", *args, "--k", "5", "--max-images", "300", "--json")
    assert r.returncode == 0, r.stderr
    import json

    return json.loads(r.stdout)


def test_export_to_torchscript_and_evaluate_it_like_the_checkpoint(tmp_path):
    from explorer.resources import bundled_model

    ckpt, out = bundled_model("digits"), tmp_path / "digits.pt"
    r = cli("export", str(ckpt), "--torchscript", str(out))
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}: TorchScript" in r.stdout and out.is_file()
    ours = _figures(str(ckpt), "--dataset", "digits", "--count", "300")
    scripted = _figures(str(out), "--dataset", "digits", "--count", "300")
    # the same images and the same seeded samples; only logit(sigmoid(·)) rounding differs
    for key in ("elbo", "recon", "kl", "iw_bound"):
        assert scripted[key] == pytest.approx(ours[key], rel=1e-4), key


def test_evaluate_weights_with_a_factory(tmp_path):
    import torch

    from tests.external_models import PairVAE

    weights = tmp_path / "w.pth"
    torch.save(PairVAE(latent_dim=4).state_dict(), weights)
    factory = (
        "--factory",
        "tests.external_models:PairVAE",
        "--factory-args",
        '{"latent_dim": 4}',
    )
    data = ("--dataset", "digits", "--count", "300")
    assert _figures(str(weights), *factory, *data)["iw_bound"] < 0
    r = cli("evaluate", str(weights), *factory, *data, "--k", "2", "--max-images", "50")
    assert r.returncode == 0, r.stderr
    assert "tests.external_models:PairVAE, latent size 4; input image, encoder pair" in r.stdout
    r = cli("evaluate", str(weights), *data)
    assert r.returncode == 2 and "holds weights without the code" in r.stderr
    r = cli("evaluate", str(weights), *factory, *data, "--adapt", "decoder=rainbow")
    assert r.returncode == 2 and "adapter decoder must be one of" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_model_file_first_opens_the_app_with_it(monkeypatch):
    from explorer import __main__ as launcher

    opened = []
    monkeypatch.setattr(launcher, "run_app", lambda argv: opened.append(list(argv)) or 0)
    assert launcher.main(["their.pt", "--dataset", "digits"]) == 0
    assert launcher.main(["app", "m.safetensors"]) == 0
    assert opened == [["their.pt", "--dataset", "digits"], ["m.safetensors"]]


@pytest.mark.parametrize("kind", ["pca", "ae", "cvae", "iwae"])
def test_each_kind_trains_and_evaluates_headless(tmp_path, kind):
    out = tmp_path / f"{kind}.safetensors"
    common = ["--count", "300", "--latent-dim", "2", "--hidden", "32", "--epochs", "1"]
    r = cli("train", "--kind", kind, *common, "--samples", "3", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f", {kind}, latent size 2" in r.stderr and "on the data" in r.stdout
    ckpt = load_checkpoint(out)
    assert ckpt.model.kind == kind and ckpt.metrics["kind"] == kind
    assert 0 <= ckpt.metrics["on_data"] <= 1
    r = cli("evaluate", str(out), "--count", "200", "--k", "3", "--max-images", "100", "--json")
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert figures["kind"] == kind and figures["sq_error"] > 0 and 0 <= figures["on_data"] <= 1
    if kind in ("pca", "ae"):  # no KL, no ELBO, no importance-weighted bound: None, not NaN
        assert figures["kl"] is None and figures["elbo"] is None and "iw_bound" not in figures
    else:
        assert figures["kl"] > 0 and figures["iw_bound"] >= figures["elbo"] - 1.0


def test_settings_that_do_not_fit_the_kind_are_refused_by_the_cli(tmp_path):
    images = np.zeros((20, 8, 8), np.uint8)
    np.save(tmp_path / "plain.npy", images)
    r = cli("train", "--kind", "cvae", "--dataset", str(tmp_path / "plain.npy"))
    assert r.returncode == 2 and "plain.npy: a conditional VAE (--kind cvae) needs" in r.stderr
    r = cli("sweep", "--kind", "ae", "--betas", "0,1")
    assert r.returncode == 2 and "a β sweep needs a kind whose objective has β" in r.stderr
    masked = str(tmp_path / "masked.safetensors")
    r = cli("train", "--kind", "pca", "--corrupt", "mask", "--count", "50", "--out", masked)
    assert r.returncode == 2 and "PCA is fitted in closed form" in r.stderr
    pca = tmp_path / "pca.safetensors"
    assert cli("train", "--kind", "pca", "--count", "50", "--out", str(pca)).returncode == 0
    r = cli("export", str(pca), "--torchscript", str(tmp_path / "pca.pt"))
    assert r.returncode == 2 and "this model is a pca" in r.stderr
    assert not (tmp_path / "pca.pt").exists()


def test_ctrl_c_while_a_factory_never_returns_ends_in_one_line(tmp_path):
    """A factory that hangs: the user presses Ctrl-C, and reads one line, not a traceback."""
    import signal

    from safetensors.torch import save_file
    from torch import zeros

    started = tmp_path / "factory-started"
    (tmp_path / "hangs.py").write_text(
        "import pathlib, threading\n"
        "def build_model():\n"
        f"    pathlib.Path({str(started)!r}).touch()\n"
        "    threading.Event().wait()\n"
    )
    save_file({"w": zeros(2)}, str(tmp_path / "weights.safetensors"))
    factory = ["--factory", "hangs.py:build_model", "--dataset", "digits", "--count", "50"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "evaluate", "weights.safetensors", *factory],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not started.exists():  # until the factory runs (the file says so, not a clock)
            with pytest.raises(subprocess.TimeoutExpired):  # it must not end by itself
                proc.wait(timeout=0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "evaluate: interrupted"
    assert "Traceback" not in err
