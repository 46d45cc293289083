"""The disentangling objectives in the window: chosen in the training panel's combo, their
weights set in its spin boxes, trained with Train, their extra loss curve drawn, saved
and reopened; a checkpoint whose metadata lies about its kind is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog
from safetensors import safe_open
from safetensors.torch import save_file

from explorer.core.checkpoint import load_checkpoint
from explorer.core.kind_table import KIND_TABLE
from tests.gui import rgba, train


def choose_kind(w, kind: str) -> None:
    """Pick `kind` in the panel's combo with the keyboard, as a user does."""
    combo = w.panel.kind_combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Home)
    while w.training_settings.model.kind != kind:
        at = combo.currentIndex()
        QTest.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != at, f"{kind} is not offered"


def choose_entry(combo, data: str) -> None:
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Home)
    while combo.currentData() != data:
        at = combo.currentIndex()
        QTest.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != at, f"{data} is not offered"


def type_value(spin, text: str) -> None:
    """Select what the spin box shows and type `text` over it, then Enter."""
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(spin, text)
    QTest.keyClick(spin, Qt.Key.Key_Return)


def shown(widget) -> bool:
    return not widget.isHidden() and widget.isVisibleTo(widget.window())


def pixels_like(plot, colour: QColor) -> int:
    """How many of the plot's pixels are `colour` blended at least half over the
    background, as an antialiased line's pixels are."""
    px = rgba(plot.grab().toImage())[:, :, :3].astype(float)
    values, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    background = values[counts.argmax()]
    line = np.array(colour.getRgb()[:3], dtype=float) - background
    share = ((px - background) @ line) / (line @ line)  # how far towards the colour
    off_line = np.linalg.norm(px - background - share[..., None] * line, axis=2)
    return int(((share > 0.5) & (off_line < 12)).sum())


def legend_names(plot) -> list[str]:
    return [label.text for _, label in plot.legend.items]


def test_beta_tcvae_is_chosen_set_trained_and_reopened_from_the_panel(qtbot, window, tmp_path):
    p, plot = window.panel, window.panel.loss_plot
    choose_kind(window, "betatcvae")
    kind = KIND_TABLE["betatcvae"]
    assert p.kind_explain.text() == kind.explain and "total correlation" in p.kind_explain.text()
    for spin in (p.alpha_spin, p.beta_spin, p.gamma_spin):
        assert shown(spin)
    assert (p.alpha_spin.value(), p.beta_spin.value(), p.gamma_spin.value()) == (1, 6, 1)
    assert p.beta_spin.toolTip() == dict(kind.tips)["beta"]  # β weighs TC here
    assert "mutual information" in p.alpha_spin.toolTip()
    type_value(p.beta_spin, "4")
    type_value(p.gamma_spin, "2")
    assert (window.training_settings.train.beta, window.training_settings.train.gamma) == (4, 2)
    tc_colour = plot.curves["tc"].opts["pen"].color()
    before = pixels_like(plot, tc_colour)
    final = train(qtbot, window)
    assert final.status == "completed" and window.session.model.kind == "betatcvae"
    assert "total correlation" in legend_names(plot)
    x, y = plot.curves["tc"].getData()
    assert len(x) == 8 and np.isfinite(y).all()
    # drawn in the TC colour: its legend entry's line, and the curve where no other covers it
    assert pixels_like(plot, tc_colour) > before + 10
    # the summary leads; the background autosave may already have added where a copy is kept
    assert window.statusBar().currentMessage().startswith("Trained 1 epoch (8 steps).")
    tc = window.session.info.train_config
    assert (tc.alpha, tc.beta, tc.gamma) == (1, 4, 2)

    # saved, another kind chosen, and reopened: the kind and its weights come back
    assert window.saver.save(tmp_path / "tcvae.safetensors")
    choose_kind(window, "vae")
    assert p.beta_spin.value() == 1  # the VAE's β, not the β-TCVAE's
    assert window.open_checkpoint(tmp_path / "tcvae.safetensors")
    assert window.session.model.kind == "betatcvae" and p.kind_combo.currentData() == "betatcvae"
    assert (p.beta_spin.value(), p.gamma_spin.value()) == (4, 2)


def test_factorvae_trains_its_discriminator_and_reopens_with_it(qtbot, window, tmp_path):
    p, plot = window.panel, window.panel.loss_plot
    choose_kind(window, "factorvae")
    assert shown(p.gamma_spin) and not shown(p.beta_spin) and not shown(p.alpha_spin)
    assert p.gamma_spin.value() == 10 and "discriminator" in p.gamma_spin.toolTip()
    type_value(p.gamma_spin, "20")
    final = train(qtbot, window)
    assert final.status == "completed" and np.isfinite(final.tc)
    assert "total correlation" in legend_names(plot)
    path = tmp_path / "factor.safetensors"
    assert window.saver.save(path)
    reopened = load_checkpoint(path)
    assert reopened.model.kind == "factorvae" and reopened.train_config.gamma == 20
    ours = window.session.model.discriminator.state_dict()
    for key, value in reopened.model.discriminator.state_dict().items():
        assert torch.equal(value, ours[key])


def test_annealedvae_shows_the_capacity_it_holds_the_kl_at(qtbot, window):
    p, plot = window.panel, window.panel.loss_plot
    choose_kind(window, "annealedvae")
    assert shown(p.c_max_spin) and shown(p.gamma_spin) and not shown(p.schedule_combo)
    assert (p.gamma_spin.value(), p.c_max_spin.value()) == (1000, 25)
    assert p.capacity_spin.text() == "the whole run"  # 0 epochs: what it means, not "0.0"
    type_value(p.capacity_spin, "2")
    assert p.capacity_spin.text() == "2.0 epochs"
    assert window.training_settings.train.capacity_epochs == 2
    type_value(p.capacity_spin, "0")
    assert p.capacity_spin.text() == "the whole run"
    type_value(p.c_max_spin, "8")
    train(qtbot, window)
    assert "capacity C" in legend_names(plot) and "total correlation" not in legend_names(plot)
    _, c = plot.curves["capacity"].getData()
    drawn = 10**c if plot.log_scale else c
    np.testing.assert_allclose(drawn[1:], 8 * np.arange(1, 8) / 8, rtol=1e-6)  # C's ramp


def test_the_schedule_chosen_shows_its_own_settings(qtbot, window):
    p = window.panel
    choose_kind(window, "vae")
    assert shown(p.schedule_combo) and shown(p.warmup_spin) and not shown(p.cycles_spin)
    choose_entry(p.schedule_combo, "cyclical")
    assert shown(p.cycles_spin) and shown(p.cycle_ramp_spin) and not shown(p.warmup_spin)
    type_value(p.cycles_spin, "3")
    assert window.training_settings.train.cycles == 3
    choose_entry(p.schedule_combo, "capacity")
    assert shown(p.c_max_spin) and not shown(p.cycles_spin)
    choose_kind(window, "iwae")  # no β, no schedule
    assert not shown(p.schedule_combo) and not shown(p.c_max_spin)


def lie_about_kind(source, target, kind: str) -> None:
    with safe_open(str(source), framework="pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
        meta = json.loads(f.metadata()["latent_explorer"])
    meta["model"]["kind"] = kind
    save_file(state, str(target), metadata={"latent_explorer": json.dumps(meta)})


@pytest.mark.parametrize(
    ("trained", "claimed", "problem"),
    [
        ("factorvae", "vae", "unexpected discriminator."),
        ("vae", "factorvae", "missing discriminator."),
    ],
)
def test_a_checkpoint_lying_about_its_kind_is_refused(
    qtbot, window, tmp_path, monkeypatch, trained, claimed, problem
):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.kinds import ModelSettings, build_model, model_config

    config = model_config(ModelSettings(trained, 2, hidden=(16,)), window.session.dataset)
    honest, lying = tmp_path / "honest.safetensors", tmp_path / "lying.safetensors"
    save_checkpoint(honest, Checkpoint(model=build_model(config)))
    lie_about_kind(honest, lying, claimed)
    model = window.session.model
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(lying), ""))
    with qtbot.waitSignal(window.errorShown) as error:
        window.opener.ask_open("checkpoint")  # File ▸ Open checkpoint…
    message = error.args[0]
    assert message.startswith(str(lying)) and problem in message and "\n" not in message
    assert window.session.model is model
