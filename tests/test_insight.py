"""The views that explain the model, on the real window: manifold map, KL bars,
traversals and exports. Each is checked against the decodes / metrics it must show."""

from __future__ import annotations

import copy

import numpy as np
import torch
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.config import ModelConfig
from explorer.core.figures import (
    decode_images,
    interpolation_codes,
    prior_quantiles,
    traversal_codes,
)
from explorer.core.kinds import build_model
from explorer.core.metrics import active_units, encode, kl_per_dim
from explorer.core.model import images_to_tensor
from explorer.ui.palette import INACTIVE_COLOUR
from explorer.ui.training_panel import kl_line
from tests.gui import hover
from tests.test_app import drag_slider


def show_tab(window, index: int) -> None:
    window.findChild(QTabWidget, "insightTabs").setCurrentIndex(index)


def manifold_on(qtbot, window, n: int, prior: bool = False):
    m = window.plane_bar.manifold
    m.size_spin.setValue(n)
    m.spacing_combo.setCurrentIndex(1 if prior else 0)
    with qtbot.waitSignal(m.shown, timeout=10_000):
        m.check.setChecked(True)
    return m


def test_manifold_tiles_are_the_decodes_of_the_grid(qtbot, window):
    m = manifold_on(qtbot, window, 5)
    s = window.session
    (x0, x1), (y0, y1) = window.latent_view.plotItem.vb.viewRange()
    assert len(m.tiles) == 25
    for r in range(5):
        for c in range(5):
            item = m.tiles[r * 5 + c]
            rect = item.mapRectToParent(item.boundingRect())
            centre = np.array([rect.center().x(), rect.center().y()])
            assert x0 - 1e-9 <= centre[0] <= x1 + 1e-9 and y0 - 1e-9 <= centre[1] <= y1 + 1e-9
            expected = decode_images(s.model, s.plane.to_latent(centre, s.z)[None])[0, ..., 0]
            assert np.allclose(item.image, expected[::-1], atol=1e-5)  # drawn y-up
    # top row above bottom row, in the plot's y
    top, bottom = m.tiles[0], m.tiles[20]
    assert top.mapRectToParent(top.boundingRect()).center().y() > (
        bottom.mapRectToParent(bottom.boundingRect()).center().y()
    )
    m.check.setChecked(False)
    assert not any(t.isVisible() for t in m.tiles)


def test_manifold_at_the_prior_quantiles(qtbot, window):
    """The tiny model is 2-D: tiles sit at Φ⁻¹((i + ½)/n) on both axes."""
    m = manifold_on(qtbot, window, 7, prior=True)
    q = prior_quantiles(7)
    assert np.allclose(m.result.cells.xs, q) and np.allclose(m.result.cells.ys, q)
    item = m.tiles[6]  # top right: the largest x and y
    rect = item.mapRectToParent(item.boundingRect())
    x_edges = m.result.cells.x_edges
    assert np.isclose(rect.left(), x_edges[6]) and np.isclose(rect.right(), x_edges[7])
    expected = decode_images(window.session.model, np.array([[q[6], q[6]]]))[0, ..., 0]
    assert np.allclose(item.image, expected[::-1], atol=1e-5)


def test_manifold_follows_pan_and_new_weights(qtbot, window):
    m = manifold_on(qtbot, window, 4)
    first = m.result
    with qtbot.waitSignal(m.shown, timeout=10_000):
        window.latent_view.plotItem.vb.translateBy(x=0.5)
    assert not np.allclose(m.result.cells.xs, first.cells.xs)
    s = window.session
    state = {k: v + 0.05 for k, v in s.model.state_dict().items()}
    with qtbot.waitSignal(m.shown, timeout=10_000):
        s.load_weights(state)
    item = m.tiles[0]
    centre = item.mapRectToParent(item.boundingRect()).center()
    z = s.plane.to_latent(np.array([centre.x(), centre.y()]), s.z)
    assert np.allclose(item.image, decode_images(s.model, z[None])[0, ::-1, :, 0], atol=1e-5)


def test_kl_bars_equal_the_metric(qtbot, window, tmp_path):
    """A checkpoint from elsewhere has no KL in its metadata: it is measured on the data."""
    model = build_model(ModelConfig(latent_dim=4, hidden=(16,)), seed=3)
    path = tmp_path / "no-kl.safetensors"
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    show_tab(window, 1)
    with qtbot.waitSignal(window.session.codesChanged, timeout=10_000):
        assert window.open_checkpoint(path)
    s = window.session
    mu, logvar = encode(s.model, images_to_tensor(s.dataset.images))
    heights = window.kl_view.bars.opts["height"]
    assert np.allclose(heights, kl_per_dim(mu, logvar), atol=1e-5)
    active = active_units(s.codes)
    assert f"active units {int(active.sum())} of 4" in window.kl_view.summary.text()
    for i in range(4):  # sliders of inactive dimensions are greyed
        grey = INACTIVE_COLOUR in window.sliders.names[i].styleSheet()
        assert grey == (not active[i])


def test_a_collapsed_model_is_called_collapsed(qtbot, window, tmp_path):
    """An encoder that outputs the prior for every image: KL 0, nothing active."""
    model = build_model(ModelConfig(latent_dim=3, hidden=(16,)))
    last = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    path = tmp_path / "collapsed.safetensors"
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    show_tab(window, 1)
    with qtbot.waitSignal(window.session.codesChanged, timeout=10_000):
        window.open_checkpoint(path)
    assert window.kl_view.warning.isVisible()
    assert "Posterior collapse" in window.kl_view.warning.text()
    assert "active units 0 of 3" in window.kl_view.summary.text()
    assert all(INACTIVE_COLOUR in n.styleSheet() for n in window.sliders.names)


def test_sliders_sorted_by_kl(qtbot, window):
    s = window.session
    s.update_info(kl_per_dim=[0.5, 2.0])
    window.sliders.sort_check.setChecked(True)
    grid = window.sliders.grid
    assert grid.itemAtPosition(0, 1).widget() is window.sliders.sliders[1]
    assert grid.itemAtPosition(1, 1).widget() is window.sliders.sliders[0]
    window.sliders.sort_check.setChecked(False)
    assert grid.itemAtPosition(0, 1).widget() is window.sliders.sliders[0]


def wait_traversal(qtbot, view, z) -> None:
    """Until the grid shown is the one for code z with the view's current settings."""

    def current() -> bool:
        r = view.result
        return (
            r is not None
            and np.allclose(r.z, z)
            and np.array_equal(r.values, view.values())
            and r.dims == view.rows()
        )

    qtbot.waitUntil(current, timeout=10_000)


def test_traversal_frames_are_the_decodes_of_the_swept_codes(qtbot, window, tmp_path):
    view = window.traversal_view
    show_tab(window, 0)
    view.rows_combo.setCurrentIndex(1)  # all dimensions
    view.steps_spin.setValue(5)
    s = window.session
    wait_traversal(qtbot, view, s.z)
    values = np.linspace(-3, 3, 5)
    expected = decode_images(s.model, traversal_codes(s.z, [0, 1], values))
    assert view.result.dims == [0, 1]
    assert np.allclose(view.result.frames, expected, atol=1e-6)

    # It follows the code: drag a slider and the grid is recomputed around the new z.
    drag_slider(window.sliders.sliders[1], 0.8)
    wait_traversal(qtbot, view, s.z)
    expected = decode_images(s.model, traversal_codes(s.z, [0, 1], values))
    assert np.allclose(view.result.frames, expected, atol=1e-6)

    path = tmp_path / "trav.png"
    assert window.export("traversals", path)
    h, w = view.result.picture.shape[:2]
    width, height = Image.open(path).size
    assert width > 4 * w and height > 4 * h  # the grid and its labels (test_export_labels)


def test_hidden_traversals_cost_nothing_until_shown(qtbot, window, monkeypatch):
    view = window.traversal_view
    show_tab(window, 1)
    submitted = []
    real_submit = view.job.submit
    monkeypatch.setattr(view.job, "submit", lambda *a: (submitted.append(a), real_submit(*a)))
    window.session.set_z(np.array([1.0, -1.0]))
    drag_slider(window.sliders.sliders[0], 0.3)
    assert submitted == []  # hidden: nothing decoded
    show_tab(window, 0)
    assert len(submitted) == 1  # shown: one job for the code as it is now
    wait_traversal(qtbot, view, window.session.z)


def test_a_training_epoch_decodes_the_traversal_grid_once(qtbot, window, monkeypatch):
    """An epoch brings new weights (the code's rest timer starts) and then new codes (which
    choose the rows): one grid is decoded for both, the new model's."""
    view, s = window.traversal_view, window.session
    show_tab(window, 0)
    wait_traversal(qtbot, view, s.z)
    submitted = []
    real_submit = view.job.submit
    monkeypatch.setattr(view.job, "submit", lambda *a: (submitted.append(a), real_submit(*a)))

    state = {k: v + 0.05 * torch.randn_like(v) for k, v in s.model.state_dict().items()}
    # the new codes are encoded before the weights arrive, so the two reach the session
    # back to back as the controller sends them, however slowly the machine encodes
    trained = copy.deepcopy(s.model)
    trained.load_state_dict(state)
    mu, logvar = encode(trained, images_to_tensor(s.dataset.images))
    s.load_weights(state)  # what the training controller does with an epoch's snapshot
    s.set_codes(mu, logvar)
    qtbot.waitUntil(lambda: not view._rest.isActive())
    assert len(submitted) == 1
    wait_traversal(qtbot, view, s.z)
    values = view.values()
    expected = decode_images(s.model, traversal_codes(s.z, view.rows(), values))
    assert np.allclose(view.result.frames, expected, atol=1e-6)


def test_export_codes_reload_to_the_encoder_output(qtbot, window, tmp_path):
    s = window.session
    mu, logvar = encode(s.model, images_to_tensor(s.dataset.images))
    for name in ("codes.csv", "codes.npy"):
        task = window.exporter.export_codes(tmp_path / name)
        with qtbot.waitSignal(task.finished, timeout=30_000):
            pass
    table = np.load(tmp_path / "codes.npy")
    assert np.array_equal(table["mu"], mu) and np.array_equal(table["logvar"], logvar)
    assert np.array_equal(table["label"], s.dataset.labels)
    rows = np.loadtxt(tmp_path / "codes.csv", delimiter=",", skiprows=1)
    assert np.array_equal(rows[:, 2:4].astype(np.float32), mu)


def test_exports_of_every_view(qtbot, window, tmp_path):
    show_tab(window, 1)
    for what in ("image", "plot", "kl"):
        assert window.export(what, tmp_path / f"{what}.png")
        assert Image.open(tmp_path / f"{what}.png").size[0] > 100
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.export("kl", tmp_path / "no" / "such" / "folder.png")
    assert "folder.png" in shown.args[0]


def shift_click(qtbot, window, pos: QPoint) -> np.ndarray:
    with qtbot.waitSignal(window.latent_view.codePicked, timeout=5000) as picked:
        QTest.mouseClick(
            window.latent_view.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.ShiftModifier,
            pos,
        )
    return picked.args[0]


def test_the_interpolation_strip_follows_new_weights_not_the_cursor(qtbot, window, monkeypatch):
    """The strip decodes A to B, not the code under the cursor: a mouse move asks nothing
    of it, an epoch's new weights redraw it."""
    view, s = window.interpolation_view, window.session
    a = shift_click(qtbot, window, QPoint(60, 80))
    b = shift_click(qtbot, window, QPoint(150, 120))
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)
    submitted = []
    real_submit = view.job.submit
    monkeypatch.setattr(view.job, "submit", lambda *a: (submitted.append(a), real_submit(*a)))
    hover(qtbot, window, QPoint(100, 100))
    hover(qtbot, window, QPoint(120, 90))
    assert not submitted
    s.load_weights({k: v + 0.05 for k, v in s.model.state_dict().items()})
    assert len(submitted) == 1
    expected = decode_images(s.model, interpolation_codes(a, b, view.steps_spin.value()))
    qtbot.waitUntil(lambda: np.allclose(view.result.frames, expected, atol=1e-6), timeout=10_000)


def test_interpolation_between_two_shift_clicked_points(qtbot, window, tmp_path):
    view = window.interpolation_view
    s = window.session
    # Far from any data point the click's own code is taken ...
    s.set_codes(s.codes + 100.0, s.logvars)
    a = shift_click(qtbot, window, QPoint(60, 80))
    assert np.allclose(a, window.latent_view.plane_point(QPointF(60, 80)))
    # ... near one, that image's code.
    s.set_codes(s.codes - 100.0, s.logvars)
    window.latent_view.autoRange(padding=0.05)
    target = s.codes[5]
    vb = window.latent_view.plotItem.vb
    scene = vb.mapViewToScene(QPointF(*target))
    b = shift_click(qtbot, window, window.latent_view.mapFromScene(scene) + QPoint(2, 1))
    assert np.allclose(b, target)
    assert window.findChild(QTabWidget, "insightTabs").currentWidget() is view

    view.steps_spin.setValue(6)
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.codes) == 6)
    expected = decode_images(s.model, interpolation_codes(a, b, 6))
    assert np.allclose(view.result.frames, expected, atol=1e-6)
    line = window.latent_view.path.getData()
    assert np.allclose(np.column_stack(line), s.plane.to_plane(view.result.codes))

    view.spherical_check.setChecked(True)
    slerp = interpolation_codes(a, b, 6, spherical=True)
    qtbot.waitUntil(lambda: np.allclose(view.result.codes, slerp), timeout=10_000)
    assert np.allclose(view.result.frames, decode_images(s.model, slerp), atol=1e-6)

    # Hovering frame 3 of the strip makes its code the current one: the marker moves.
    strip = view.canvas
    w = view.result.frames.shape[2]
    centre = strip.view.mapViewToScene(QPointF(3 * (w + 1) + w / 2, w / 2))
    QTest.mouseMove(strip.viewport(), strip.mapFromScene(centre))
    qtbot.waitUntil(lambda: np.allclose(s.z, slerp[3]), timeout=5000)
    mx, my = window.latent_view.marker.getData()
    assert np.allclose([mx[0], my[0]], s.plane.to_plane(slerp[3]))

    assert window.export("interpolation", tmp_path / "i.png")
    h, pw = view.result.picture.shape[:2]
    width, height = Image.open(tmp_path / "i.png").size
    assert width >= 4 * pw and height > 4 * h + 30  # a title, and A, t, …, B above the frames

    # A third pick starts a new pair; the path on the plot goes until B is picked again.
    shift_click(qtbot, window, QPoint(100, 100))
    assert len(view.ends) == 1 and window.latent_view.path.getData()[0] is None


def test_a_64_dimensional_model_traverses_its_12_most_informative_dimensions(
    qtbot, window, tmp_path
):
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

    path = tmp_path / "z64.safetensors"
    model = build_model(ModelConfig(latent_dim=64, hidden=(32,)), seed=3)
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    with qtbot.waitSignal(window.session.codesChanged, timeout=20_000):
        assert window.open_checkpoint(path)
    s, view = window.session, window.traversal_view
    assert len(window.sliders.sliders) == 64
    show_tab(window, 0)
    qtbot.waitUntil(lambda: view.result is not None and len(view.result.dims) == 12)
    kl = np.asarray(s.info.kl_per_dim)
    assert len(kl) == 64 and sorted(view.result.dims) == sorted(np.argsort(-kl)[:12].tolist())
    assert "the 12 of 64 with the most KL" in view.note.text()
    view.rows_combo.setCurrentIndex(1)  # all dimensions: asked for, so all 64
    qtbot.waitUntil(lambda: len(view.result.dims) == 64, timeout=20_000)


def test_a_64_dimensional_model_leaves_the_training_settings_their_room(qtbot, window, tmp_path):
    """The model's summary names its most informative dimensions instead of listing 64
    KLs (five lines of them squeezed the settings above until their text was cut)."""
    path = tmp_path / "z64.safetensors"
    model = build_model(ModelConfig(latent_dim=64, hidden=(32,)), seed=3)
    kl = np.random.default_rng(0).uniform(0.05, 1.5, 64).round(3)
    described = window.session.dataset.describe()
    save_checkpoint(path, Checkpoint(model=model, dataset=described, kl_per_dim=kl.tolist()))
    window.resize(1440, 860)
    with qtbot.waitSignal(window.session.codesChanged, timeout=20_000):
        assert window.open_checkpoint(path)
    summary = window.panel.summary.text()
    top = np.argsort(-kl)[:3]
    assert f"largest z{top[0]} {kl[top[0]]:.2f}, z{top[1]} {kl[top[1]]:.2f}" in summary
    assert f"{kl[np.argsort(-kl)[-1]]:.2f}" not in summary.split("KL per dimension")[-1]
    qtbot.waitUntil(lambda: window.panel.latent_spin.isVisible())
    for spin in (window.panel.latent_spin, window.panel.beta_spin, window.panel.lr_spin):
        # room for a line of text inside the frame (the 64 KLs left 14 px of 23)
        assert spin.height() >= spin.fontMetrics().height() + 4, spin.objectName()


def test_a_few_dimensions_have_each_kl_listed():
    assert kl_line([3.414, 0.5, 1.0]) == "KL per dimension: 3.41 0.50 1.00"


def test_the_variance_note_stays_legible_over_the_manifold_map(qtbot, window, tmp_path):
    """A PCA plane's note in the plot's corner ("PC1 22% · PC2 20% of the variance") was
    grey text straight on the map's tiles, black in the light scheme: unreadable once
    View ▸ Manifold map was on. It sits on a box of the plot's own colour, as the legend."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from explorer.ui.theme import MIN_CONTRAST, contrast
    from tests.gui import pick
    from tests.test_theme import background, pixels

    path = tmp_path / "z4.safetensors"
    model = build_model(ModelConfig(latent_dim=4, hidden=(16,)))
    save_checkpoint(path, Checkpoint(model=model, dataset=window.session.dataset.describe()))
    assert window.open_checkpoint(path)
    qtbot.waitUntil(lambda: window.session.codes is not None, timeout=10_000)
    plot, shares = window.latent_view, window.latent_view.shares
    assert shares.text.endswith("of the variance")
    pick(window, ("&View", "Manifold &map")).trigger()
    qtbot.waitUntil(lambda: bool(window.plane_bar.manifold.tiles), timeout=10_000)

    box = plot.mapFromScene(shares.sceneBoundingRect()).boundingRect()
    px = pixels(plot.viewport())[box.top() : box.bottom(), box.left() : box.right()]
    base = QApplication.palette().color(QPalette.ColorRole.Base)
    under = background(px)  # the box: the plot's colour, a little of the map through it
    assert contrast(under, base) < 1.25
    colours = np.unique(px.reshape(-1, 3), axis=0)
    assert max(contrast(QColor(*c.tolist()), under) for c in colours) >= MIN_CONTRAST
