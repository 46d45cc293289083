"""Exported grids carry labels: File ▸ Export ▸ Traversals… writes the grid with its
rows named (latent dimension and KL) and its columns' values above, on a white margin."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog, QTabWidget

from explorer.core.figures import GridLabels, save_png
from tests.gui import pick, train

_PAD = 6  # the margin right of and below the grid (figures._LABEL_PAD)
_SCALE = 4  # grids are exported 4× (exporter._STRIP_SCALE)


def dark(pixels: np.ndarray) -> np.ndarray:
    """Text on the white margin: pixels darker than mid-grey, (H, W) bool."""
    return pixels[..., :3].max(axis=2) < 128


def exported_grid(path, picture: np.ndarray) -> tuple[np.ndarray, int, int, int, int]:
    """The PNG at `path` (H', W', 3) ints, and where in it `picture` (a view's grid,
    (h, w, 1) in [0, 1]) sits, enlarged: (png, top, left, h, w). Asserts the grid itself
    is written untouched, at the bottom right inside the margin."""
    bare = np.repeat(np.repeat(picture, _SCALE, 0), _SCALE, 1)[..., 0]
    png = np.asarray(Image.open(path).convert("RGB")).astype(int)
    h, w = bare.shape
    top, left = png.shape[0] - _PAD - h, png.shape[1] - _PAD - w
    assert np.abs(png[top : top + h, left : left + w, 0] - np.round(bare * 255)).max() <= 1
    return png, top, left, h, w


def test_traversals_exported_from_the_menu_name_their_rows_and_columns(
    qtbot, window, tmp_path, monkeypatch
):
    view = window.traversal_view
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.result is not None, timeout=10_000)
    path = tmp_path / "traversals.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))

    pick(window, ("&File", "E&xport", "&Traversals… (PNG)")).trigger()

    png, top, left, h, w = exported_grid(path, view.result.picture)
    assert png.shape[0] > h + 2 * _PAD and png.shape[1] > w + 2 * _PAD  # room for labels

    text = dark(png)
    rows = len(view.result.dims)
    for r in range(rows):  # a label left of every row
        band = text[top + r * h // rows : top + (r + 1) * h // rows, : left - 2]
        assert band.sum() > 20, f"no label left of row {r}"
    columns = view.result.values.shape[1]
    for c in range(columns):  # a value above every column
        band = text[top - 20 : top, left + c * w // columns : left + (c + 1) * w // columns]
        assert band.sum() > 5, f"no label above column {c}"
    assert text[: top - 20].sum() > 50  # the title: what the rows and columns are


def test_labels_need_room_and_a_grid_without_them_is_written_bare(tmp_path):
    grid = np.full((9, 20), 0.5)
    save_png(tmp_path / "bare.png", grid, 2)
    assert Image.open(tmp_path / "bare.png").size == (40, 18)
    save_png(tmp_path / "named.png", grid, 2, GridLabels(rows=["a long row name"]))
    named = np.asarray(Image.open(tmp_path / "named.png").convert("RGB"))
    assert named.shape[1] > 40 + 50 and dark(named[:, : named.shape[1] - 40 - _PAD]).any()


def test_a_cvae_s_class_grid_is_exported_with_each_class_named(
    qtbot, window, tmp_path, monkeypatch
):
    from tests.gui import plain
    from tests.test_kinds_app import choose_kind
    from tests.test_menus import menu_paths

    def export_commands() -> set[str]:
        return {plain(p) for p in menu_paths(window.menuBar().actions()[0].menu(), ("File",))}

    assert "File ▸ Export ▸ Classes… (PNG)" not in export_commands()  # a VAE has no classes
    choose_kind(window, "cvae")
    train(qtbot, window, epochs=1)
    assert "File ▸ Export ▸ Classes… (PNG)" in export_commands()
    grid = window.class_grid
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(grid)
    qtbot.waitUntil(lambda: grid.picture is not None, timeout=10_000)
    path = tmp_path / "classes.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))

    pick(window, ("&File", "E&xport", "Cla&sses… (PNG)")).trigger()

    png, top, left, _, w = exported_grid(path, grid.picture)
    text = dark(png)
    for c in range(10):  # the class's name above every column
        band = text[top - 20 : top, left + c * w // 10 : left + (c + 1) * w // 10]
        assert band.sum() > 3, f"no name above class {c}"


@pytest.mark.parametrize("system_font", [True, False], ids=["system font", "Pillow's own"])
def test_a_label_the_font_cannot_draw_is_spelled_out_not_boxed(tmp_path, monkeypatch, system_font):
    """A model's name carries β ("trained β-VAE, β = 4"); Pillow's own font has no Greek
    and drew a box. Without a system font the label reads "beta"; with one, "β"."""
    from PIL import ImageFont

    from explorer.core import figures

    if system_font and not isinstance(getattr(figures.label_font(14), "path", None), str):
        pytest.skip("no system font with Greek installed here")
    if not system_font:
        monkeypatch.setattr(figures, "label_font", lambda size: ImageFont.load_default(size=size))
    grid = np.full((9, 20), 0.5)

    def written(title: str) -> np.ndarray:
        save_png(tmp_path / "t.png", grid, 2, GridLabels(title=title))
        return np.asarray(Image.open(tmp_path / "t.png").convert("L"))

    greek, spelled = written("β = 4"), written("beta = 4")
    box = written("\U0010fffd = 4")  # a character no font has: its box
    if system_font:
        assert greek.shape != spelled.shape or (greek != spelled).any()
    else:
        assert greek.shape == spelled.shape and (greek == spelled).all()
    assert greek.shape != box.shape or (greek != box).any()


def test_an_export_that_fails_midway_leaves_no_file_and_says_so(
    qtbot, window, tmp_path, monkeypatch
):
    """A full disk while a PNG is written: one message naming the file, no half-written
    picture left, an earlier file of that name as it was."""
    import errno

    from PIL import Image as PILImage

    folder = tmp_path / "exports"
    folder.mkdir()
    path = folder / "decoded.png"
    path.write_bytes(b"an earlier export")
    real_save = PILImage.Image.save

    def full_disk(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)  # written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PILImage.Image, "save", full_disk)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.errorShown) as shown:
        pick(window, ("&File", "E&xport", "Decoded &image… (PNG)")).trigger()
    assert str(path) in shown.args[0] and "No space left" in shown.args[0]
    assert path.read_bytes() == b"an earlier export"
    assert [p.name for p in folder.iterdir()] == ["decoded.png"]
