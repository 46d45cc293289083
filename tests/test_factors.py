"""The Factors tab on the real window: every disentanglement metric as the core computes
it, per factor, with its protocol; the matrix behind each metric drawn as a heat map,
legible in light and dark; the protocol's switches; and choosing a factor plots its two
most informative dimensions coloured by it."""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QTabWidget

from explorer.core.data import Dataset
from explorer.core.disentanglement import MetricSettings, score
from explorer.ui import factors_view
from explorer.ui.theme import MIN_CONTRAST, contrast
from tests.gui import rgba
from tests.test_theme import pixels, scheme  # noqa: F401  (scheme: a fixture)

NAMES = ["upper", "noise"]


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
        factor_names=NAMES,
        factor_sizes=[2, 4],
    )
    with qtbot.waitSignal(s.codesChanged, timeout=30_000):
        s.set_dataset(data)
        window.encoder.encode()
    return data.factors


def measured(qtbot, view, names=tuple(NAMES)) -> None:
    """Wait until the tab shows the scores of the factors `names`."""
    qtbot.waitUntil(
        lambda: (
            view.result is not None
            and not view.result.of_label
            and view.result.scores.factor_names == tuple(names)
        ),
        timeout=10_000,
    )


def shown(view, row: int, column: int) -> float:
    text = view.table.item(row, column).text()
    return float("nan") if text == "–" else float(text)


def test_the_tab_shows_every_metric_as_the_core_computes_it(qtbot, window):
    view = window.factors_view
    show_factors(window)
    factors = with_factors(qtbot, window)
    measured(qtbot, view)
    s = window.session
    expected = score(s.codes, s.logvars, factors, NAMES, MetricSettings())
    m, c, sap, f = expected.mig, expected.dci, expected.sap, expected.factor_vae
    assert m.best_dims[0] == 1  # the factor read off z1 is carried by z1
    text = view.summary.text()
    for figure in (
        f"MIG {m.score:.3f}",
        f"DCI disentanglement {c.disentanglement:.3f}, completeness {c.completeness:.3f}, "
        f"informativeness {c.informativeness:.3f}",
        f"SAP {sap.score:.3f}",
        f"FactorVAE score {f.score:.3f}",
    ):
        assert figure in text
    for row in range(2):
        assert view.table.verticalHeaderItem(row).text() == NAMES[row]
        for column, value in ((0, m.gaps), (2, c.per_factor), (3, c.accuracy), (4, sap.gaps)):
            assert np.isclose(shown(view, row, column), value[row], atol=0.006, equal_nan=True)
        assert np.isclose(shown(view, row, 5), f.per_factor[row], atol=0.006, equal_nan=True)
        assert view.table.item(row, 1).text() == f"z{m.best_dims[row]}"
    protocol = view.protocol.text()
    n = len(s.codes)
    assert f"factors upper, noise; posterior means; {n:,} points" in protocol
    assert "seed 0" in protocol and "MIG: 20-bin histograms" in protocol
    assert f"fitted on {c.protocol.train:,}, tested on {c.protocol.test:,}" in protocol
    assert "DCI: LDA importance" in protocol and "votes of 64" in protocol
    details = view.protocol.toolTip()  # in full, as the CLI prints it
    for r in (m, c, sap, f):
        assert r.protocol.describe() in details


def cell_fill(view, row: int, column: int) -> QColor:
    """The colour drawn in a heat-map cell, away from its text (its top-left corner)."""
    rect = view.heat_map.cell_rect(row, column)
    px = pixels(view.heat_map)
    return QColor(*px[rect.top() + 2, rect.left() + 2].tolist())


@pytest.mark.parametrize("key", [key for _, key in factors_view.MATRICES])
def test_the_matrix_behind_each_metric_is_drawn(qtbot, window, key):
    view = window.factors_view
    show_factors(window)
    with_factors(qtbot, window)
    measured(qtbot, view)
    view.matrix_choice.setCurrentIndex(view.matrix_choice.findData(key))
    values, tips = factors_view.matrix(view.result.scores, key)
    hm = view.heat_map
    assert hm.rows == NAMES and hm.columns == ["z0", "z1"]
    assert np.allclose(hm.values, values, equal_nan=True)
    for i in range(2):
        for j in range(2):
            drawn, wanted = cell_fill(view, i, j), hm.colour(values[i, j])
            assert (
                max(abs(a - b) for a, b in zip(drawn.getRgb(), wanted.getRgb(), strict=True)) <= 2
            )
    if key == "mig":  # upper lives in z1: its cell is the darkest blue of the row
        assert cell_fill(view, 0, 1).lightness() < cell_fill(view, 0, 0).lightness()
        assert "z1 and upper: MI" in tips[0][1]


def region_contrast(px: np.ndarray) -> float:
    """Contrast of the strongest pixel of a region against its commonest one (text on
    its background)."""
    colours, counts = np.unique(px.reshape(-1, 3), axis=0, return_counts=True)
    bg = QColor(*colours[np.argmax(counts)].tolist())
    return max(contrast(QColor(*c.tolist()), bg) for c in colours)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_heat_map_is_legible_in_either_scheme(qtbot, window, scheme, dark):  # noqa: F811
    view = window.factors_view
    show_factors(window)
    with_factors(qtbot, window)
    measured(qtbot, view)
    scheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    px = pixels(view.heat_map)
    first, last = view.heat_map.cell_rect(0, 0), view.heat_map.cell_rect(1, 1)
    labels = px[first.top() : last.bottom(), : first.left() - 2]  # the factor names
    header = px[: first.top() - 1, first.left() : last.right()]  # z0, z1
    assert region_contrast(labels) >= MIN_CONTRAST
    assert region_contrast(header) >= MIN_CONTRAST
    for i in range(2):
        for j in range(2):
            r = view.heat_map.cell_rect(i, j)
            assert (
                region_contrast(px[r.top() + 1 : r.bottom() - 1, r.left() + 1 : r.right() - 1])
                >= MIN_CONTRAST
            )


def test_the_protocol_switches_change_what_is_measured(qtbot, window):
    view = window.factors_view
    show_factors(window)
    with_factors(qtbot, window)
    measured(qtbot, view)
    noise = view.findChild(QCheckBox, "metricFactor_noise")
    QTest.mouseClick(noise, Qt.MouseButton.LeftButton, pos=QPoint(8, noise.height() // 2))
    measured(qtbot, view, ["upper"])
    assert view.table.rowCount() == 1 and view.heat_map.rows == ["upper"]
    assert "factors upper; posterior means" in view.protocol.text()
    view.codes_choice.setCurrentIndex(view.codes_choice.findData("samples"))
    view.bins.setValue(5)
    qtbot.waitUntil(lambda: "MIG: 5-bin histograms" in view.protocol.text(), timeout=10_000)
    assert "posterior samples" in view.protocol.text()
    s = window.session
    settings = MetricSettings(exclude=("noise",), codes="samples", bins=5)
    expected = score(s.codes, s.logvars, s.dataset.factors, NAMES, settings)
    assert f"MIG {expected.mig.score:.3f}" in view.summary.text()
    upper = view.findChild(QCheckBox, "metricFactor_upper")
    QTest.mouseClick(upper, Qt.MouseButton.LeftButton, pos=QPoint(8, upper.height() // 2))
    assert view.summary.text() == "Tick at least one factor to score."
    assert view.table.rowCount() == 0


def test_the_metrics_are_computed_off_the_gui_thread(qtbot, window, monkeypatch):
    threads = []
    compute = factors_view.compute_disentanglement

    def recorded(*args):
        threads.append(threading.current_thread())
        return compute(*args)

    monkeypatch.setattr(factors_view, "compute_disentanglement", recorded)
    view = window.factors_view
    show_factors(window)
    with_factors(qtbot, window)
    measured(qtbot, view)
    assert threads and threading.main_thread() not in threads


def test_the_factors_table_exports(qtbot, window, tmp_path):
    show_factors(window)
    qtbot.waitUntil(lambda: window.factors_view.result is not None, timeout=10_000)
    assert window.export("factors", tmp_path / "factors.png")
    assert (tmp_path / "factors.png").stat().st_size > 1000


def test_choosing_a_factor_plots_it(qtbot, window):
    view = window.factors_view
    show_factors(window)
    with_factors(qtbot, window)
    measured(qtbot, view)
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
    s = window.session
    expected = score(s.codes, s.logvars, s.dataset.labels[:, None], ["label"])
    assert f"z{expected.mig.best_dims[0]} carries most" in view.summary.text()
    assert not view.findChildren(QCheckBox)  # nothing to leave out


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


def test_colouring_by_a_factor_numbered_far_apart_draws_its_values_only():
    # "shape" numbered 0, 5 and 10**9 with a claimed size of 2**31 - 1: three groups,
    # found without walking every number up to the claim
    from explorer.ui.palette import group_points

    values = np.array([0, 5, 10**9, 5, 0])
    data = Dataset(
        images=np.zeros((5, 4, 4), np.uint8),
        factors=values[:, None],
        factor_names=["shape"],
        factor_sizes=[2**31 - 1],
        class_names=["square", "ellipse"],
        name="far apart",
    )
    groups = list(group_points(data, "shape"))
    assert [name for name, _, _ in groups] == ["square", "shape 5", "shape 1000000000"]
    assert [idx.tolist() for _, _, idx in groups] == [[0, 4], [1, 3], [2]]
