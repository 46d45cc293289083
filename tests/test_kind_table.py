"""The table of model kinds (core/kind_table.py) as both front ends read it: the CLI and
the training panel offer the same kinds, described alike; the panel shows the settings
each kind uses; the β in effect per kind, as training uses it; one model config for
the CLI's and the window's settings."""

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from explorer.cli import main
from explorer.core.config import TrainConfig
from explorer.core.data import Dataset
from explorer.core.errors import ConfigError
from explorer.core.kind_table import KIND_TABLE, beta_in_effect
from explorer.core.kinds import ModelSettings, build_model, model_config
from explorer.core.training import train


def cli_help(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "10000")  # argparse wraps at the terminal's width
    with pytest.raises(SystemExit) as done:
        main(["train", "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def cli_kinds(help_text: str) -> list[str]:
    """The kinds `train --kind` accepts, as its help lists them."""
    return re.search(r"--kind \{([\w,-]+)\}", help_text).group(1).split(",")


def combo_entries(w) -> list[tuple[str, str, str]]:
    """Every entry of the panel's kind combo, chosen with the keyboard as a user does:
    (the kind the window then trains, the entry's text, its tooltip)."""
    combo = w.panel.kind_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Home)
    entries = []
    while True:
        i = combo.currentIndex()
        entries.append(
            (
                w.training_settings.model.kind,
                combo.currentText(),
                combo.itemData(i, Qt.ItemDataRole.ToolTipRole),
            )
        )
        QTest.keyClick(combo, Qt.Key.Key_Down)
        if combo.currentIndex() == i:  # the last entry
            return entries


def test_the_cli_and_the_panel_offer_the_same_kinds_described_alike(
    qtbot, window, capsys, monkeypatch
):
    help_text = cli_help(capsys, monkeypatch)
    entries = combo_entries(window)
    assert [kind for kind, _, _ in entries] == cli_kinds(help_text)
    assert len(entries) >= 5
    for kind, text, tip in entries:
        about = KIND_TABLE[kind].about
        assert tip == f"{text}: {about}"
        assert f"{kind}: {about}" in help_text


def test_the_panel_shows_the_settings_each_kind_uses(qtbot, window):
    p = window.panel
    combo = p.kind_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Home)
    seen = set()
    for _ in range(combo.count()):
        kind = KIND_TABLE[window.training_settings.model.kind]
        seen.add(kind.name)
        assert p.beta_spin.isVisible() == p.warmup_spin.isVisible() == kind.uses_beta
        assert p.samples_spin.isVisible() == kind.importance_weighted
        assert p.labelled_spin.isVisible() == kind.semi_supervised
        assert p.alpha_spin.isVisible() == ("alpha" in kind.weights)
        assert p.gamma_spin.isVisible() == ("gamma" in kind.weights)
        assert p.c_max_spin.isVisible() == kind.capacity  # the schedule is the warm-up
        assert p.kind_explain.text() in (kind.explain, f"{kind.title}: {kind.about}")
        assert p.epochs_spin.isVisible() == p.lr_spin.isVisible() == kind.trained
        assert p.arch_combo.isEnabled() == kind.trained
        QTest.keyClick(combo, Qt.Key.Key_Down)
    assert seen == set(KIND_TABLE)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("pca", 0.0),
        ("ae", 0.0),
        ("vae", 4.0),
        ("cvae", 4.0),
        ("iwae", 1.0),
        ("betatcvae", 4.0),
        ("factorvae", 1.0),
        ("annealedvae", 1.0),
    ],
)
def test_the_beta_in_effect_per_kind(kind, expected):
    assert beta_in_effect(kind, 4.0) == expected
    assert KIND_TABLE[kind].uses_beta == (expected == 4.0)


@pytest.mark.parametrize("kind", [k for k in KIND_TABLE if KIND_TABLE[k].trained])
def test_training_weights_the_kl_term_by_the_beta_in_effect(kind, blobs):
    config = model_config(ModelSettings(kind, latent_dim=2, hidden=(16,)), blobs)
    steps = [
        r.beta
        for r in train(build_model(config), blobs, TrainConfig(beta=4.0, epochs=2, batch_size=32))
        if r.kind == "step"
    ]
    assert steps == [beta_in_effect(kind, 4.0)] * 4
    ramped = TrainConfig(beta=4.0, epochs=2, batch_size=32, warmup_epochs=1.0)
    steps = [r.beta for r in train(build_model(config), blobs, ramped) if r.kind == "step"]
    # warm-up over the first epoch's two steps: 0, 2, then the full 4
    assert steps == [beta_in_effect(kind, b) for b in (0.0, 2.0, 4.0, 4.0)]


def test_one_model_config_for_the_cli_and_the_window(blobs):
    for kind in KIND_TABLE:
        config = model_config(ModelSettings(kind, latent_dim=2), blobs)
        assert config.classes == (2 if KIND_TABLE[kind].needs_labels else 0)
        assert config.hidden == (400,) and config.image_shape == (1, 8, 8)
    assert model_config(ModelSettings(architecture="conv"), blobs).hidden == (256,)
    unlabelled = Dataset(images=blobs.images, name="unlabelled")
    with pytest.raises(ConfigError, match=r"^unlabelled: a conditional VAE \(--kind cvae\) needs"):
        model_config(ModelSettings("cvae"), unlabelled, option="--kind")
    with pytest.raises(ConfigError, match="latent size must be"):
        model_config(ModelSettings(latent_dim=0), blobs)
