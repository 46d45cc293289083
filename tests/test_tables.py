"""Parquet / Arrow image tables and `datasets` save_to_disk folders, as Hugging Face
writes them (the tests write them with pyarrow): read, trained on, and refused clearly."""

from __future__ import annotations

import io
import struct
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from explorer.cli import main
from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import open_dataset
from explorer.core.errors import DataError
from tests.table_writer import png, table, write_parquet, write_saved

NAMES = ["left", "right", "middle"]


def _greys(n=150, side=8, seed=0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
    return images, np.arange(n) % 3


def _grey_table(n=150):
    images, labels = _greys(n)
    return images, labels, table([png(a) for a in images], labels, NAMES)


def test_a_parquet_file_reads_every_row_group_with_its_labels(tmp_path):
    images, labels, t = _grey_table()
    path = write_parquet(tmp_path / "train-00000-of-00001.parquet", t, row_group_size=40)
    data = open_dataset(path)
    assert np.array_equal(data.images, images) and data.images.shape == (150, 8, 8)
    assert np.array_equal(data.labels, labels) and data.class_names == NAMES
    assert data.source == str(path.absolute()) and data.name == "train-00000-of-00001"


def test_a_save_to_disk_folder_reads_its_arrow_files_in_order(tmp_path):
    images, labels, t = _grey_table()
    folder = write_saved(tmp_path / "mnist-train", t, files=3, batch_rows=16)
    data = open_dataset(folder)
    assert np.array_equal(data.images, images) and np.array_equal(data.labels, labels)
    assert data.class_names == NAMES and data.name == "mnist-train"


def test_colour_and_16_bit_images_decode_as_the_folder_loader_does(tmp_path):
    rng = np.random.default_rng(1)
    colour = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    data = open_dataset(write_parquet(tmp_path / "c.parquet", table(list(map(png, colour)), None)))
    assert np.array_equal(data.images, colour) and data.labels is None
    deep = (rng.integers(0, 65536, (6, 8, 8))).astype(np.uint16)
    data = open_dataset(write_parquet(tmp_path / "d.parquet", table(list(map(png, deep)), None)))
    assert np.array_equal(data.images, np.rint(deep / 257).astype(np.uint8))


def test_rows_are_read_a_row_group_at_a_time(tmp_path):
    """pyarrow's memory pool never holds the whole file (1.5 MB of incompressible PNGs in
    row groups of 20 images, 76 kB): a few row groups at most."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (400, 32, 32, 3), dtype=np.uint8)
    path = write_parquet(
        tmp_path / "noise.parquet", table(list(map(png, images)), None), row_group_size=20
    )
    pool = pa.proxy_memory_pool(pa.default_memory_pool())
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        data = open_dataset(path)
    finally:
        pa.set_memory_pool(before)
    assert np.array_equal(data.images, images)
    assert 0 < pool.max_memory() < path.stat().st_size / 4


def test_the_cli_trains_on_a_parquet_file_and_a_saved_folder(tmp_path, capsys):
    _, _, t = _grey_table()
    for source in (write_parquet(tmp_path / "t.parquet", t), write_saved(tmp_path / "saved", t)):
        out = tmp_path / f"{source.stem}.safetensors"
        args = ["train", "--dataset", str(source), "--epochs", "1", "--latent-dim", "2"]
        assert main([*args, "--hidden", "16", "--out", str(out)]) == 0, capsys.readouterr().err
        described = load_checkpoint(out).dataset
        assert described["num_images"] == 150 and described["class_names"] == NAMES


def _lying_row_count(path: Path) -> None:
    """The footer claims 1,000 rows where its row groups hold 100."""
    data = path.read_bytes()
    size = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - size
    at = data.index(b"\x16\xc8\x01", start)  # field 3 (num_rows, i64) = zigzag varint of 100
    path.write_bytes(data[:at] + b"\x16\xd0\x0f" + data[at + 3 :])  # 1,000


def _hostile(kind: str, tmp_path: Path) -> Path:
    images, labels = _greys(100)
    rows = [png(a) for a in images]
    if kind == "no image column":
        t = pa.table({"text": ["a"] * 3, "label": [0, 1, 2]})
        return write_parquet(tmp_path / "text.parquet", t)
    if kind == "a row of non-image bytes":
        rows[37] = b"these bytes are not a PNG"
        return write_parquet(tmp_path / "rows.parquet", table(rows, labels, NAMES))
    if kind == "images of two sizes":
        rows[60] = png(np.zeros((9, 8), np.uint8))
        return write_parquet(tmp_path / "sizes.parquet", table(rows, labels, NAMES))
    if kind == "a lying row count":
        path = write_parquet(tmp_path / "liar.parquet", table(rows, labels, NAMES), 40)
        _lying_row_count(path)
        return path
    if kind == "a truncated parquet file":
        path = write_parquet(tmp_path / "cut.parquet", table(rows, labels, NAMES))
        path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
        return path
    if kind == "a truncated arrow file":
        folder = write_saved(tmp_path / "cut", table(rows, labels, NAMES), files=1)
        arrow = folder / "data-00000-of-00001.arrow"
        arrow.write_bytes(arrow.read_bytes()[: arrow.stat().st_size * 2 // 3])
        return folder
    if kind == "a state.json naming a missing file":
        folder = write_saved(tmp_path / "gone", table(rows, labels, NAMES), files=2)
        (folder / "data-00001-of-00002.arrow").unlink()
        return folder
    if kind == "a second file without the labels":
        folder = write_saved(tmp_path / "mixed", table(rows, labels, NAMES), files=2)
        write_saved(tmp_path / "other", table(rows, None), files=2)
        (tmp_path / "other" / "data-00001-of-00002.arrow").replace(
            folder / "data-00001-of-00002.arrow"
        )
        return folder
    raise AssertionError(kind)


HOSTILE = {  # what the one line must say besides the file's name
    "no image column": ("text.parquet", "no image column", "text (string)"),
    "a row of non-image bytes": ("rows.parquet", "row 37", "not a readable image"),
    "images of two sizes": ("sizes.parquet", "row 60", "images differ in size"),
    "a lying row count": ("liar.parquet", "claims 1,000 rows", "hold 100"),
    "a truncated parquet file": ("cut.parquet", "damaged or truncated"),
    "a truncated arrow file": ("data-00000-of-00001.arrow", "damaged or truncated"),
    "a state.json naming a missing file": ("data-00001-of-00002.arrow", "no such file"),
    "a second file without the labels": ("data-00001-of-00002.arrow", "has no column label"),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_tables_are_one_line_naming_the_file(kind, tmp_path, capsys):
    path = _hostile(kind, tmp_path)
    with pytest.raises(DataError) as err:
        open_dataset(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for said in HOSTILE[kind]:
        assert said in message, message
    args = ["train", "--dataset", str(path), "--epochs", "1", "--hidden", "8"]
    assert main([*args, "--out", str(tmp_path / "m.safetensors")]) != 0
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err_lines) == 1 and str(path) in err_lines[0] and "Traceback" not in err_lines[0]


def test_without_pyarrow_the_message_names_the_extra(tmp_path, monkeypatch):
    _, _, t = _grey_table(10)
    path = write_parquet(tmp_path / "t.parquet", t)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what an absent package imports as
    with pytest.raises(DataError) as err:
        open_dataset(path)
    assert str(path) in str(err.value)
    assert 'pip install "latent-explorer[parquet]"' in str(err.value)


def test_columns_named_on_the_command_line_are_used(tmp_path, capsys):
    """A table without Hugging Face features: --image-key / --label-key name its columns."""
    images, labels = _greys(40)
    t = pa.table({"label": labels, "thumb": [png(a) for a in images], "pic": [b""] * 40})
    path = write_parquet(tmp_path / "plain.parquet", t)
    data = open_dataset(path, image_key="thumb", label_key="label")
    assert np.array_equal(data.images, images) and np.array_equal(data.labels, labels)
    with pytest.raises(DataError, match=r"plain\.parquet: no column 'shape' of integer labels"):
        open_dataset(path, label_key="shape")


def test_a_folder_of_several_splits_says_which_to_open(tmp_path):
    _, _, t = _grey_table(10)
    root = tmp_path / "mnist"
    for split in ("train", "test"):
        write_saved(root / split, t, files=1)
    (root / "dataset_dict.json").write_text('{"splits": ["train", "test"]}')
    with pytest.raises(DataError, match=r"several splits \(train, test\); open one split's"):
        open_dataset(root)
    assert len(open_dataset(root / "test")) == 10


def test_jpeg_rows_decode(tmp_path):
    images, labels = _greys(20)
    rgb = np.repeat(images[..., None], 3, axis=3) // 2 + 60  # smooth enough for JPEG
    jpegs = []
    for a in rgb:
        out = io.BytesIO()
        Image.fromarray(a).save(out, "JPEG", quality=95)
        jpegs.append(out.getvalue())
    data = open_dataset(write_parquet(tmp_path / "j.parquet", table(jpegs, labels, NAMES)))
    assert data.images.shape[:3] == (20, 8, 8)
    assert np.abs(data.images.astype(int) - rgb[..., 0]).mean() < 12  # (lossy)


def test_the_size_the_rows_claim_is_checked_before_memory_is_spent(tmp_path, monkeypatch):
    """100 rows of a 4,000×4,000 PNG (a few kB each) would decode to 4.8 GB."""
    big = png(np.zeros((4000, 4000), np.uint8))
    path = write_parquet(tmp_path / "bomb.parquet", table([big] * 100, None))
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"bomb\.parquet: 100 images of 4000×4000 needs"):
            open_dataset(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20
