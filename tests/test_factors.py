"""The Factors tab on the real window: MIG and the mutual information of every latent
dimension with every factor, checked against `metrics.mig`, and choosing a factor plots
its two most informative dimensions coloured by it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QTabWidget

from explorer.core.data import Dataset
from explorer.core.metrics import mig
from tests.gui import rgba


def show_factors(window) -> None:
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(window.factors_view)


def with_factors(qtbot, window) -> np.ndarray:
    """Give the window's data two factors: one read off z1 of the codes, one random."""
    s = window.session
    codes = s.codes.copy()
    upper = (codes[:, 1] > np.median(codes[:, 1])).astype(int)
    noise = np.random.default_rng(0).integers(0, 4, len(codes))
    data = Dataset(
        images=s.dataset.images,
        name="tiny",
        labels=s.dataset.labels,
        factors=np.stack([upper, noise], axis=1),
        factor_names=["upper", "noise"],
        factor_sizes=[2, 4],
    )
    with qtbot.waitSignal(s.codesChanged, timeout=30_000):
        s.set_dataset(data)
        window.opener.encode()
    return data.factors


def test_the_table_is_the_metric(qtbot, window):
    view = window.factors_view
    show_factors(window)
    factors = with_factors(qtbot, window)
    qtbot.waitUntil(lambda: view.result is not None and not view.result.of_label, timeout=10_000)
    expected = mig(window.session.codes, factors, ["upper", "noise"])
    r = view.result.result
    assert np.isclose(r.score, expected.score) and r.best_dims == expected.best_dims
    assert r.best_dims[0] == 1  # the factor read off z1 is carried by z1
    assert f"MIG {expected.score:.3f}" in view.summary.text()
    h = np.array(expected.entropies)
    for f in range(2):
        for j in range(2):
            shown = float(view.table.item(f, j + 1).text())
            assert np.isclose(shown, expected.mutual_info[j, f] / h[f], atol=0.006)
        best = view.table.item(f, expected.best_dims[f] + 1)
        assert best.font().bold()
    assert np.isclose(float(view.table.item(0, 0).text()), expected.gaps[0], atol=0.006)


def test_the_factors_table_exports(qtbot, window, tmp_path):
    show_factors(window)
    qtbot.waitUntil(lambda: window.factors_view.result is not None, timeout=10_000)
    assert window.export("factors", tmp_path / "factors.png")
    assert (tmp_path / "factors.png").stat().st_size > 1000


def test_choosing_a_factor_plots_it(qtbot, window):
    view = window.factors_view
    show_factors(window)
    with_factors(qtbot, window)
    qtbot.waitUntil(lambda: view.result is not None and not view.result.of_label, timeout=10_000)
    view.table.selectRow(0)
    assert view.show_button.isEnabled()
    with qtbot.waitSignal(window.session.planeChanged, timeout=5000):
        view.show_button.click()
    s = window.session
    assert s.plane_choice == ("dims", 1, 0)  # upper's best dimension on x
    assert window.session.colour_by == "upper"
    assert len(window.latent_view.groups) == 2  # upper 0 and upper 1, not ten labels
    assert window.plane_bar.colour_combo.currentText() == "colour by upper"


def test_labelled_data_without_factors_is_measured_against_its_label(qtbot, window):
    view = window.factors_view
    show_factors(window)
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)
    assert view.result.of_label and view.table.rowCount() == 1
    expected = mig(window.session.codes, window.session.dataset.labels[:, None], ["label"])
    assert f"z{expected.best_dims[0]} carries most" in view.summary.text()


def test_data_without_labels_says_so(qtbot, window):
    s = window.session
    show_factors(window)
    s.set_dataset(Dataset(images=s.dataset.images, name="unlabelled"))
    assert "neither factors nor labels" in window.factors_view.summary.text()
    assert window.factors_view.table.rowCount() == 0


def legend_shows(view, colour: str) -> bool:
    """Whether the plot's legend, as drawn on screen, has a dot of a group's colour
    (translucent, over the legend's white)."""
    vp = view.viewport()
    rect = view.mapFromScene(view.legend.sceneBoundingRect()).boundingRect() & vp.rect()
    image = vp.grab(rect).toImage()
    c = pg.mkColor(colour)
    a = c.alphaF()
    expected = np.array([a * v + (1 - a) * 255 for v in (c.red(), c.green(), c.blue())])
    drawn = rgba(image)[..., :3]
    return bool((np.abs(drawn - expected).max(axis=2) <= 3).sum() >= 4)


def test_the_legend_shows_the_groups_of_the_colouring_chosen(qtbot, window):
    view = window.latent_view
    labels = [colour for _, colour, _ in view.groups]
    assert len(labels) > 2 and all(legend_shows(view, c) for c in labels)
    with_factors(qtbot, window)
    window.session.set_colour_by("upper")  # the plot's legend is rebuilt: two entries
    upper = [colour for _, colour, _ in view.groups]
    assert len(upper) == 2 and all(legend_shows(view, c) for c in upper)
    # the labels' colours are gone (not greys: the text's antialiased edges have those)
    gone = [c for c in labels if c not in upper and len(set(pg.mkColor(c).getRgb()[:3])) > 1]
    assert gone and not any(legend_shows(view, c) for c in gone)
