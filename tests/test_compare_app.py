"""Compare: a second model decodes the point under the cursor beside the first, and the
table scores both."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.config import KINDS, ModelConfig, TrainConfig
from explorer.core.data import make_digits
from explorer.core.kinds import build_model
from explorer.core.training import train
from tests.gui import hover
from tests.gui import train as press_train


@pytest.fixture(scope="module")
def other_models(tmp_path_factory):
    """Checkpoints for B: an autoencoder (latent 2), a VAE of latent size 3, and a
    model of 16×16 images."""
    folder = tmp_path_factory.mktemp("compare")
    data = make_digits(256, seed=0)
    paths = {}
    for name, config in (
        ("ae", ModelConfig(kind="ae", latent_dim=2, hidden=(48,))),
        ("vae3", ModelConfig(kind="vae", latent_dim=3, hidden=(48,))),
    ):
        model = build_model(config)
        for _ in train(model, data, TrainConfig(epochs=1, batch_size=32)):
            pass
        paths[name] = save_checkpoint(folder / f"{name}.safetensors", Checkpoint(model=model))
    small = build_model(ModelConfig(image_shape=(1, 16, 16), latent_dim=2, hidden=(8,)))
    paths["small"] = save_checkpoint(folder / "small.safetensors", Checkpoint(model=small))
    return paths


def open_b(qtbot, window, path):
    view = window.compare_view
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(view)
    view.open_model(path)
    qtbot.waitUntil(lambda: view.other_path == path and view.picture is not None, timeout=30_000)
    qtbot.waitUntil(lambda: None not in view.reports.values(), timeout=30_000)
    return view


def decoded(model, z) -> np.ndarray:
    with torch.inference_mode():
        return model.decode(torch.as_tensor(z, dtype=torch.float32)[None])[0, 0].numpy()


def cells(view):
    """The left (A) and right (B) images of the picture."""
    return view.picture[:28, :28, 0], view.picture[:28, 30:58, 0]


def test_both_models_decode_the_point_under_the_cursor(qtbot, window, other_models):
    view = open_b(qtbot, window, other_models["ae"])
    b = view.other
    for pos in (QPoint(80, 90), QPoint(260, 200)):
        hover(qtbot, window, pos)
        z = window.session.z.copy()
        qtbot.waitUntil(
            lambda z=z: np.allclose(cells(view)[1], decoded(b, z), atol=1e-6), timeout=5000
        )
        assert np.allclose(cells(view)[0], decoded(window.session.model, z), atol=1e-6)
    table = view.table
    column = {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }
    assert column["kind"] == ("VAE / β-VAE", "Autoencoder")
    assert column["KL"][1] == "—" and column["log p(x) ≥"][1] == "—"  # not defined for an AE
    assert float(column["KL"][0]) > 0 and float(column["log p(x) ≥"][0]) < 0
    assert column["on the data"][0].endswith("%") and column["on the data"][1].endswith("%")


def test_a_model_of_another_latent_size_reads_the_point_as_its_first_two_dims(
    qtbot, window, other_models
):
    view = open_b(qtbot, window, other_models["vae3"])
    hover(qtbot, window, QPoint(200, 120))
    p = window.session.plane.to_plane(window.session.z)
    expected = decoded(view.other, [p[0], p[1], 0.0])
    qtbot.waitUntil(lambda: np.allclose(cells(view)[1], expected, atol=1e-6), timeout=5000)
    assert "reads the point as its z0, z1" in view.title.text()


def test_a_model_of_other_images_is_refused(qtbot, window, other_models):
    view = window.compare_view
    with qtbot.waitSignal(window.errorShown, timeout=30_000) as shown:
        view.open_model(other_models["small"])
    assert "small.safetensors: the model expects images of shape (1, 16, 16)" in shown.args[0]
    assert view.other is None


def test_the_previous_model_is_one_click_away(qtbot, window):
    """Walk the story: the VAE on screen, then train an autoencoder and compare the two."""
    vae = window.session.model
    view = window.compare_view
    assert not view.previous_button.isEnabled()  # the first model: none was shown before
    window.panel.kind_combo.setCurrentIndex(KINDS.index("ae"))
    press_train(qtbot, window)
    assert view.previous_button.isEnabled()
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(view)
    QTest.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    assert view.other is vae and "(previous)" in view.title.text()
    qtbot.waitUntil(lambda: None not in view.reports.values(), timeout=30_000)
    assert (view.reports["A"].kind, view.reports["B"].kind) == ("ae", "vae")
    hover(qtbot, window, QPoint(150, 150))
    z = window.session.z.copy()
    qtbot.waitUntil(lambda: np.allclose(cells(view)[1], decoded(vae, z), atol=1e-6), timeout=5000)
