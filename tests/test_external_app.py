"""Models trained elsewhere, in the window: opened from a file, from the dialog, from
Recent files and at start-up; decoded under the cursor; and every misfit reported."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QSlider

from explorer.core.config import Adapters
from explorer.core.external import ExternalModel
from explorer.core.external_files import ExternalSource
from tests import external_models as em
from tests.gui import hover


def _decode(module, z) -> np.ndarray:
    """What the user's own module makes of z: (H, W) in [0, 1]."""
    with torch.inference_mode():
        out = module.decode(torch.as_tensor(z, dtype=torch.float32)[None])
    return out.reshape(28, 28).numpy()


def _open(qtbot, window, opening) -> None:
    """Run `opening()` and wait until the new model's codes are shown."""
    with qtbot.waitSignal(window.session.codesChanged, timeout=20_000):
        opening()


def _fill_dialog(dialog, path, factory="", args="", **adapters) -> None:
    dialog.path_edit.setText(str(path))
    dialog.factory_edit.setText(factory)
    dialog.args_edit.setText(args)
    for name, value in adapters.items():
        dialog.combos[name].setCurrentText(value)


def test_a_dropped_torchscript_model_opens_and_decodes_under_the_cursor(qtbot, window, tmp_path):
    torch.manual_seed(0)
    original = em.PairVAE(latent_dim=3).eval()
    path = em.script(original, tmp_path / "their_vae.pt")
    _open(qtbot, window, lambda: window.open_path(path))
    s = window.session
    assert isinstance(s.model, ExternalModel) and s.latent_dim == 3
    assert len(s.codes) == len(s.dataset) and s.codes.shape[1] == 3
    assert window.findChild(QSlider, "latentSlider2") is not None
    assert "their_vae.pt (TorchScript)" in window.statusBar().model_label.text()
    view = window.latent_view
    for pos in (QPoint(110, 120), QPoint(view.viewport().width() - 80, 70)):
        hover(qtbot, window, pos)
        point = view.plane_point(pos.toPointF())
        assert np.allclose(s.plane.to_plane(s.z), point, atol=1e-6)
        assert np.allclose(window.decoder_view.image, _decode(original, s.z), atol=1e-6)
    # the codes in the plot are the module's own posterior means
    x = torch.as_tensor(s.dataset.images[:4], dtype=torch.float32)[:, None] / 255
    with torch.inference_mode():
        assert np.allclose(s.codes[:4], original.encode(x)[0].numpy(), atol=1e-5)


def test_weights_and_a_factory_from_the_dialog_then_from_recent_files(qtbot, window, tmp_path):
    torch.manual_seed(1)
    original = em.SplitFlatVAE(latent_dim=2).eval()
    weights = tmp_path / "weights.pth"
    torch.save(original.state_dict(), weights)
    dialog = window.opener.ask_open_external()
    _fill_dialog(dialog, weights, "tests.external_models:SplitFlatVAE")
    _open(qtbot, window, lambda: QTest.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton))
    s = window.session
    assert s.model.config.adapters.input == "flat" and s.model.config.adapters.decoder == "logits"
    assert "encoder read as split, decoder as logits" in window.panel.summary.text()
    hover(qtbot, window, QPoint(140, 110))
    want = 1 / (1 + np.exp(-_decode(original, s.z)))  # its decoder gives logits
    assert np.allclose(window.decoder_view.image, want, atol=1e-5)

    # (its codes too: were they still being encoded, their arrival would end the wait below)
    _open(qtbot, window, lambda: window.open_bundled("digits"))
    assert not isinstance(s.model, ExternalModel)
    # Recent files remember the factory: reopening needs no questions
    _open(qtbot, window, lambda: window.open_path(weights))
    assert isinstance(s.model, ExternalModel) and s.model.config.adapters.encoder == "split"
    again = window.opener.ask_open_external()  # the dialog starts from the last one
    assert again.factory_edit.text() == "tests.external_models:SplitFlatVAE"
    again.reject()


def test_models_that_do_not_fit_are_explained_and_nothing_changes(qtbot, window, tmp_path):
    before = window.session.model
    weights = tmp_path / "odd.pt"
    torch.save(em.OddEncoder().state_dict(), weights)
    cases = [
        (ExternalSource(str(weights)), "holds weights without the code"),
        (
            ExternalSource(str(weights), "tests.external_models:OddEncoder"),
            "encode returned a tensor of shape (8, 3); expected (mu, logvar)",
        ),
        (ExternalSource(str(weights), "tests.external_models:nothing"), "has no function"),
        (
            ExternalSource(
                str(em.script(em.PairVAE(), tmp_path / "s.pt")),
                adapters=Adapters(decoder="distribution"),
            ),
            "cannot be read as 'distribution'",
        ),
    ]
    for source, message in cases:
        with qtbot.waitSignal(window.errorShown, timeout=20_000) as shown:
            window.opener.open_external(source)
        assert message in shown.args[0]
        assert window.session.model is before
    dialog = window.opener.ask_open_external()
    _fill_dialog(dialog, weights, "tests.external_models:OddEncoder", "{not json")
    with qtbot.waitSignal(window.errorShown, timeout=20_000) as shown:
        QTest.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert "factory arguments: not valid JSON" in shown.args[0]
    assert window.session.model is before


def test_a_model_from_elsewhere_is_not_saved_as_ours(qtbot, window, tmp_path):
    path = em.script(em.PairVAE(), tmp_path / "vae.pt")
    _open(qtbot, window, lambda: window.open_path(path))
    target = tmp_path / "copy.safetensors"
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.save_checkpoint(target)
    assert "stays in its own file" in shown.args[0] and not target.exists()


def test_start_up_with_a_model_from_elsewhere(qtbot, tmp_path, settings, autosave):
    from explorer.app import build_main_window

    path = em.script(em.PairVAE(latent_dim=4), tmp_path / "vae.pt")
    w = build_main_window(settings=settings, autosave=autosave, external=ExternalSource(str(path)))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    assert isinstance(w.session.model, ExternalModel) and w.session.latent_dim == 4
    assert w.session.dataset.name == "digits"
    w.shutdown()

    # a file that cannot open leaves the window with the bundled model, and says why
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    w = build_main_window(settings=settings, autosave=autosave, external=ExternalSource(str(bad)))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.errorShown, timeout=30_000) as shown:
        pass
    assert "bad.pt: neither a TorchScript module nor a file of weights" in shown.args[0]
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    assert "bundled digits" in w.session.info.source
    w.shutdown()


def test_train_beside_a_model_from_elsewhere_makes_a_model_of_ours(qtbot, window, tmp_path):
    """As the panel says: Train fits a new model of ours, of the latent size shown."""
    from explorer.core.model import VAE
    from tests.gui import train

    path = em.script(em.PairVAE(latent_dim=3), tmp_path / "vae.pt")
    _open(qtbot, window, lambda: window.open_path(path))
    assert window.panel.latent_spin.value() == 3
    assert "Train makes a new model of ours" in window.panel.summary.text()
    done = train(qtbot, window)
    assert done.status == "completed"
    s = window.session
    assert isinstance(s.model, VAE) and s.latent_dim == 3 and s.info.unsaved
    qtbot.waitUntil(lambda: s.codes is not None and s.codes.shape == (len(s.dataset), 3))
    assert window.save_checkpoint(tmp_path / "ours.safetensors")
