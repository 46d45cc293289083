"""`evaluate` on data with factors: MIG, DCI, SAP and the FactorVAE score with the
protocol each was measured under, and the options for the common variants."""

from __future__ import annotations

import json

import pytest

from tests.test_cli_save import TINY, last_line, run

FACTORS = ["shape", "scale", "orientation", "x", "y"]


@pytest.fixture(scope="module")
def sprites_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("metrics") / "m.safetensors"
    from explorer import cli

    code = cli.main(
        ["train", "--dataset", "sprites", *TINY, "--latent-dim", "3", "--out", str(out)]
    )
    assert code == 0
    return out


def evaluate(capsys, model, *options: str) -> tuple[int, str, str]:
    return run(capsys, "evaluate", str(model), "--count", "300", "--k", "1", *options)


def test_every_metric_is_printed_with_its_protocol(capsys, sprites_model):
    code, out, err = evaluate(capsys, sprites_model)
    assert code == 0, err
    for name in ("MIG", "DCI", "SAP", "FactorVAE score"):
        assert f"\n  {name} " in out
    protocol = out.split("  protocol\n", 1)[1].splitlines()
    assert [line.split(":")[0].strip() for line in protocol] == [
        "MIG",
        "DCI",
        "SAP",
        "FactorVAE score",
    ]
    for line in protocol:
        assert ", ".join(FACTORS) in line and "posterior means; 300 points" in line
        assert "seed 0" in line
    assert "20 equal-width bins" in protocol[0] and "fitted on 200 / tested on 100" in protocol[1]


def test_the_variants_are_options_and_in_the_json(capsys, sprites_model):
    code, out, err = evaluate(
        capsys,
        sprites_model,
        "--exclude-factors",
        "shape",
        "--codes",
        "samples",
        "--bins",
        "10",
        "--sap-factors",
        "continuous",
        "--json",
    )
    assert code == 0, err
    figures = json.loads(out)
    scores = figures["disentanglement"]
    for metric in scores.values():
        assert metric["protocol"]["factors"] == FACTORS[1:]
        assert metric["protocol"]["codes"] == "samples"
    assert "10 equal-width bins" in scores["mig"]["protocol"]["estimator"]
    assert scores["sap"]["factors_as"] == "continuous"
    assert list(figures["mig_per_factor"]) == FACTORS[1:]
    assert figures["mig"] == scores["mig"]["score"]


@pytest.mark.parametrize(
    ("dataset", "leave_out", "message"),
    [
        (
            "sprites",
            "shap",
            "error: --exclude-factors: the data has no factor 'shap' "
            "(its factors: shape, scale, orientation, x, y)",
        ),
        ("sprites", ",".join(FACTORS), "error: --exclude-factors: every factor is left out"),
        ("digits", "shape", "error: --exclude-factors: digits has no factors to leave out"),
    ],
)
def test_a_factor_that_is_not_there_is_named(capsys, sprites_model, dataset, leave_out, message):
    options = ["--exclude-factors", leave_out]
    if dataset == "digits":
        digits = str(sprites_model.parent / "digits.safetensors")
        code, _, err = run(capsys, "train", *TINY, "--out", digits)
        assert code == 0, err
        code, out, err = run(capsys, "evaluate", digits, *options)
    else:
        code, out, err = evaluate(capsys, sprites_model, *options)
    assert code == 2 and out == ""
    assert last_line(err).startswith(message), last_line(err)
