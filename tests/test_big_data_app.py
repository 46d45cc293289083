"""The window opens what the CLI opens: a `.npy` larger than the memory budget (left on
disk), a Parquet table and a `datasets` save_to_disk folder, through File ▸ Open
dataset… and File ▸ Open dataset folder…, and plots every image's code."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QFileDialog

from explorer.core.data.on_disk import DiskImages
from tests.gui import pick
from tests.table_writer import png, table, write_parquet, write_saved


def _digits(window, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` images the window's model can encode (its 28×28 digits, repeated) and labels."""
    shown = np.asarray(window.session.dataset.images[:40])
    return np.resize(shown, (n, 28, 28)), np.arange(n) % 10


def _open(qtbot, window, monkeypatch, item: str, path, n: int) -> None:
    """Pick File ▸ `item`, answer its dialog with `path`, wait for `n` codes."""
    folder = "folder" in item
    answer = (lambda *a, **k: str(path)) if folder else (lambda *a, **k: (str(path), ""))
    name = "getExistingDirectory" if folder else "getOpenFileName"
    monkeypatch.setattr(QFileDialog, name, answer)
    pick(window, ("&File", item)).trigger()
    s = window.session
    qtbot.waitUntil(
        lambda: s.dataset.source == str(path) and s.codes is not None and len(s.codes) == n,
        timeout=20_000,
    )


def test_a_npy_larger_than_the_budget_opens_from_disk(qtbot, window, tmp_path, monkeypatch):
    images, _ = _digits(window, 600)
    np.save(tmp_path / "big.npy", images)
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 256 << 10)  # < 470 kB
    _open(qtbot, window, monkeypatch, "Open &dataset…", tmp_path / "big.npy", 600)
    data = window.session.dataset
    assert isinstance(data.images, DiskImages)
    assert np.array_equal(data.images[[599, 3]], images[[599, 3]])
    assert np.isfinite(window.session.codes).all()


def test_a_parquet_file_and_a_saved_folder_open_with_their_classes(
    qtbot, window, tmp_path, monkeypatch
):
    images, labels = _digits(window, 120)
    names = [f"digit {d}" for d in range(10)]
    t = table([png(a) for a in images], labels, names)
    path = write_parquet(tmp_path / "train.parquet", t, row_group_size=50)
    _open(qtbot, window, monkeypatch, "Open &dataset…", path, 120)
    assert np.array_equal(window.session.dataset.images, images)
    assert window.session.dataset.class_names == names
    folder = write_saved(tmp_path / "saved", t)
    _open(qtbot, window, monkeypatch, "Open dataset &folder…", folder, 120)
    assert np.array_equal(window.session.dataset.labels, labels)
