"""A β sweep in the app: open its folder, and the β slider switches between its models."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.config import ModelConfig, TrainConfig
from explorer.core.data import make_digits
from explorer.core.kinds import build_model
from explorer.core.metrics import encode
from explorer.core.model import images_to_tensor
from explorer.core.sweep import SweepModel, write_sweep


def save_model(path, beta: float, seed: int) -> None:
    data = make_digits(256, seed=0)
    model = build_model(ModelConfig(latent_dim=2, hidden=(16,)), seed=seed)
    cfg = TrainConfig(beta=beta)
    save_checkpoint(path, Checkpoint(model=model, train_config=cfg, dataset=data.describe()))


# the disentanglement metrics of the sweep's β = 4 model (the others have none)
SCORES = dict(mig=0.3, dci_disentanglement=0.2, sap=0.1, factor_vae_score=0.7)


@pytest.fixture
def sweep_folder(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    models = []
    for seed, beta in enumerate((0.5, 1.0, 4.0)):
        name = f"beta-{beta:g}.safetensors"
        save_model(folder / name, beta, seed)
        scores = SCORES if beta == 4.0 else {"mig": None}
        models.append(
            SweepModel(
                "beta",
                beta,
                name,
                -100.0 - beta,
                90.0,
                10.0 + beta,
                2,
                status="completed",
                **scores,
            )
        )
    write_sweep(folder, make_digits(256, seed=0).describe(), models)
    return folder


def codes_of(window, path) -> np.ndarray:
    model = load_checkpoint(path).model
    return encode(model, images_to_tensor(window.session.dataset.images))[0]


def same_weights(window, path) -> bool:
    theirs = load_checkpoint(path).model.state_dict()
    ours = window.session.model.state_dict()
    return all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_the_beta_slider_switches_models(qtbot, window, sweep_folder):
    bar, s = window.sweep_bar, window.session
    assert not bar.isVisible()
    with qtbot.waitSignal(s.codesChanged, timeout=10_000):
        assert window.open_sweep(sweep_folder)
    assert bar.isVisible() and bar.slider.value() == 1  # β = 1 first
    assert same_weights(window, sweep_folder / "beta-1.safetensors")
    assert "β = 1 · ELBO -101.0" in bar.label.text()
    first_codes = s.codes.copy()

    bar.slider.setFocus()
    with qtbot.waitSignal(s.codesChanged, timeout=10_000):
        QTest.keyClick(bar.slider, Qt.Key.Key_Right)
    assert bar.slider.value() == 2 and "β = 4" in bar.label.text()
    assert "active · MIG 0.30 · DCI 0.20 · SAP 0.10 · FactorVAE 0.70" in bar.label.text()
    assert same_weights(window, sweep_folder / "beta-4.safetensors")
    assert np.allclose(s.codes, codes_of(window, sweep_folder / "beta-4.safetensors"), atol=1e-5)

    # Going back shows the codes at once: they were kept, not encoded again.
    QTest.keyClick(bar.slider, Qt.Key.Key_Left)
    assert s.codes is not None and np.array_equal(s.codes, first_codes)
    assert same_weights(window, sweep_folder / "beta-1.safetensors")

    # Another model closes the sweep's bar.
    window.open_bundled("digits")
    assert not bar.isVisible()


def test_a_rewritten_checkpoint_is_encoded_again(qtbot, window, sweep_folder):
    s = window.session
    path = sweep_folder / "beta-1.safetensors"
    with qtbot.waitSignal(s.codesChanged, timeout=10_000):
        window.open_sweep(sweep_folder)
    window.open_checkpoint(sweep_folder / "beta-4.safetensors")
    save_model(path, 1.0, seed=99)  # same name, another model
    with qtbot.waitSignal(s.codesChanged, timeout=10_000):
        window.open_checkpoint(path)
    qtbot.waitUntil(lambda: s.codes is not None)
    assert np.allclose(s.codes, codes_of(window, path), atol=1e-5)


def test_a_dropped_sweep_folder_opens_as_a_sweep(qtbot, window, sweep_folder):
    window.open_path(sweep_folder)
    assert window.sweep_bar.isVisible() and window.sweep_bar.folder == sweep_folder


def test_a_broken_sweep_folder_is_named(qtbot, window, sweep_folder):
    (sweep_folder / "beta-4.safetensors").unlink()
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.open_sweep(sweep_folder)
    assert "beta-4.safetensors: listed in sweep.json but missing" in shown.args[0]
    assert not window.sweep_bar.isVisible()


def test_a_sweep_of_another_weight_is_named_by_it(qtbot, window, tmp_path):
    """A γ sweep (`sweep --weight gamma`) opens like a β sweep; its bar says γ."""
    folder = tmp_path / "gamma"
    folder.mkdir()
    models = []
    for seed, gamma in enumerate((5.0, 20.0)):
        name = f"gamma-{gamma:g}.safetensors"
        save_model(folder / name, 1.0, seed)
        models.append(SweepModel("gamma", gamma, name, -100.0, 90.0, 10.0, 2, None, "completed"))
    write_sweep(folder, make_digits(256, seed=0).describe(), models)
    with qtbot.waitSignal(window.session.codesChanged, timeout=10_000):
        assert window.open_sweep(folder)
    bar = window.sweep_bar
    assert bar.isVisible() and bar.title.text() == "γ sweep:"
    assert bar.label.text().startswith("γ = 5 · ELBO")
    bar.slider.setFocus()
    with qtbot.waitSignal(window.session.codesChanged, timeout=10_000):
        QTest.keyClick(bar.slider, Qt.Key.Key_Right)
    assert bar.label.text().startswith("γ = 20 · ELBO")
    assert same_weights(window, folder / "gamma-20.safetensors")


def test_a_sweep_folder_named_on_the_command_line_opens_as_a_sweep(qtbot, sweep_folder):
    """`python -m explorer SWEEP_FOLDER`: it said the folder was 'neither a TorchScript
    module nor a file of weights'. The app's own entry point, in this process."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from explorer import app

    seen: dict[str, object] = {}

    def look_then_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"]
        if windows and windows[0].isVisible() and windows[0].session.codes is not None:
            w = windows[0]
            seen.update(folder=w.sweep_bar.folder, shown=w.sweep_bar.isVisible())
            seen["model"] = w.session.info.path
            timer.stop()
            w.close()

    timer = QTimer(interval=50, timeout=look_then_close)
    timer.start()
    answer = QMessageBox.StandardButton.Discard
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(QMessageBox, "question", lambda *a, **k: answer)
        mp.setattr(sys, "excepthook", sys.excepthook)  # main() sets its own: put back
        assert app.main([str(sweep_folder)]) == 0
    assert seen["shown"] and seen["folder"] == sweep_folder
    assert seen["model"].parent == sweep_folder  # one of the sweep's models on screen
