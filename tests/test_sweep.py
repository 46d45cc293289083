"""β sweeps: the `sweep` command on tiny data, its folder, and reading it back."""

from __future__ import annotations

import csv
import json
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict

import pytest

from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import load_dataset
from explorer.core.errors import CheckpointError, ConfigError
from explorer.core.metrics import report
from explorer.core.sweep import (
    MANIFEST,
    SweepModel,
    beta_text,
    checkpoint_names,
    load_sweep,
    rate_distortion_svg,
    write_sweep,
)
from tests.test_cli import cli

TINY = ["--dataset", "sprites", "--count", "200", "--latent-dim", "3", "--epochs", "1"]


def test_sweep_writes_models_table_and_plot(tmp_path):
    out = tmp_path / "sweep"
    r = cli("sweep", *TINY, "--hidden", "32", "--betas", "4,0.5", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "[2/2] β = 4" in r.stderr
    folder, models = load_sweep(out)
    assert [(m.weight, m.value) for m in models] == [("beta", 0.5), ("beta", 4.0)]  # in order
    data = load_dataset("sprites", count=200)
    for m in models:
        ckpt = load_checkpoint(folder / m.file)
        assert ckpt.train_config.beta == m.value and ckpt.model.config.latent_dim == 3
        rep = report(ckpt.model, data)  # the table holds the model's own figures
        assert m.elbo == pytest.approx(rep.evaluation.elbo, rel=1e-4)
        assert m.kl == pytest.approx(rep.evaluation.kl, rel=1e-4, abs=1e-4)
        assert m.mig == pytest.approx(rep.mig.score) and m.status == "completed"
        scores = rep.disentanglement  # the other metrics, under the same protocol
        assert m.dci_disentanglement == pytest.approx(scores.dci.disentanglement)
        assert m.dci_completeness == pytest.approx(scores.dci.completeness)
        assert m.dci_informativeness == pytest.approx(scores.dci.informativeness)
        assert m.sap == pytest.approx(scores.sap.score)
        assert m.factor_vae_score == pytest.approx(scores.factor_vae.score)
        assert m.recon + m.kl == pytest.approx(-m.elbo, rel=1e-6)
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(row["weight"], float(row["value"])) for row in rows] == [("beta", 0.5), ("beta", 4)]
    assert float(rows[1]["active_units"]) == models[1].active_units
    for column in ("mig", "dci_disentanglement", "sap", "factor_vae_score"):
        assert float(rows[1][column]) == pytest.approx(getattr(models[1], column))
    svg = ET.parse(out / "rate-distortion.svg").getroot()
    circles = svg.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 2
    labels = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "β = 0.5" in labels and "β = 4" in labels
    for line in ("β", "0.5", "4", "rate-distortion.svg"):
        assert line in r.stdout

    again = cli("sweep", *TINY, "--betas", "1", "--out", str(out))
    assert again.returncode == 2 and "already holds a sweep" in again.stderr


@pytest.mark.parametrize(
    "betas, message",
    [("1,x", "expected a number, got 'x'"), ("1,1", "listed twice"), ("1,1.0", "listed twice")],
)
def test_bad_betas_are_refused(tmp_path, betas, message):
    r = cli("sweep", *TINY, "--betas", betas, "--out", str(tmp_path / "s"))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "s").exists()


def test_a_file_is_not_a_sweep_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    r = cli("sweep", *TINY, "--betas", "1", "--out", str(tmp_path / "f"))
    assert r.returncode == 2 and "is a file" in r.stderr


def model(beta: float, **figures) -> SweepModel:
    values = dict(elbo=-100.0, recon=90.0, kl=10.0, active_units=2, mig=None)
    return SweepModel(
        weight="beta", value=beta, file=f"b{beta}.st", status="completed", **values | figures
    )


def test_reading_a_broken_sweep_folder_names_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="not a sweep folder"):
        load_sweep(tmp_path)
    write_sweep(tmp_path, {"name": "x"}, [model(1.0)])
    with pytest.raises(
        CheckpointError, match=re.escape("b1.0.st: listed in sweep.json but missing")
    ):
        load_sweep(tmp_path)
    (tmp_path / "sweep.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="cannot be read as a sweep manifest"):
        load_sweep(tmp_path)
    (tmp_path / "sweep.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(CheckpointError, match="not a Latent Explorer sweep"):
        load_sweep(tmp_path)


def test_the_plot_puts_rate_on_x_and_distortion_on_y():
    svg = ET.fromstring(rate_distortion_svg([model(1.0, kl=20.0, recon=80.0), model(4.0)]))
    c1, c4 = svg.findall("{http://www.w3.org/2000/svg}circle")
    assert float(c1.get("cx")) > float(c4.get("cx"))  # more KL: further right
    assert float(c1.get("cy")) > float(c4.get("cy"))  # less distortion: lower on the page


def test_betas_that_print_alike_get_files_of_their_own(tmp_path):
    out = tmp_path / "sweep"
    r = cli("sweep", *TINY, "--hidden", "8", "--betas", "1,1.0000001", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "β = 1.0000001" in r.stderr and "1.0000001" in r.stdout
    folder, models = load_sweep(out)
    assert [(m.value, m.file) for m in models] == [
        (1.0, "beta-1.safetensors"),
        (1.0000001, "beta-1.0000001.safetensors"),
    ]
    for m in models:
        assert load_checkpoint(folder / m.file).train_config.beta == m.value


def test_a_beta_names_its_file_so_that_it_reads_back_exactly():
    rng = random.Random(0)
    betas = [rng.uniform(0, 10) for _ in range(500)] + [1e-300, 4.0, 0.5, 1e20, 1.0000001]
    for beta in betas:
        assert float(beta_text(beta)) == beta
    assert beta_text(4.0) == "4" and beta_text(0.5) == "0.5"
    with pytest.raises(
        ConfigError, match=re.escape("β 2.0 and β 2.0 would both be saved as beta-2")
    ):
        checkpoint_names("beta", [1.0, 2.0, 2.0])


def tampered(folder, **changes) -> None:
    """A sweep of one real file, its first model's entry changed."""
    (folder / "b1.0.st").write_bytes(b"x")
    write_sweep(folder, {"name": "x"}, [model(1.0)])
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["models"][0] |= changes
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_a_sweep_written_before_the_other_metrics_still_opens(tmp_path):
    (tmp_path / "b1.0.st").write_bytes(b"x")
    write_sweep(tmp_path, {"name": "x"}, [model(1.0, mig=0.2)])
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    for key in ("dci_disentanglement", "dci_completeness", "dci_informativeness"):
        del manifest["models"][0][key]
    del manifest["models"][0]["sap"], manifest["models"][0]["factor_vae_score"]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    _, (m,) = load_sweep(tmp_path)
    assert m.mig == 0.2 and m.sap is None and m.dci_disentanglement is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"file": "../outside.safetensors"}, "model 1: file '../outside.safetensors' is not a"),
        ({"file": "/etc/passwd"}, "model 1: file '/etc/passwd' is not a file name"),
        ({"file": "a\0b"}, "is not a file name in the sweep folder"),
        ({"file": 3}, "model 1: file 3 is not a file name"),
        ({"file": ".."}, "model 1: file '..' is not a file name"),
        ({"value": "1"}, "model 1: value is '1', not a finite number"),
        ({"value": True}, "model 1: value is True, not a finite number"),
        ({"value": -1.0}, "model 1: value is -1.0, below 0"),
        ({"weight": "delta"}, "model 1: weight is 'delta', not one of alpha, beta"),
        ({"elbo": float("nan")}, "model 1: elbo is nan, not a finite number"),
        ({"kl": [1]}, "model 1: kl is [1], not a finite number"),
        ({"mig": "high"}, "model 1: mig is 'high', not a finite number"),
        ({"sap": float("inf")}, "model 1: sap is inf, not a finite number"),
        ({"dci_completeness": "1"}, "model 1: dci_completeness is '1', not a finite number"),
        ({"active_units": 1.5}, "model 1: active_units is 1.5, not a count"),
        ({"active_units": -2}, "model 1: active_units is -2, not a count"),
        ({"status": "hacked"}, "model 1: status is 'hacked', not one of completed"),
        ({"extra": 1}, "model 1: malformed model (unknown 'extra')"),
    ],
)
def test_a_tampered_manifest_is_refused_naming_it(tmp_path, changes, message):
    tampered(tmp_path, **changes)
    with pytest.raises(CheckpointError) as e:
        load_sweep(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / MANIFEST}: ") and message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_manifest_link_pointing_outside_the_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere.safetensors").write_bytes(b"x")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    tampered(sweep, file="link.safetensors")
    (sweep / "link.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(
        CheckpointError, match=re.escape("link.safetensors points outside the sweep folder")
    ):
        load_sweep(sweep)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "latent-explorer-sweep", "models": {"a": 1}}', "malformed model list"),
        ('{"format": "latent-explorer-sweep", "models": [7]}', "model 1 is int, not an object"),
        ('{"format": "latent-explorer-sweep", "models": [{}]}', "(missing active_units, elbo"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": "latent-explorer-sweep", "models": []}', "no finished model yet"),
        ("\udcff", "cannot be read as a sweep manifest"),
    ],
)
def test_a_malformed_manifest_is_one_line_naming_it(tmp_path, text, message):
    (tmp_path / MANIFEST).write_text(text, errors="surrogateescape")
    with pytest.raises(CheckpointError) as e:
        load_sweep(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / MANIFEST}: ") and message in str(e.value)


def test_a_manifest_listing_a_beta_or_a_file_twice_is_refused(tmp_path):
    (tmp_path / "b1.0.st").write_bytes(b"x")
    (tmp_path / "b2.0.st").write_bytes(b"x")
    write_sweep(tmp_path, {}, [model(1.0), model(1.0)])
    with pytest.raises(CheckpointError, match=re.escape("value 1.0 is listed twice")):
        load_sweep(tmp_path)
    write_sweep(tmp_path, {}, [model(1.0), SweepModel(**asdict(model(2.0)) | {"file": "b1.0.st"})])
    with pytest.raises(CheckpointError, match=re.escape("file 'b1.0.st' is listed twice")):
        load_sweep(tmp_path)


def test_a_huge_manifest_is_refused_before_it_is_read(tmp_path):
    with open(tmp_path / MANIFEST, "wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MB claimed, nothing written
    with pytest.raises(CheckpointError, match="too large for a sweep manifest"):
        load_sweep(tmp_path)


def test_a_manifest_from_before_other_weights_is_read_as_a_beta_sweep(tmp_path):
    """Sweeps written when only β could be swept list a `beta` per model."""
    (tmp_path / "b1.0.st").write_bytes(b"x")
    (tmp_path / "b4.0.st").write_bytes(b"x")
    write_sweep(tmp_path, {}, [model(4.0), model(1.0)])
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    for entry in manifest["models"]:
        entry["beta"] = entry.pop("value")
        del entry["weight"]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    _, models = load_sweep(tmp_path)
    assert [(m.weight, m.value, m.file) for m in models] == [
        ("beta", 1.0, "b1.0.st"),
        ("beta", 4.0, "b4.0.st"),
    ]
