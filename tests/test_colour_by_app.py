"""Colour by what explains the model, in the real window: the chooser's entries picked by
keyboard as a user does, the points' colours and the colour bar's numbers against a direct
computation, the entries a model without σ cannot have, the density's mean value per
cell, and the points' size and opacity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from explorer.core.model import images_to_tensor
from explorer.ui.colour_bar import format_value
from explorer.ui.colour_by import colour_lut
from explorer.ui.theme import MIN_CONTRAST
from tests.test_latent_density import crowded, grabbed, pixel_at  # noqa: F401 (fixture)
from tests.test_theme import pixels, scheme, text_contrast  # noqa: F401 (fixture)


def choose(qtbot, combo, text: str) -> None:
    """Pick `text` in the combo with the arrow keys, as a user with the keyboard does."""
    combo.setFocus()
    for key in (Qt.Key.Key_Home, *[Qt.Key.Key_Down] * combo.count()):
        if combo.currentText() == text:
            return
        QTest.keyClick(combo, key)
    assert combo.currentText() == text, f"{text} cannot be reached"


def hue_distance(a: QColor, b: QColor) -> float:
    d = abs(a.hsvHue() - b.hsvHue())
    return min(d, 360 - d)


def direct_errors(session) -> np.ndarray:
    """Σ (x - decode(μ))² of every image, computed here in one go."""
    x = images_to_tensor(session.dataset.images).float() / 255
    with torch.inference_mode():
        mean = session.model.decode(torch.from_numpy(session.codes))
    return (x - mean).square().flatten(1).sum(1).numpy()


def lut_colour(dark: bool, t: float) -> QColor:
    lut = colour_lut(dark)
    r, g, b = (round(255 * c) for c in lut[min(int(t * len(lut)), len(lut) - 1)])
    return QColor(r, g, b)


def test_colour_by_reconstruction_error_with_its_scale(window, qtbot):
    s, view = window.session, window.latent_view
    bar = window.plane_bar.colour_bar
    assert not bar.isVisible()  # by label: the legend says what the colours are
    choose(qtbot, window.plane_bar.colour_combo, "colour by reconstruction error")
    qtbot.waitUntil(bar.isVisible, timeout=10_000)
    errors = direct_errors(s)
    assert bar.title.text() == "reconstruction error"
    assert bar.low.text() == format_value(errors.min())
    assert bar.high.text() == format_value(errors.max())
    assert all(name == "" for name, _, _ in view.groups)  # no class legend
    # the worst-reconstructed image is drawn in the map's top colour (yellow), the best
    # in its bottom one (purple), where the user sees them
    shown = grabbed(view)
    for i, t in ((int(np.argmax(errors)), 1.0), (int(np.argmin(errors)), 0.0)):
        p = pixel_at(view, *s.codes[i])
        seen = QColor(*map(int, shown[p.y(), p.x()]))
        assert hue_distance(seen, lut_colour(False, t)) <= 25, (i, seen.name())
    # the bar's strip runs from the bottom colour to the top one
    ramp = pixels(bar.ramp)
    mid = ramp.shape[0] // 2
    assert hue_distance(QColor(*map(int, ramp[mid, 1])), lut_colour(False, 0.0)) <= 15
    assert hue_distance(QColor(*map(int, ramp[mid, -2])), lut_colour(False, 1.0)) <= 15
    choose(qtbot, window.plane_bar.colour_combo, "colour by label")
    qtbot.waitUntil(lambda: not bar.isVisible())
    assert [name for name, _, _ in view.groups][:3] == ["0", "1", "2"]


def test_kl_and_sigma_against_their_definition(window, qtbot):
    s, bar, combo = window.session, window.plane_bar.colour_bar, window.plane_bar.colour_combo
    mu, logvar = s.codes.astype(np.float64), s.logvars.astype(np.float64)
    kl = (0.5 * (mu**2 + np.exp(logvar) - 1 - logvar)).sum(1)
    sigma = np.exp(0.5 * logvar).mean(1)
    for name, values in (("KL", kl), ("posterior σ", sigma)):
        choose(qtbot, combo, f"colour by {name}")
        qtbot.waitUntil(lambda n=name: bar.isVisible() and bar.title.text() == n)
        np.testing.assert_allclose(s.colour_values, values, rtol=1e-4, atol=1e-6)
        assert (bar.low.text(), bar.high.text()) == tuple(
            format_value(v) for v in (values.min(), values.max())
        )


def test_a_model_without_sigma_offers_no_kl_or_sigma(window, qtbot, tmp_path):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

    combo = window.plane_bar.colour_combo
    choose(qtbot, combo, "colour by KL")
    ae = build_model(ModelConfig(kind="ae", latent_dim=2, hidden=(16,)))
    path = tmp_path / "ae.safetensors"
    save_checkpoint(path, Checkpoint(model=ae, dataset=window.session.dataset.describe()))
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        window.open_checkpoint(path)
    assert combo.currentText() == "colour by label"  # an autoencoder has no KL to show
    for name in ("KL", "posterior σ"):
        i = combo.findText(f"colour by {name}")
        assert not combo.model().item(i).isEnabled()
        assert "no posterior σ" in combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    with pytest.raises(AssertionError, match="cannot be reached"):
        choose(qtbot, combo, "colour by KL")
    choose(qtbot, combo, "colour by reconstruction error")  # every kind has one
    qtbot.waitUntil(window.plane_bar.colour_bar.isVisible, timeout=10_000)


def test_the_scale_is_legible_in_light_and_dark(window, qtbot, scheme):  # noqa: F811
    bar = window.plane_bar.colour_bar
    choose(qtbot, window.plane_bar.colour_combo, "colour by posterior σ")
    qtbot.waitUntil(bar.isVisible, timeout=10_000)
    for to in (Qt.ColorScheme.Dark, Qt.ColorScheme.Light):
        scheme(to)
        for label in (bar.title, bar.low, bar.high):
            assert text_contrast(label) >= MIN_CONTRAST, (to, label.objectName())


def test_the_density_shows_the_mean_value_per_cell(crowded, qtbot):  # noqa: F811
    """150k points (drawn as their density): the left cluster's values alternate 0 and 1
    point by point, the right one's are all 1. Mean per cell: the left is the map's
    middle (teal), not its ends, however dense; the right is its top (yellow)."""
    view = crowded
    s = view.session
    n = len(s.codes)
    # (the clusters are the even and odd points: alternate by pairs)
    values = np.where(s.codes[:, 0] < 0, np.arange(n) // 2 % 2, 1.0).astype(np.float32)
    s.set_colour_by("KL")
    s.set_colour_values(values)
    assert view.density.drawn  # (the level of detail: density, not points)
    shown = grabbed(view)
    for x, t in ((-2.0, 0.5), (-2.3, 0.5), (2.0, 1.0), (2.4, 1.0)):
        p = pixel_at(view, x, 0.0)
        seen = QColor(*map(int, shown[p.y(), p.x()]))
        assert hue_distance(seen, lut_colour(False, t)) <= 20, (x, seen.name())


def test_point_size_and_opacity_are_the_users_and_kept(window, qtbot, settings):
    view, button = window.latent_view, window.plane_bar.points
    before = view.points.size_px
    for _ in range(4):
        QTest.keyClick(button.size_spin, Qt.Key.Key_Up)  # 0 (auto) -> 4 px
    QTest.keyClick(button.size_spin, Qt.Key.Key_PageUp)  # +10, to the most: 12 px
    assert view.points.size_px == 12 != before
    QTest.keyClick(button.opacity_slider, Qt.Key.Key_End)  # fully opaque
    assert all(c.alphaF() == 1.0 for c in view._colours)
    codes = window.session.codes
    assert window.session.codes is codes  # drawn again, not encoded again
    settings.sync()
    kept = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    assert (int(kept.value("plot/pointSize")), int(kept.value("plot/pointOpacity"))) == (12, 100)
