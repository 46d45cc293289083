"""The model family: PCA, autoencoder, VAE, CVAE, IWAE and masked training, each
trained on tiny data, checked against its defining property, saved and reopened."""

import math

import numpy as np
import pytest
import torch

from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.corruption import FILL, apply_mask, block_masks, corrupt
from explorer.core.data import Dataset, make_digits
from explorer.core.errors import ConfigError
from explorer.core.kinds import build_model
from explorer.core.metrics import evaluate, iw_bound, report
from explorer.core.model import LatentModel, images_to_tensor
from explorer.core.on_data import on_data
from explorer.core.training import train

SMALL = {"latent_dim": 2, "hidden": (64,)}


def fitted(kind: str, data: Dataset, epochs: int = 2, seed: int = 0, shape=SMALL, **train_opts):
    classes = data.num_classes if kind == "cvae" else 0
    model = build_model(ModelConfig(kind=kind, classes=classes, **shape), seed=seed)
    config = TrainConfig(epochs=epochs, batch_size=64, seed=seed, **train_opts)
    records = list(train(model, data, config))
    assert records[-1].status == "completed", records[-1].message
    return model, records


@pytest.mark.parametrize(
    ("kind", "corruption"),
    [
        ("pca", "none"),
        ("ae", "none"),
        ("ae", "mask"),
        ("vae", "none"),
        ("vae", "noise"),
        ("cvae", "none"),
        ("iwae", "none"),
    ],
)
def test_each_kind_trains_and_reopens_from_its_checkpoint(tiny_digits, tmp_path, kind, corruption):
    model, records = fitted(kind, tiny_digits, corruption=corruption)
    first, last = records[0], records[-1]
    if kind != "pca":  # the loss falls over training
        assert [r for r in records if r.kind == "epoch"][-1].loss < first.loss
    assert last.val is not None and math.isfinite(last.val.recon)
    path = save_checkpoint(tmp_path / f"{kind}.safetensors", Checkpoint(model=model))
    reopened = load_checkpoint(path).model
    assert reopened.kind == kind and type(reopened) is type(model)
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    y = torch.arange(6) % 10
    with torch.inference_mode():
        assert torch.equal(reopened.decode(z, y), model.to("cpu").eval().decode(z, y))
    images = images_to_tensor(tiny_digits.images[:32])
    labels = torch.from_numpy(tiny_digits.labels[:32])
    torch.manual_seed(0)
    before = evaluate(model, images, labels)
    torch.manual_seed(0)
    assert evaluate(reopened, images, labels) == before


def test_pca_reconstructs_as_numpys_svd_does(tiny_digits):
    model = build_model(ModelConfig(kind="pca", latent_dim=5))
    list(train(model, tiny_digits, TrainConfig(val_fraction=0.0)))  # fit on every image
    x = tiny_digits.images.reshape(len(tiny_digits), -1).astype(np.float64) / 255
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    expected = mean + (x - mean) @ vt[:5].T @ vt[:5]
    with torch.inference_mode():
        z, logvar = model.encode(torch.from_numpy(x).float().view(-1, 1, 28, 28))
        got = model.reconstruct(z).flatten(1).double().numpy()
    np.testing.assert_allclose(got, expected, atol=2e-4)
    # whitened: the codes of the data have unit variance and no correlation
    np.testing.assert_allclose(np.cov(z.numpy().T, bias=True), np.eye(5), atol=1e-3)
    assert torch.isneginf(logvar).all()  # a point, not a distribution


def test_the_autoencoder_has_no_kl_term_and_deterministic_codes(tiny_digits):
    model, _ = fitted("ae", tiny_digits)
    x = images_to_tensor(tiny_digits.images[:16]).float() / 255
    terms_beta_0, terms_beta_5 = model.loss(x, 0.0), model.loss(x, 5.0)
    assert float(terms_beta_0.kl) == 0.0
    assert torch.equal(terms_beta_0.total, terms_beta_0.recon)
    assert torch.equal(terms_beta_5.total, terms_beta_0.total)  # β weighs nothing
    with torch.inference_mode():
        assert torch.equal(model.encode(x)[0], model.encode(x)[0])
        assert torch.equal(model(x)[0], model(x)[0])  # no sampling anywhere
    e = evaluate(model, images_to_tensor(tiny_digits.images))
    assert math.isnan(e.kl) and math.isnan(e.elbo) and e.kl_per_dim == ()
    assert e.recon > 0 and e.sq_error > 0
    with pytest.raises(ValueError, match="no posterior"):
        iw_bound(model, images_to_tensor(tiny_digits.images[:8]))
    rep = report(model, tiny_digits, iw_k=5)
    assert rep.iw_bound is None and rep.to_dict()["kl"] is None


def test_a_cvae_decodes_the_same_code_differently_for_each_class():
    data = make_digits(3000, seed=2)
    model, _ = fitted("cvae", data, epochs=6, lr=3e-3)
    z = torch.zeros(10, 2)
    with torch.inference_mode():
        decodes = model.decode(z, torch.arange(10)).flatten(1).numpy()
    means = np.stack(
        [data.images[data.labels == c].reshape(-1, 784).mean(0) / 255 for c in range(10)]
    )
    distances = ((decodes[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    nearest = distances.argmin(1)
    assert (nearest == np.arange(10)).sum() >= 8, nearest  # each looks like its own class
    # and the class chosen with `condition` is what decode uses without labels
    model.condition = 7
    with torch.inference_mode():
        np.testing.assert_allclose(model.decode(z[:1]).flatten(1).numpy()[0], decodes[7], atol=1e-6)


def test_the_importance_weighted_bound_is_at_least_the_elbo(tiny_digits):
    model, _ = fitted("vae", tiny_digits, epochs=3)
    images = images_to_tensor(tiny_digits.images[:64])
    torch.manual_seed(0)
    elbos = [iw_bound(model, images, k=1) for _ in range(20)]  # k = 1 is the ELBO
    bounds = [iw_bound(model, images, k=20) for _ in range(5)]
    assert np.mean(bounds) >= np.mean(elbos) - 0.1
    assert np.mean(bounds) > np.mean(elbos)  # and tighter on a model this rough
    # the IWAE's own objective is that bound: its loss is minus it
    iwae, _ = fitted("iwae", tiny_digits, epochs=1, samples=20)
    x = images.float() / 255
    torch.manual_seed(1)
    with torch.no_grad():
        losses = [float(iwae.loss(x, 1.0, samples=20).total) for _ in range(5)]
        elbo_losses = [float(iwae.loss(x, 1.0, samples=1).total) for _ in range(20)]  # the VAE's
    assert np.mean(losses) <= np.mean(elbo_losses) + 0.1


def test_masked_training_fills_a_hidden_block_better_than_plain_training():
    data, test = make_digits(2000, seed=1), make_digits(200, seed=9)
    x = images_to_tensor(test.images).float() / 255
    torch.manual_seed(5)
    masks = block_masks(len(x), 28, 28, 0.25)
    errors = {}
    for corruption in ("none", "mask"):
        shape = {"latent_dim": 8, "hidden": (128,)}
        model, _ = fitted("vae", data, 15, shape=shape, lr=3e-3, corruption=corruption)
        with torch.inference_mode():
            filled = model.decode(model.encode(apply_mask(x, masks))[0])
        errors[corruption] = float(((filled - x).square() * masks).sum() / masks.sum())
    assert errors["mask"] < 0.75 * errors["none"], errors


def test_corruptions_hide_about_the_share_asked_for():
    torch.manual_seed(0)
    masks = block_masks(2000, 28, 28, 0.25)
    assert masks.shape == (2000, 1, 28, 28)
    assert abs(float(masks.float().mean()) - 0.25) < 0.02
    x = torch.zeros(4, 1, 28, 28)
    assert torch.equal(apply_mask(x, masks[:4])[masks[:4]], torch.full_like(x[masks[:4]], FILL))
    noisy = corrupt(torch.zeros(1000, 1, 28, 28), "noise", 0.3)
    share = (noisy != 0).float().mean((1, 2, 3))  # per image
    whole = share == 0
    assert 0.4 < float(whole.float().mean()) < 0.6  # half the images stay whole
    assert abs(float(share[~whole].mean()) - 0.3) < 0.02  # the rest lose 30% of pixels
    masked = corrupt(torch.zeros(1000, 1, 28, 28), "mask", 0.25)
    greyed = (masked == FILL).float().mean((1, 2, 3))
    assert 0.4 < float((greyed == 0).float().mean()) < 0.6
    assert abs(float(greyed[greyed > 0].mean()) - 0.25) < 0.02
    assert torch.equal(corrupt(x, "none", 0.3), x)


class _Fake(LatentModel):
    """1-d codes: every image encodes to z = 5; decode(z) is the first image of the data
    near there and, unless `smooth`, uniform noise elsewhere (a gap)."""

    def __init__(self, image: torch.Tensor, smooth: bool):
        super().__init__()
        self.config = ModelConfig(image_shape=(1, 8, 8), latent_dim=1, kind="ae")
        self.image, self.smooth = image, smooth

    def encode(self, x, y=None):
        z = torch.full((len(x), 1), 5.0)
        return z, torch.full_like(z, -math.inf)

    def decode(self, z, y=None):
        noise = torch.rand(len(z), 1, 8, 8, generator=torch.Generator().manual_seed(0))
        near = (z[:, :1, None, None] - 5).abs() < 1
        return torch.where(near | self.smooth, self.image.expand(len(z), 1, 8, 8), noise)


def test_on_data_counts_samples_that_decode_as_well_as_the_data(blobs):
    images = images_to_tensor(blobs.images)
    image = images[torch.from_numpy(blobs.labels == 0)].float().mean(0, keepdim=True) / 255
    # the autoencoder's stand-in prior is fitted to its codes (all 5): every sample decodes
    # like a reconstruction
    assert on_data(_Fake(image, smooth=False), images, samples=50).fraction == 1.0
    gappy = _Fake(image, smooth=False)
    gappy.config = ModelConfig(image_shape=(1, 8, 8), latent_dim=1, kind="vae")
    result = on_data(gappy, images, samples=50)  # N(0, 1) lands in the gap: noise
    assert result.fraction == 0.0 and result.threshold > 0
    gappy.smooth = True
    assert on_data(gappy, images, samples=50).fraction == 1.0


def test_settings_that_do_not_fit_the_kind_are_refused(tiny_digits, blobs):
    unlabelled = Dataset(images=tiny_digits.images, name="unlabelled")
    cvae = build_model(ModelConfig(kind="cvae", classes=10, **SMALL))
    with pytest.raises(ConfigError, match="unlabelled has no labels"):
        list(train(cvae, unlabelled, TrainConfig(epochs=1)))
    small_cvae = build_model(ModelConfig(kind="cvae", classes=2, **SMALL))
    with pytest.raises(ConfigError, match="10 classes but the model knows 2"):
        list(train(small_cvae, tiny_digits, TrainConfig(epochs=1)))
    pca = build_model(ModelConfig(kind="pca", latent_dim=2))
    with pytest.raises(ConfigError, match="PCA is fitted in closed form"):
        list(train(pca, tiny_digits, TrainConfig(corruption="mask")))
    with pytest.raises(ConfigError, match="kind must be one of"):
        ModelConfig(kind="gan").validate()
    with pytest.raises(ConfigError, match="only a cvae"):
        ModelConfig(kind="vae", classes=3).validate()
    with pytest.raises(ConfigError, match="corruption must be one of"):
        TrainConfig(corruption="blur").validate()
    with pytest.raises(ConfigError, match="corruption level"):
        TrainConfig(corruption="mask", corruption_level=1.5).validate()
    with pytest.raises(ConfigError, match="importance samples"):
        TrainConfig(samples=0).validate()
