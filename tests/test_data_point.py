"""Inspecting a data point on the real window: the encoder's ellipses on the plot follow
the point under the cursor, a click pins it, and the Data point tab shows its image,
reconstruction, posterior samples and code, each checked against the model."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.data import make_digits
from explorer.core.figures import decode_images
from explorer.core.metrics import encode
from explorer.core.model import images_to_tensor
from explorer.core.posterior import posterior_samples
from tests.gui import hover


def pixel_of(window, point: np.ndarray) -> QPoint:
    """Where plane point `point` is on the plot's viewport."""
    view = window.latent_view
    return view.mapFromScene(view.plotItem.vb.mapViewToScene(QPointF(*point)))


def loneliest_point(window) -> int:
    """The data point farthest from its nearest neighbour: a click on it is unambiguous."""
    xy = window.session.codes.astype(float)
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(1)))


def own_posterior(window, i: int) -> tuple[np.ndarray, np.ndarray]:
    """μ and σ of data point i, from the encoder directly."""
    s = window.session
    mu, logvar = encode(s.model, images_to_tensor(s.dataset.images[i : i + 1]))
    return mu[0], np.exp(0.5 * logvar[0])


def test_hovering_near_a_point_draws_its_ellipses(qtbot, window):
    s, overlay = window.session, window.uncertainty
    i = loneliest_point(window)
    pos = pixel_of(window, s.codes[i]) + QPoint(2, -1)
    hover(qtbot, window, pos)
    assert s.focus == i
    mu, sigma = own_posterior(window, i)
    # A 2-D model on the z0/z1 plane: the ellipses are axis-aligned with semi-axes kσ.
    for item, k in ((overlay.one_sigma, 1), (overlay.two_sigma, 2)):
        x, y = item.getData()
        assert np.allclose([x.max() - x.min(), y.max() - y.min()], 2 * k * sigma, rtol=1e-4)
        assert np.allclose([(x.max() + x.min()) / 2, (y.max() + y.min()) / 2], mu, atol=1e-5)
    # The cursor still decodes where it is; the focus stays after leaving the point.
    assert not np.allclose(s.z, mu)
    hover(qtbot, window, QPoint(5, 5))
    assert s.focus == i and len(overlay.one_sigma.getData()[0]) > 0

    # On the swapped plane the same ellipse turns: its x extent is now z1's σ.
    s.set_plane("dims", 1, 0)
    x, _ = overlay.one_sigma.getData()
    assert np.isclose(x.max() - x.min(), 2 * sigma[1], rtol=1e-4)


def test_clicking_a_point_inspects_it(qtbot, window, tmp_path):
    s, view = window.session, window.data_point_view
    i = loneliest_point(window)
    pos = pixel_of(window, s.codes[i]) + QPoint(1, 2)
    hover(qtbot, window, pos)
    with qtbot.waitSignal(view.job.done, timeout=10_000):
        QTest.mouseClick(window.latent_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert s.pinned and np.array_equal(s.z, s.codes[i].astype(float))  # its code, exactly
    assert window.findChild(QTabWidget, "insightTabs").currentWidget() is view
    r = view.result
    mu, sigma = own_posterior(window, i)
    assert r.index == i and np.allclose(r.sigma, sigma, rtol=1e-5)
    h, w = s.dataset.images.shape[1:3]
    assert np.allclose(r.picture[:h, :w, 0], s.dataset.images[i] / 255.0)  # the original
    assert np.allclose(r.reconstruction, decode_images(s.model, mu[None])[0], atol=1e-5)
    k = view.samples_spin.value()
    expected = decode_images(s.model, posterior_samples(mu, 2 * np.log(sigma), k, seed=i))
    assert np.allclose(r.sample_images, expected, atol=1e-5)
    assert np.abs(r.sample_images - r.reconstruction).max() > 1e-3  # the samples vary
    assert f"label {int(s.dataset.labels[i])}" in view.note.text()
    assert view.table.rowCount() == 2
    assert float(view.table.item(1, 1).text()) == round(float(mu[1]), 3)
    assert float(view.table.item(1, 2).text()) == round(float(sigma[1]), 3)
    # The decoder view shows the reconstruction too: the pinned code is μ.
    assert np.allclose(window.decoder_view.image, r.reconstruction[..., 0], atol=1e-5)

    view.samples_spin.setValue(4)
    qtbot.waitUntil(lambda: len(view.result.samples) == 4, timeout=10_000)
    assert window.export("data point", tmp_path / "point.png")
    assert (tmp_path / "point.png").stat().st_size > 0

    # A second click on the same point releases it.
    with qtbot.waitSignal(s.pinnedChanged, timeout=5000):
        QTest.mouseClick(window.latent_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert not s.pinned


def test_ellipses_of_a_random_subset(qtbot, window):
    s, overlay, view = window.session, window.uncertainty, window.data_point_view
    view.subset_spin.setValue(40)
    view.subset_check.setChecked(True)
    pick = overlay.subset_indices()
    assert len(pick) == 40
    x, y = overlay.subset.getData()
    parts = np.split(np.column_stack([x, y]), 40)  # one outline and a NaN break each
    assert all(np.isnan(p[-1]).all() for p in parts)
    sigma = np.exp(0.5 * s.logvars[pick])
    for p, mu, sd in zip(parts, s.codes[pick], sigma, strict=True):
        p = p[:-1]
        assert np.allclose(p.max(0) - p.min(0), 2 * sd, rtol=1e-4)
        assert np.allclose((p.max(0) + p.min(0)) / 2, mu, atol=1e-5)
    view.subset_check.setChecked(False)
    assert len(overlay.subset.getData()[0] or []) == 0


def test_new_data_clears_the_inspection(qtbot, window):
    s, view = window.session, window.data_point_view
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(view)
    with qtbot.waitSignal(view.job.done, timeout=10_000):
        s.set_focus(3)
    s.set_dataset(make_digits(50, seed=5))
    assert s.focus is None and view.result is None and view.table.rowCount() == 0
    assert len(window.uncertainty.one_sigma.getData()[0]) == 0
    assert len(window.uncertainty.ring.getData()[0]) == 0


def test_after_training_the_ellipses_are_the_new_models(qtbot, window):
    from tests.gui import train

    s, overlay = window.session, window.uncertainty
    s.set_focus(loneliest_point(window))
    before = overlay.one_sigma.getData()[0].copy()
    train(qtbot, window, epochs=1)
    qtbot.waitUntil(lambda: s.codes is not None and s.logvars is not None)
    _, sigma = own_posterior(window, s.focus)  # the trained model's encoder
    x, y = overlay.one_sigma.getData()
    assert np.allclose([x.max() - x.min(), y.max() - y.min()], 2 * sigma, rtol=1e-4)
    assert not np.allclose(x, before)
