"""Settings outside their range are refused with a message naming the setting."""

import re

import pytest

from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.errors import ConfigError


@pytest.mark.parametrize("latent", [0, -1, 65])
def test_latent_size_out_of_range(latent):
    with pytest.raises(ConfigError, match="latent size"):
        ModelConfig(latent_dim=latent).validate()


@pytest.mark.parametrize("latent", [1, 2, 64])
def test_latent_size_in_range(latent):
    assert ModelConfig(latent_dim=latent).validate().latent_dim == latent


@pytest.mark.parametrize("beta", [-0.1, float("nan"), float("inf")])
def test_bad_beta(beta):
    with pytest.raises(ConfigError, match="β"):
        TrainConfig(beta=beta).validate()


def test_beta_zero_is_allowed():
    assert TrainConfig(beta=0.0).validate().beta == 0.0


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("epochs", 0, "epochs"),
        ("batch_size", 0, "batch size"),
        ("lr", 0.0, "learning rate"),
        ("val_fraction", 1.0, "validation"),
        ("warmup_epochs", -1.0, "warm-up"),
    ],
)
def test_bad_training_settings(field, value, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig(**{field: value}).validate()


def test_bad_model_choices():
    with pytest.raises(ConfigError, match="architecture"):
        ModelConfig(architecture="transformer").validate()
    with pytest.raises(ConfigError, match="likelihood"):
        ModelConfig(likelihood="poisson").validate()


def test_model_config_round_trips_through_dict():
    cfg = ModelConfig(image_shape=(3, 32, 32), latent_dim=7, architecture="conv", hidden=(128,))
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown model settings: 'colour'"):
        ModelConfig.from_dict({**cfg.to_dict(), "colour": 1})


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"latent_dim": "2"}, "latent size must be a whole number, got '2'"),
        ({"latent_dim": True}, "latent size must be a whole number, got True"),
        ({"hidden": (400_000,)}, "a hidden layer's width must be between 1 and 16,384"),
        ({"hidden": (8,) * 9}, "hidden sizes has 9 entries, more than 8"),
        ({"image_shape": (5, 28, 28)}, "images have 5 channels; a model takes 1 to 4"),
        ({"image_shape": (1, 28, 2000)}, "larger than the 1024×1024 a model can be built for"),
        ({"kind": ["vae"]}, "kind must be one of"),
        ({"gaussian_sigma": "0.1"}, "Gaussian σ must be a number"),
    ],
)
def test_model_settings_of_the_wrong_type_or_size(settings, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        ModelConfig(**settings).validate()


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"threads": 100_000}, "threads must be between 0 and 1,024"),
        ({"seed": -1}, "seed must be between 0 and 4,294,967,295"),
        ({"seed": 2**32}, "seed must be between 0 and 4,294,967,295"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"lr": "0.1"}, "learning rate must be a number"),
        ({"device": 3}, "device must be text"),
    ],
)
def test_training_settings_of_the_wrong_type_or_size(settings, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        TrainConfig(**settings).validate()
