"""β sweeps: the `sweep` command on tiny data, its folder, and reading it back."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET

import pytest

from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import load_dataset
from explorer.core.errors import CheckpointError
from explorer.core.metrics import report
from explorer.core.sweep import SweepModel, load_sweep, rate_distortion_svg, write_sweep
from tests.test_cli import cli

TINY = ["--dataset", "sprites", "--count", "200", "--latent-dim", "3", "--epochs", "1"]


def test_sweep_writes_models_table_and_plot(tmp_path):
    out = tmp_path / "sweep"
    r = cli("sweep", *TINY, "--hidden", "32", "--betas", "4,0.5", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "[2/2] β = 4" in r.stderr
    folder, models = load_sweep(out)
    assert [m.beta for m in models] == [0.5, 4.0]  # in β order, whatever the command's
    data = load_dataset("sprites", count=200)
    for m in models:
        ckpt = load_checkpoint(folder / m.file)
        assert ckpt.train_config.beta == m.beta and ckpt.model.config.latent_dim == 3
        rep = report(ckpt.model, data)  # the table holds the model's own figures
        assert m.elbo == pytest.approx(rep.evaluation.elbo, rel=1e-4)
        assert m.kl == pytest.approx(rep.evaluation.kl, rel=1e-4, abs=1e-4)
        assert m.mig == pytest.approx(rep.mig.score) and m.status == "completed"
        assert m.recon + m.kl == pytest.approx(-m.elbo, rel=1e-6)
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [float(row["beta"]) for row in rows] == [0.5, 4.0]
    assert float(rows[1]["active_units"]) == models[1].active_units
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
    [("1,x", "comma-separated numbers"), ("1,1", "listed twice")],
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
    return SweepModel(beta=beta, file=f"b{beta}.st", status="completed", **values | figures)


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
