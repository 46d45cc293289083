"""The sparse autoencoder and the planar-flow VAE in the window: chosen in the training
panel's combo, their settings typed in, trained with Train, saved and reopened; the
KL / units tab shows which units of the code fire and how often, and the plot draws a
flow's posterior as a cloud of its samples."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.checkpoint import load_checkpoint
from explorer.core.kind_table import KIND_TABLE
from explorer.core.model import images_to_tensor
from explorer.core.posterior import model_samples
from explorer.core.sparsity import firing
from explorer.ui.uncertainty import FOCUS_COLOUR, FOCUS_SAMPLES, SUBSET_SAMPLES
from tests.conftest import settle
from tests.gui import hover, rgba, train
from tests.test_data_point import loneliest_point, pixel_of
from tests.test_objectives_app import choose_kind, pixels_like, shown, type_value


def show_tab(window, view) -> None:
    tabs = window.findChild(QTabWidget, "insightTabs")
    tabs.tabBar().setCurrentIndex(tabs.indexOf(view))


def test_a_sparse_autoencoder_shows_which_units_fire(qtbot, window, tmp_path):
    p = window.panel
    choose_kind(window, "sparseae-kl")
    kind = KIND_TABLE["sparseae-kl"]
    assert p.kind_explain.text() == kind.explain
    assert shown(p.sparsity_spin) and shown(p.rho_spin) and not shown(p.beta_spin)
    assert p.sparsity_spin.value() == 10  # its default
    assert p.rho_spin.toolTip() == dict(kind.tips)["rho"]
    type_value(p.latent_spin, "6")
    type_value(p.sparsity_spin, "5")
    type_value(p.rho_spin, "0.1")
    final = train(qtbot, window)
    assert final.status == "completed" and window.session.model.kind == "sparseae-kl"
    assert (window.session.info.train_config.sparsity, window.session.info.train_config.rho) == (
        5.0,
        0.1,
    )
    qtbot.waitUntil(lambda: window.session.codes is not None)
    show_tab(window, window.kl_view)
    units = window.kl_view.units
    qtbot.waitUntil(lambda: units.isVisible())
    assert not window.kl_view.plot.isVisible()  # no KL bars for a code with no KL
    codes = window.session.codes
    assert codes.shape[1] == 6 and ((codes > 0) & (codes < 1)).all()  # sigmoid units
    np.testing.assert_allclose(units.bars.opts["height"], firing(codes).mean(0))
    per_image = firing(codes).sum(1).mean()
    assert f"fire on {per_image:.1f} of 6 per image" in units.summary.text()
    # each unit's histogram holds all of its images, and is drawn
    np.testing.assert_allclose(units.counts.sum(0), 1.0)
    colours = rgba(units.histogram.grab().toImage())[:, :, :3].reshape(-1, 3)
    assert len(np.unique(colours, axis=0)) > 30  # the colour map's shades, not a blank plot
    # saved and reopened with its λ and ρ
    assert window.saver.save(tmp_path / "sparse.safetensors")
    ckpt = load_checkpoint(tmp_path / "sparse.safetensors")
    assert ckpt.model.kind == "sparseae-kl"
    assert (ckpt.train_config.sparsity, ckpt.train_config.rho) == (5.0, 0.1)


def test_a_flow_posterior_is_drawn_as_a_cloud_of_its_samples(qtbot, window, tmp_path):
    p, s = window.panel, window.session
    assert window.data_point_view.subset_check.text() == "1σ ellipses of"  # a Gaussian's
    choose_kind(window, "flowvae")
    assert shown(p.flow_steps_spin) and shown(p.beta_spin)
    type_value(p.flow_steps_spin, "3")
    final = train(qtbot, window)
    assert final.status == "completed" and s.model.config.flow_steps == 3
    qtbot.waitUntil(lambda: s.codes is not None)
    overlay = window.uncertainty
    settle(window.latent_view)  # the new codes' range, and its axes' final layout
    i = loneliest_point(window)
    pos = pixel_of(window, s.codes[i]) + QPoint(1, -1)
    hover(qtbot, window, pos)
    assert s.focus == i
    # no ellipse: the cloud is the model's own samples of q(z|x) for that image
    assert len(overlay.one_sigma.getData()[0]) == 0
    x, y = overlay.cloud.getData()
    assert len(x) == FOCUS_SAMPLES
    drawn = model_samples(s.model, images_to_tensor(s.dataset.images[i : i + 1]), FOCUS_SAMPLES, i)
    np.testing.assert_allclose(np.stack([x, y], 1), s.plane.to_plane(drawn[0]), atol=1e-5)
    assert pixels_like(window.latent_view, QColor(FOCUS_COLOUR)) > 20
    # clicked, the Data point tab decodes samples of the same q(z|x)
    view = window.data_point_view
    with qtbot.waitSignal(view.job.done, timeout=10_000):
        QTest.mouseClick(window.latent_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    k = view.samples_spin.value()
    np.testing.assert_allclose(view.result.samples, drawn[0, :k], atol=1e-5)
    # the random subset gets clouds too, drawn in one pass, and the tab says so
    assert window.data_point_view.subset_check.text() == "Posterior samples of"
    window.data_point_view.subset_spin.setValue(50)
    window.data_point_view.subset_check.click()
    assert len(overlay.subset_cloud.getData()[0]) == 50 * SUBSET_SAMPLES
    assert overlay.subset.getData()[0] is None  # and no ellipses
    assert window.saver.save(tmp_path / "flow.safetensors")
    assert load_checkpoint(tmp_path / "flow.safetensors").model.config.flow_steps == 3
