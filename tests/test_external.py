"""Models trained elsewhere: TorchScript files, weights plus a factory, the adapters, and
every way they can fail to fit (plain pytest, no Qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch.distributions import Independent

from explorer.core.config import ARCHITECTURES, Adapters, ModelConfig
from explorer.core.errors import ConfigError, ExplorerError
from explorer.core.export import export_torchscript
from explorer.core.external import ExternalModel, probe
from explorer.core.external_files import ExternalSource, open_external
from explorer.core.kinds import build_model
from explorer.core.metrics import encode
from explorer.core.model import images_to_tensor
from tests import external_models as em

HERE = Path(__file__).resolve().parent
DATA = (1, 28, 28)
Z = torch.randn(6, 2, generator=torch.Generator().manual_seed(3))


def _weights(module: torch.nn.Module, path: Path) -> Path:
    if path.suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    else:
        torch.save(module.state_dict(), path)
    return path


def _images(n: int = 5) -> torch.Tensor:
    return torch.rand((n, *DATA), generator=torch.Generator().manual_seed(0))


# -- TorchScript -------------------------------------------------------------------------
def test_a_scripted_model_opens_and_matches_the_original(tmp_path):
    torch.manual_seed(0)
    original = em.PairVAE(latent_dim=3).eval()
    path = em.script(original, tmp_path / "vae.pt")
    model = open_external(ExternalSource(str(path)))  # no data: its own image_shape says
    assert model.config.latent_dim == 3 and model.config.image_shape == DATA
    assert model.config.adapters == Adapters("image", "pair", "probabilities")
    x = _images()
    with torch.no_grad():
        mu, logvar = model.encode(x)
        want_mu, want_logvar = original.encode(x)
        z = torch.randn(4, 3)
        assert torch.allclose(model.decode(z), original.decode(z), atol=1e-6)
    assert torch.allclose(mu, want_mu, atol=1e-6) and torch.allclose(logvar, want_logvar)


def test_our_export_reopens_and_decodes_identically(tmp_path):
    for arch in ARCHITECTURES:
        ours = build_model(ModelConfig(latent_dim=4, architecture=arch, hidden=(32,)), seed=1)
        path = export_torchscript(ours, tmp_path / f"{arch}.pt")
        theirs = open_external(ExternalSource(str(path)))
        z = torch.randn(8, 4)
        x = _images()
        with torch.no_grad():
            assert torch.equal(theirs.decode(z), ours.decode(z))
            for a, b in zip(theirs.encode(x), ours.encode(x), strict=True):
                assert torch.equal(a, b)


def test_a_script_without_encode_and_decode_says_what_is_missing(tmp_path):
    class OnlyForward(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    path = em.script(OnlyForward(), tmp_path / "fwd.pt")
    with pytest.raises(ExplorerError, match=r"fwd.pt: the model has no encode method.*jit.export"):
        open_external(ExternalSource(str(path)), DATA)


def test_a_corrupt_torchscript_file_is_named(tmp_path):
    path = em.script(em.PairVAE(), tmp_path / "vae.pt")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ExplorerError, match=r"vae.pt: neither a TorchScript module nor a file"):
        open_external(ExternalSource(str(path)), DATA)


# -- weights plus a factory --------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".pt", ".pth", ".safetensors"])
def test_weights_with_a_factory_by_module_name(tmp_path, suffix):
    torch.manual_seed(1)
    original = em.PairVAE(latent_dim=5)
    path = _weights(original, tmp_path / f"weights{suffix}")
    source = ExternalSource(str(path), "tests.external_models:PairVAE", '{"latent_dim": 5}')
    model = open_external(source, DATA)
    z = torch.randn(3, 5)
    with torch.no_grad():
        assert torch.allclose(model.decode(z), original.decode(z))
    assert model.config.architecture == "tests.external_models:PairVAE"


def test_a_factory_by_file_path_and_arguments_from_a_json_file(tmp_path):
    original = em.PairVAE(latent_dim=4)
    path = _weights(original, tmp_path / "w.pt")
    args = tmp_path / "args.json"
    args.write_text('{"latent_dim": 4}')
    source = ExternalSource(str(path), f"{HERE / 'external_models.py'}:PairVAE", str(args))
    assert open_external(source, DATA).config.latent_dim == 4


def test_nested_and_prefixed_state_dicts_load(tmp_path):
    original = em.PairVAE()
    wrapped = {f"module.{k}": v for k, v in original.state_dict().items()}
    path = tmp_path / "lightning.ckpt"
    torch.save({"epoch": 3, "state_dict": wrapped}, path)
    model = open_external(ExternalSource(str(path), "tests.external_models:PairVAE"), DATA)
    with torch.no_grad():
        assert torch.allclose(
            model.decode(Z[:, :1].repeat(1, 3)), original.decode(Z[:, :1].repeat(1, 3))
        )


@pytest.mark.parametrize(
    ("factory", "args", "message"),
    [
        ("PairVAE", "", r"name it as package.module:function"),
        ("no_such_package.models:build", "", r"importing no_such_package.models failed"),
        ("tests.external_models:missing", "", r"has no function missing"),
        ("tests.external_models:build_raises", "", r"raised ValueError: this factory needs"),
        ("tests.external_models:build_not_a_module", "", r"returned a dict, not a torch"),
        ("tests.external_models:PairVAE", "{latent_dim: 3}", r"factory arguments: not valid"),
        ("tests.external_models:PairVAE", "[3]", r"expected a JSON object"),
        ("tests.external_models:PairVAE", '{"size": 3}', r"unexpected keyword argument"),
        ("missing_file.py:build", "", r"missing_file.py does not exist"),
    ],
)
def test_factory_problems_are_reported(tmp_path, factory, args, message):
    path = _weights(em.PairVAE(), tmp_path / "w.pt")
    with pytest.raises(ConfigError, match=message):
        open_external(ExternalSource(str(path), factory, args), DATA)


def test_weights_that_do_not_fit_name_the_keys(tmp_path):
    state = em.PairVAE(latent_dim=3).state_dict()
    state.pop("mu.bias")
    state["extra.weight"] = torch.zeros(2)
    path = tmp_path / "w.pt"
    torch.save(state, path)
    with pytest.raises(
        ExplorerError,
        match=r"w.pt: the weights do not fit.*missing mu.bias; "
        r"unexpected extra.weight",
    ):
        open_external(ExternalSource(str(path), "tests.external_models:PairVAE"), DATA)
    path = _weights(em.PairVAE(latent_dim=3), tmp_path / "w3.pt")
    source = ExternalSource(str(path), "tests.external_models:PairVAE", '{"latent_dim": 4}')
    with pytest.raises(
        ExplorerError,
        match=r"dec.0.weight is \(784, 3\) in the file, \(784, 4\) in the model.* and 2 more",
    ):
        open_external(source, DATA)


def test_weights_alone_ask_for_the_code(tmp_path):
    path = _weights(em.PairVAE(), tmp_path / "w.pth")
    with pytest.raises(ExplorerError, match=r"w.pth: holds weights without the code.*--factory"):
        open_external(ExternalSource(str(path)), DATA)


def test_a_pickled_whole_model_is_not_unpickled(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(em.PairVAE(), path)  # the whole object: needs unpickling to read
    with pytest.raises(
        ExplorerError,
        match=r"whole.pt: cannot be read as weights \(it holds a pickled "
        r"tests.external_models.PairVAE, which is never unpickled",
    ):
        open_external(ExternalSource(str(path), "tests.external_models:PairVAE"), DATA)


def test_a_torchscript_file_with_a_factory_is_refused(tmp_path):
    path = em.script(em.PairVAE(), tmp_path / "vae.pt")
    with pytest.raises(ExplorerError, match="a TorchScript module, which opens without"):
        open_external(ExternalSource(str(path), "tests.external_models:PairVAE"), DATA)


# -- the adapters ------------------------------------------------------------------------
def test_a_flat_model_with_one_output_and_logits():
    inner = em.SplitFlatVAE(latent_dim=2)
    model = probe(inner, "flat", "test", DATA, _images())
    assert model.config.adapters == Adapters("flat", "split", "logits")
    x = _images()
    with torch.no_grad():
        mu, logvar = model.encode(x)
        h = inner.encoder(x.flatten(1))
        assert torch.equal(mu, h[:, :2]) and torch.equal(logvar, h[:, 2:])
        want = torch.sigmoid(inner.decode(Z)).view(-1, *DATA)
        assert torch.allclose(model.decode(Z), want)
        assert torch.allclose(model.decode_logits(Z), inner.decode(Z).view(-1, *DATA))


def test_distributions_in_and_out():
    inner = em.DistributionVAE()
    model = probe(inner, "dist", "test", DATA, _images())
    assert model.config.adapters == Adapters("image", "distribution", "distribution")
    x = _images()
    with torch.no_grad():
        q = inner.encode(x)
        mu, logvar = model.encode(x)
        assert torch.allclose(mu, q.mean) and torch.allclose(logvar, 2 * q.stddev.log())
        p = inner.decode(Z)
        assert isinstance(p, Independent)
        assert torch.allclose(model.decode(Z), p.mean)
        assert torch.allclose(model.decode_logits(Z), p.base_dist.logits)


def test_tuples_with_extra_items():
    inner = em.ExtrasVAE()
    model = probe(inner, "extras", "test", DATA, _images())
    assert model.config.adapters == Adapters("image", "pair", "probabilities")
    z = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.allclose(model.decode(z), inner.decode(z)[0])


def test_the_adapters_can_be_overridden():
    # probabilities read as logits: a user who knows better than the probe
    inner = em.PairVAE()
    model = probe(inner, "pair", "test", DATA, None, Adapters(decoder="logits"))
    z = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.allclose(model.decode(z), torch.sigmoid(inner.decode(z)))
    with pytest.raises(ExplorerError, match=r"encode returned a tuple.*cannot be read as 'split'"):
        probe(em.ExtrasVAE(), "x", "test", DATA, None, Adapters(encoder="split"))
    with pytest.raises(ExplorerError, match=r"cannot be read as 'distribution'"):
        probe(inner, "x", "test", DATA, None, Adapters(decoder="distribution"))


def test_adapters_parse_from_the_command_line():
    assert Adapters.parse("encoder=split, decoder=logits") == Adapters("auto", "split", "logits")
    assert Adapters.parse("") == Adapters()
    with pytest.raises(ConfigError, match="adapters are given as"):
        Adapters.parse("split")
    with pytest.raises(ConfigError, match="adapter decoder must be one of"):
        Adapters.parse("decoder=softmax")


@pytest.mark.parametrize(
    ("inner", "data", "message"),
    [
        (em.NoDecode(), DATA, r"m: the model has no decode method"),
        (em.WrongDecodeSize(), DATA, r"decode returned a tensor of shape \(13, 100\) for 13 codes"),
        (em.OddEncoder(), DATA, r"encode returned a tensor of shape \(5, 3\); expected"),
        (em.SplitFlatVAE(), (1, 64, 64), r"encode failed on a probe batch.*\(5, 4096\)"),
        (
            em.PairVAE(),
            (1, 64, 64),
            r"takes images of shape \(1, 28, 28\).*images are \(1, 64, 64\)",
        ),
        (em.SplitFlatVAE(), None, r"the image size is unknown: open a dataset"),
    ],
)
def test_models_that_do_not_fit_say_why(inner, data, message):
    images = None if data is None else torch.rand((5, *data))
    with pytest.raises(ExplorerError, match=message):
        probe(inner, "m", "test", data, images)


def test_a_wrong_latent_dim_attribute_is_caught():
    inner = em.PairVAE(latent_dim=3)
    inner.latent_dim = 7
    with pytest.raises(ExplorerError, match="latent_dim attribute says 7 but encode returns 3"):
        probe(inner, "m", "test", DATA, None)


def test_an_external_model_encodes_a_dataset_like_ours():
    model = probe(em.SplitFlatVAE(), "m", "test", DATA, None)
    assert isinstance(model, ExternalModel) and model.copy() is model
    images = images_to_tensor((torch.rand(300, 28, 28) * 255).to(torch.uint8).numpy())
    mu, logvar = encode(model, images, batch_size=128)
    assert mu.shape == logvar.shape == (300, 2)


def test_the_readme_example_trains_and_opens(tmp_path):
    """examples/own_vae: trained by its own script, opened by file-path factory and as
    TorchScript, both reading the same flat-input, probability-output model."""
    import subprocess
    import sys

    from tests.idx_writer import write_idx

    images = (torch.rand(200, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).byte()
    data = write_idx(tmp_path / "images-idx3-ubyte", images.numpy())
    weights, scripted = tmp_path / "vae.pth", tmp_path / "vae.pt"
    example = HERE.parent / "examples" / "own_vae"
    command = [sys.executable, str(example / "train.py"), str(data), "--epochs", "1"]
    run = subprocess.run(
        [*command, "--out", str(weights), "--torchscript", str(scripted)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    by_factory = open_external(
        ExternalSource(str(weights), f"{example / 'model.py'}:build_model"), DATA
    )
    by_script = open_external(ExternalSource(str(scripted)), DATA)
    for model in (by_factory, by_script):
        assert model.config.adapters == Adapters("flat", "pair", "probabilities")
    with torch.no_grad():
        assert torch.allclose(by_factory.decode(Z), by_script.decode(Z), atol=1e-6)
