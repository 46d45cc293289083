"""The busy indicator: opening and encoding a dataset say what runs and how far it got,
over the top of the latent plot, and the indicator goes once the work is done or failed."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from explorer.core.data import builtin_cache, load_dataset
from explorer.ui.busy_indicator import BusyIndicator
from tests.gui import pick


def test_drawing_a_builtin_reports_its_progress_then_the_cache_says_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(builtin_cache, "cache_folder", lambda: tmp_path)
    heard: list[tuple[str, float | None]] = []
    load_dataset("digits", 300, progress=lambda what, f: heard.append((what, f)))
    fractions = [f for what, f in heard if what == "Drawing 300 digits"]
    assert len(fractions) >= 5 and fractions == sorted(fractions) and fractions[-1] == 1.0

    heard.clear()
    load_dataset("digits", 300, progress=lambda what, f: heard.append((what, f)))
    assert heard == [("Reading 300 digits from the cache", None)]


def test_opening_a_dataset_from_the_menu_shows_reading_then_encoding_then_goes(
    qtbot, window, tmp_path, monkeypatch
):
    images = np.random.default_rng(0).integers(0, 255, (6000, 28, 28), dtype=np.uint8)
    path = tmp_path / "many.npy"
    np.save(path, images)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), "Datasets (*.npy)")
    )
    busy = window.findChild(BusyIndicator, "busyIndicator")
    assert not busy.isVisible()
    seen: list[str] = []
    busy.textChanged.connect(seen.append)

    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        pick(window, ("&File", "Open &dataset…")).trigger()
        assert busy.isVisible() and busy.text() == "Opening many.npy…"
        # over the top of the plot, whole, and drawn above it
        plot = window.latent_view
        assert busy.parentWidget() is plot and plot.rect().contains(busy.geometry())
        assert busy.geometry().top() < plot.height() // 4

    assert "Reading many.npy…" in seen
    encoding = [t for t in seen if t.startswith("Encoding ") and "of 6,000 images…" in t]
    assert encoding and encoding[-1] == "Encoding 6,000 of 6,000 images… 100%"  # counted
    qtbot.waitUntil(lambda: not busy.isVisible())
    assert busy.current() is None and seen[-1] == ""


def test_a_failed_open_takes_the_indicator_away(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "broken.npy"
    path.write_bytes(b"not an array")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    busy = window.findChild(BusyIndicator, "busyIndicator")
    with qtbot.waitSignal(window.errorShown, timeout=10_000):
        pick(window, ("&File", "Open &dataset…")).trigger()
    qtbot.waitUntil(lambda: not busy.isVisible())


@pytest.mark.parametrize("order", ["newest first", "oldest first"])
def test_with_two_jobs_the_newest_is_shown_until_it_ends(qtbot, order):
    busy = BusyIndicator()
    qtbot.addWidget(busy)
    busy.show()
    busy.begin("a", "Reading a")
    busy.begin("b", "Encoding b")
    busy.report("b", "Encoding b", 0.4)
    assert busy.text() == "Encoding b… 40%" and busy.current() == "b"
    assert busy.bar.value() == 400
    first, second = ("b", "a") if order == "newest first" else ("a", "b")
    busy.end(first)
    assert busy.isVisible()
    busy.end(second)
    assert not busy.isVisible() and busy.current() is None
