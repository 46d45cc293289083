"""The objectives from the command line: trained to a file that reopens with its kind and
weights, swept over any of their weights, their bad options refused in one line."""

from __future__ import annotations

import csv

import pytest
import torch

from explorer.core.checkpoint import load_checkpoint
from explorer.core.sweep import load_sweep
from tests.test_cli_save import run

TINY = ["--count", "60", "--epochs", "1", "--hidden", "8", "--latent-dim", "2"]


def test_a_beta_tcvae_trained_from_the_cli_reopens_with_its_weights(capsys, tmp_path):
    out = tmp_path / "tcvae.safetensors"
    code, stdout, err = run(capsys, "train", "--kind", "betatcvae", *TINY, "--out", str(out))
    assert code == 0, err
    ckpt = load_checkpoint(out)
    t = ckpt.train_config
    assert ckpt.model.kind == "betatcvae"
    assert (t.alpha, t.beta, t.gamma) == (1.0, 6.0, 1.0)  # the paper's, left unset
    assert "betatcvae" in err and f"saved {out}" in stdout
    code, _, err = run(capsys, "train", "--kind", "betatcvae", *TINY, "--out", str(out),
                       "--alpha", "0.5", "--beta", "3", "--gamma", "2", "--kl-schedule", "cyclical",
                       "--cycles", "2")  # fmt: skip
    assert code == 0, err
    t = load_checkpoint(out).train_config
    assert (t.alpha, t.beta, t.gamma, t.kl_schedule, t.cycles) == (0.5, 3, 2, "cyclical", 2)


def test_a_factorvae_saves_its_discriminator_and_reopens_with_it(capsys, tmp_path):
    out = tmp_path / "factor.safetensors"
    code, _, err = run(capsys, "train", "--kind", "factorvae", *TINY, "--out", str(out))
    assert code == 0, err
    ckpt = load_checkpoint(out)
    assert ckpt.model.kind == "factorvae" and ckpt.train_config.gamma == 10.0
    again = load_checkpoint(out).model.discriminator.state_dict()
    for key, value in ckpt.model.discriminator.state_dict().items():
        assert torch.equal(value, again[key]) and value.abs().sum() > 0


def test_an_annealedvae_takes_its_capacity_from_the_cli(capsys, tmp_path):
    out = tmp_path / "annealed.safetensors"
    code, _, err = run(capsys, "train", "--kind", "annealedvae", *TINY, "--c-max", "5",
                       "--capacity-epochs", "0.5", "--out", str(out))  # fmt: skip
    assert code == 0, err
    t = load_checkpoint(out).train_config
    assert (t.gamma, t.c_max, t.capacity_epochs) == (1000.0, 5.0, 0.5)


def test_a_sweep_varies_the_weight_asked_for(capsys, tmp_path):
    out = tmp_path / "sweep"
    code, stdout, err = run(capsys, "sweep", "--kind", "factorvae", *TINY, "--weight", "gamma",
                            "--values", "20,5", "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert "[2/2] γ = 20" in err and "γ" in stdout
    folder, models = load_sweep(out)
    assert [(m.weight, m.value, m.file) for m in models] == [
        ("gamma", 5.0, "gamma-5.safetensors"),
        ("gamma", 20.0, "gamma-20.safetensors"),
    ]
    for m in models:
        ckpt = load_checkpoint(folder / m.file)
        assert ckpt.model.kind == "factorvae" and ckpt.train_config.gamma == m.value
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(r["weight"], r["value"]) for r in rows] == [("gamma", "5.0"), ("gamma", "20.0")]
    assert "Rate–distortion of the γ sweep" in (out / "rate-distortion.svg").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "--kind", "vae", "--weight", "gamma", "--values", "1,2"],
         "--kind vae: a γ sweep needs a kind whose objective has γ (betatcvae, factorvae, "
         "annealedvae); its weights are beta"),
        (["sweep", "--kind", "iwae", "--betas", "1,2"], "it has none"),
        (["sweep", "--betas", "1", "--values", "2"], "not allowed with argument"),
        (["train", "--gamma", "-1"], "--gamma: must be a finite number at least 0"),
        (["train", "--kl-schedule", "sideways"], "--kl-schedule: invalid choice: 'sideways'"),
        (["train", "--cycle-ramp", "0"], "--cycle-ramp: must be a finite number above 0"),
        (["train", "--kind", "betatcvae", "--kl-schedule", "capacity"],
         "capacity schedule holds a single KL term"),
    ],
)  # fmt: skip
def test_bad_objective_options_are_one_line(capsys, tmp_path, argv, message):
    code, _, err = run(capsys, *argv, *TINY, "--out", str(tmp_path / "x"))
    last = err.strip().splitlines()[-1]  # after "training on ..." where training starts
    assert code == 2 and last.startswith("error: ") and message in last, err
