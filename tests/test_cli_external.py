"""Models from elsewhere that misbehave after passing the probe, factories that exit,
models that compute NaN, and exports that fail: one line naming the file, a non-zero
exit, and no bad file left behind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.kinds import build_model
from explorer.resources import bundled_model
from tests.external_models import PairVAE, script
from tests.test_cli import cli
from tests.test_cli_save import last_line, run

DIGITS = ["--dataset", "digits", "--count", "100", "--k", "2", "--prior-samples", "0"]


class SmallBatchesOnly(PairVAE):
    """Passes the probe (8 images), fails on the data's larger batches."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[0] > 8:
            raise RuntimeError("exported for batches of up to 8")
        h = self.enc(x)
        return self.mu(h), self.logvar(h)


class NaNOnLargeBatches(PairVAE):
    """Decodes the probe's 16 codes, and NaN for more."""

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.sigmoid(self.dec(z))
        if z.shape[0] > 16:
            x = x * float("nan")
        return x


class LatentGrowsOnLargeBatches(PairVAE):
    """Latent size 3 for the probe's 8 images, 4 for more."""

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        if x.shape[0] > 8:
            mu, logvar = torch.cat([mu, mu[:, :1]], 1), torch.cat([logvar, logvar[:, :1]], 1)
        return mu, logvar


class ExitsOnLargeBatches(PairVAE):
    def encode(self, x: torch.Tensor):
        if len(x) > 8:
            sys.exit(0)
        return super().encode(x)


def build_exits() -> torch.nn.Module:
    sys.exit(0)


def test_a_torchscript_model_failing_on_larger_batches_is_named(tmp_path, capsys):
    model = script(SmallBatchesOnly(), tmp_path / "small.pt")
    code, out, err = run(capsys, "evaluate", str(model), *DIGITS)
    assert code == 2 and out == "" and "Traceback" not in err
    assert last_line(err).startswith(
        f"error: {model}: encode failed on a tensor of shape (100, 1, 28, 28) ("
    )
    assert "exported for batches of up to 8" in last_line(err)


def test_a_model_whose_latent_size_changes_with_the_batch_is_named(tmp_path, capsys):
    model = script(LatentGrowsOnLargeBatches(), tmp_path / "grows.pt")
    code, out, err = run(capsys, "evaluate", str(model), *DIGITS)
    assert code == 2 and out == "" and "Traceback" not in err
    assert last_line(err) == (
        f"error: {model}: encode gave mu (100, 4) and logvar (100, 4) for 100 images; "
        "the probe found latent size 3"
    )


def test_a_model_producing_nan_is_refused_by_evaluate(tmp_path, capsys):
    model = script(NaNOnLargeBatches(), tmp_path / "nan.pt")
    code, out, err = run(capsys, "evaluate", str(model), *DIGITS)
    assert code == 2 and out == ""
    assert last_line(err) == (
        f"error: {model}: the model produced non-finite values (NaN or infinite) on digits: "
        "reconstruction, squared error, importance-weighted bound"
    )
    assert "deterministic" not in err


def test_a_checkpoint_whose_weights_are_nan_does_not_evaluate_as_fine(tmp_path, capsys):
    model = build_model(bundled_model_config(), seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    path = save_checkpoint(tmp_path / "nan.safetensors", Checkpoint(model=model))
    code, out, err = run(capsys, "evaluate", str(path), *DIGITS)
    assert code == 2 and out == "" and "Traceback" not in err
    line = last_line(err)
    assert line.startswith(f"error: {path}: ") and ("NaN" in line or "non-finite" in line)


def bundled_model_config():
    from explorer.core.checkpoint import load_checkpoint

    return load_checkpoint(bundled_model("digits")).model.config


def test_user_code_calling_sys_exit_is_an_error_not_a_silent_success(tmp_path, capsys):
    weights = tmp_path / "w.pth"
    torch.save(PairVAE().state_dict(), weights)
    code, out, err = run(
        capsys,
        "evaluate",
        str(weights),
        "--factory",
        "tests.test_cli_external:build_exits",
        *DIGITS,
    )
    assert code == 2 and out == ""
    assert last_line(err) == (
        "error: factory 'tests.test_cli_external:build_exits' raised SystemExit: 0"
    )
    factory = ["--factory", "tests.test_cli_external:ExitsOnLargeBatches"]
    code, out, err = run(capsys, "evaluate", str(weights), *factory, *DIGITS)
    assert code == 2 and out == ""
    assert last_line(err) == (
        f"error: {weights}: encode failed on a tensor of shape (100, 1, 28, 28) (SystemExit: 0)"
    )
    script_file = tmp_path / "train_script.py"
    script_file.write_text("import sys\nsys.exit(3)  # a training script's argparse exiting\n")
    code, _, err = run(
        capsys, "evaluate", str(weights), "--factory", f"{script_file}:build", *DIGITS
    )
    assert code == 2
    assert last_line(err) == (
        f"error: factory '{script_file}:build': importing {script_file} failed (SystemExit: 3)"
    )


def test_a_factory_calling_sys_exit_in_a_real_process(tmp_path):
    weights = tmp_path / "w.pth"
    torch.save(PairVAE().state_dict(), weights)
    r = cli("evaluate", str(weights), "--factory", "tests.test_cli_external:build_exits", *DIGITS)
    assert r.returncode == 2 and r.stdout == "" and "raised SystemExit: 0" in r.stderr


def test_deeply_nested_factory_arguments_are_refused(tmp_path, capsys):
    weights = tmp_path / "w.pth"
    torch.save(PairVAE().state_dict(), weights)
    factory = ["--factory", "tests.external_models:PairVAE"]
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    code, _, err = run(capsys, "evaluate", str(weights), *factory, "--factory-args", deep, *DIGITS)
    assert code == 2 and "Traceback" not in err
    assert last_line(err) == "error: factory arguments: nested too deeply to be keyword arguments"
    args_file = tmp_path / "args.json"
    args_file.write_text(deep)
    code, _, err = run(
        capsys, "evaluate", str(weights), *factory, "--factory-args", str(args_file), *DIGITS
    )
    assert code == 2
    assert last_line(err) == f"error: {args_file}: nested too deeply to be keyword arguments"


def test_an_export_that_fails_leaves_no_file_and_the_old_one_as_it_was(tmp_path, capsys):
    model = build_model(bundled_model_config(), seed=0)
    with torch.no_grad():
        next(iter(model.parameters())).fill_(float("nan"))
    bad = save_checkpoint(tmp_path / "nan.safetensors", Checkpoint(model=model))
    out = tmp_path / "m.pt"
    code, _, err = run(capsys, "export", str(bad), "--torchscript", str(out))
    assert code == 2 and "Traceback" not in err and last_line(err).startswith("error: ")
    assert not out.exists() and not list(tmp_path.glob(".m.pt.*"))

    assert run(capsys, "export", str(bundled_model("digits")), "--torchscript", str(out))[0] == 0
    good = out.read_bytes()
    code, _, err = run(capsys, "export", str(bad), "--torchscript", str(out))
    assert code == 2 and out.read_bytes() == good and not list(tmp_path.glob(".m.pt.*"))


def test_an_export_to_a_missing_folder_is_one_line(tmp_path, capsys):
    """(A disk that fills up during the export: test_cli_save.py, with a real limit.)"""
    ckpt = str(bundled_model("digits"))
    code, _, err = run(capsys, "export", ckpt, "--torchscript", str(tmp_path / "no/m.pt"))
    assert code == 2
    assert last_line(err) == f"error: {tmp_path}/no/m.pt: the folder {tmp_path}/no does not exist"


class _Unprintable(Exception):
    """An exception whose message itself fails to print."""

    def __str__(self) -> str:
        raise RuntimeError("no message")


class Misbehaves(PairVAE):
    """Passes nothing a model should: each `way` breaks encode or decode differently."""

    def __init__(self, way: str):
        super().__init__()
        self.way = way

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = super().encode(x)
        if self.way == "meta codes":
            return mu.to("meta"), logvar.to("meta")
        if self.way == "complex codes":
            return mu.to(torch.complex64), logvar.to(torch.complex64)
        if self.way == "unprintable error":
            raise _Unprintable()
        if self.way == "generator exit":
            raise GeneratorExit
        if self.way == "a million outputs":
            return [1] * 1_000_000
        if self.way == "nested outputs":
            out: object = mu
            for _ in range(100_000):
                out = (out,)
            return out
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        x = super().decode(z)
        if self.way == "meta images":
            return x.to("meta")
        if self.way == "byte images":
            return (x * 255).to(torch.uint8)
        return x


def build_misbehaving(way: str) -> Misbehaves:
    return Misbehaves(way)


@pytest.mark.parametrize(
    ("way", "said"),
    [
        ("meta codes", "encode returned a tensor on the meta device"),
        ("complex codes", "encode returned complex64 values"),
        ("meta images", "decode returned a tensor on the meta device"),
        ("byte images", "decode returned uint8 values"),
        ("unprintable error", "encode failed"),
        ("generator exit", "encode failed"),
        ("a million outputs", "encode returned a list of 1,000,000 items"),
        ("nested outputs", "encode returned a tuple of a tuple of"),
    ],
)
def test_a_model_returning_what_is_no_tensor_of_numbers_is_one_line(tmp_path, capsys, way, said):
    weights = tmp_path / "w.pth"
    torch.save(PairVAE().state_dict(), weights)
    factory = ["--factory", "tests.test_cli_external:build_misbehaving"]
    args = ["--factory-args", json.dumps({"way": way})]
    code, out, err = run(capsys, "evaluate", str(weights), *factory, *args, *DIGITS)
    assert code == 2 and out == "" and "Traceback" not in err
    line = last_line(err)
    assert line.startswith(f"error: {weights}: ") and said in line and len(line) < 400


class ClaimsItsShape(PairVAE):
    """A model whose `image_shape` attribute is what a test sets."""

    def __init__(self, shape: list):
        super().__init__()
        self.image_shape = shape


def build_claiming(shape: list) -> ClaimsItsShape:
    return ClaimsItsShape(shape)


def refused_claim(tmp_path, capsys, factory: str, factory_args: dict) -> tuple[Path, str]:
    """`evaluate` of PairVAE's weights built by `factory` (of this module) with
    `factory_args`, refused in one line: the weights' path and that line."""
    weights = tmp_path / "w.pth"
    torch.save(PairVAE().state_dict(), weights)
    args = ["--factory", f"tests.test_cli_external:{factory}"]
    args += ["--factory-args", json.dumps(factory_args)]
    code, out, err = run(capsys, "evaluate", str(weights), *args, *DIGITS)
    assert code == 2 and out == "" and "Traceback" not in err
    return weights, last_line(err)


@pytest.mark.parametrize(
    ("shape", "said"),
    [
        ([1, 28.9, 28.2], "its image_shape attribute is [1, 28.9, 28.2], not (channels, height"),
        ([1, True, 28], "its image_shape attribute is [1, True, 28], not (channels, height"),
        ([4, 30_000, 30_000], "its image_shape attribute is (4, 30000, 30000); a model takes"),
        (list(range(10**5)), "its image_shape attribute is a list of 100,000 items, not"),
    ],
)
def test_a_models_own_image_shape_is_believed_only_when_it_is_one(tmp_path, capsys, shape, said):
    """(Without data open, the probe would make random images of the claimed shape.)"""
    weights, line = refused_claim(tmp_path, capsys, "build_claiming", {"shape": shape})
    assert line.startswith(f"error: {weights}: {said}")


class ClaimsItsLatentSize(PairVAE):
    """A latent size of 3 whose `latent_dim` attribute is what a test sets."""

    def __init__(self, claim: object):
        super().__init__(latent_dim=3)
        self.latent_dim = torch.tensor(claim) if isinstance(claim, list) else claim


def build_claiming_latent(claim: object) -> ClaimsItsLatentSize:
    return ClaimsItsLatentSize(claim)


@pytest.mark.parametrize(
    ("claim", "said"),
    [
        ("3", "its latent_dim attribute says '3' but encode returns 3 values"),
        (3.0, "its latent_dim attribute says 3.0 but encode returns 3 values"),
        (
            [3, 3],
            "its latent_dim attribute says a tensor of shape (2,) but encode returns 3 values",
        ),
    ],
)
def test_a_models_own_latent_size_of_another_type_is_named_as_it_is(tmp_path, capsys, claim, said):
    weights, line = refused_claim(tmp_path, capsys, "build_claiming_latent", {"claim": claim})
    assert line == f"error: {weights}: {said}"


class Chatty(PairVAE):
    """Prints on every call, as models with debugging output left in do."""

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        print(f"encoding {tuple(x.shape)}", flush=True)
        return super().encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        print("decoding", flush=True)
        return super().decode(z)


def test_what_a_model_prints_stays_out_of_the_json_line(tmp_path):
    weights = tmp_path / "w.pth"
    torch.save(PairVAE().state_dict(), weights)
    factory = ["--factory", "tests.test_cli_external:Chatty"]
    r = cli("evaluate", str(weights), *factory, *DIGITS, "--max-images", "50", "--json")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1 and json.loads(r.stdout)["images"] == 50
    assert "encoding (8, 1, 28, 28)" in r.stderr  # not lost: on stderr
