"""Image tables as people download them: Parquet and Arrow files, `datasets` folders.

Hugging Face stores an image dataset as a table with an image column (its `Image`
feature: a struct of the encoded file's `bytes` and its `path`, PNG or JPEG per row) and
usually a label column (a `ClassLabel`: int class indices, their names in the features
the table's schema carries under the "huggingface" key). It ships as Parquet files, and
`datasets.Dataset.save_to_disk` writes a folder of Arrow IPC stream files
(`data-00000-of-00001.arrow`, listed in `state.json`) with `dataset_info.json` beside.

Read through pyarrow, an optional extra (`pip install "latent-explorer[parquet]"`), a
row group (Parquet) or record batch (Arrow) at a time: the encoded bytes are never held
whole, only the decoded images, whose size is checked before memory is spent on it.
The row count comes from the Parquet footer, checked against its row groups', or, for
Arrow streams, which have no footer, from a first pass that reads batch lengths only.
Every image is decoded as the folder loader decodes (`decode`): its header's size
bounded and the same as the first image's before its pixels are read.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from explorer.core.data.dataset import Dataset
from explorer.core.data.decode import (
    Unusable,
    check_size,
    one_channel_if_grey,
    opened,
    rgb_pixels,
)
from explorer.core.errors import DataError
from explorer.core.files import check_memory, check_readable_file

TABLE_SUFFIXES = (".parquet", ".arrow")
INSTALL = 'pip install "latent-explorer[parquet]"'
# Column names taken for the images / labels when the schema says nothing of its features.
IMAGE_COLUMNS = ("image", "img", "images", "png", "jpg", "pixels")
LABEL_COLUMNS = ("label", "labels", "fine_label", "y", "target", "class")
_MAX_FILES = 100_000  # data files a folder's state.json may list


def _pyarrow(path: Path) -> Any:
    """The pyarrow module, or DataError naming the extra that installs it."""
    try:
        # an optional extra: imported when a table is opened, not with the package
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError as e:
        raise DataError(
            f"{path}: reading Parquet and Arrow files needs pyarrow, which is not installed: "
            f"{INSTALL}"
        ) from e
    return pyarrow


@dataclass
class _Source:
    """One file of a table: its path and how to read its batches."""

    path: Path
    parquet: bool


def is_saved_dataset(folder: Path) -> bool:
    """Whether `folder` is what `datasets`' save_to_disk writes (one split, or several)."""
    names = ("state.json", "dataset_info.json", "dataset_dict.json")
    return any((folder / n).is_file() for n in names) or any(folder.glob("data-*.arrow"))


def load_table(path: Path, image_key: str | None = None, label_key: str | None = None) -> Dataset:
    """The images (and labels) of a .parquet or .arrow file; `image_key` and `label_key`
    name the columns where the file's features do not say."""
    check_readable_file(path, DataError)
    sources = [_Source(path, path.suffix.lower() == ".parquet")]
    return _load(sources, path, path.stem, (image_key, label_key))


def load_saved_dataset(
    folder: Path, image_key: str | None = None, label_key: str | None = None
) -> Dataset:
    """The images (and labels) of a `save_to_disk` folder of one split."""
    dict_file = folder / "dataset_dict.json"
    if dict_file.is_file():
        splits = _json(dict_file).get("splits")
        names = ", ".join(map(str, splits)) if isinstance(splits, list) else "?"
        raise DataError(
            f"{folder}: a dataset of several splits ({names}); open one split's folder, "
            f"such as {folder / (splits[0] if isinstance(splits, list) and splits else 'train')}"
        )
    state = folder / "state.json"
    if state.is_file():
        listed = _json(state).get("_data_files")
        if not isinstance(listed, list) or not 0 < len(listed) <= _MAX_FILES:
            raise DataError(f"{state}: _data_files is not a list of data files")
        files = []
        for entry in listed:
            name = entry.get("filename") if isinstance(entry, dict) else None
            if not isinstance(name, str) or Path(name).name != name:
                raise DataError(f"{state}: {entry!r} is not a data file's name in this folder")
            files.append(folder / name)
    else:
        files = sorted(folder.glob("data-*.arrow"))
    if not files:
        raise DataError(f"{folder}: no data-*.arrow files (a save_to_disk folder has them)")
    for f in files:
        check_readable_file(f, DataError)
    return _load([_Source(f, False) for f in files], folder, folder.name, (image_key, label_key))


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: not readable JSON ({e})") from e
    if not isinstance(value, dict):
        raise DataError(f"{path}: expected a JSON object")
    return value


def _load(
    sources: list[_Source], where: Path, name: str, keys: tuple[str | None, str | None]
) -> Dataset:
    pa = _pyarrow(where)
    reading = sources[0].path  # the file a damage message names
    try:
        schema = _schema(pa, sources[0])
        image_col, label_col, class_names = _columns(pa, schema, sources[0].path, *keys)
        columns = [image_col] + ([label_col] if label_col else [])
        counts = []
        for source in sources:
            reading = source.path
            missing = set(columns) - set(_schema(pa, source).names)
            if missing:  # the other files of a folder must have the first one's columns
                raise DataError(f"{source.path}: has no column {', '.join(sorted(missing))}")
            counts.append(_rows(pa, source))
        n = sum(counts)
        if n == 0:
            raise DataError(f"{where}: the table has no rows")
        reader = _Decoder(where, n)
        labels = np.empty(n, np.int64) if label_col else None
        for source, count in zip(sources, counts, strict=True):
            reading, seen = source.path, 0
            for batch in _batches(pa, source, columns):
                if seen + batch.num_rows > count:
                    raise DataError(f"{source.path}: holds more rows than the {count:,} it claims")
                if labels is not None:
                    done = reader.filled
                    labels[done : done + batch.num_rows] = _labels(
                        batch.column(label_col), source.path
                    )
                reader.decode(batch.column(image_col), source.path, seen)
                seen += batch.num_rows
            if seen != count:
                raise DataError(f"{source.path}: holds {seen:,} rows but claims {count:,}")
    except (pa.ArrowException, OSError) as e:  # pyarrow reports some damage as OSError
        raise DataError(f"{reading}: damaged or truncated ({_first_line(e)})") from e
    if labels is not None and (labels < 0).all():
        labels = None  # -1 throughout: an unlabelled split (a test set, as HF writes it)
    return Dataset(
        images=reader.images(),
        name=name,
        labels=labels,
        class_names=class_names if labels is not None else None,
        source=str(where),
    )


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _schema(pa: Any, source: _Source) -> Any:
    if source.parquet:
        return pa.parquet.ParquetFile(source.path).schema_arrow
    with pa.memory_map(str(source.path)) as f:
        return pa.ipc.open_stream(f).schema


def _rows(pa: Any, source: _Source) -> int:
    """The rows `source` says it holds: a Parquet footer's count (checked against its row
    groups'), an Arrow stream's batch lengths (read without their data)."""
    if source.parquet:
        meta = pa.parquet.ParquetFile(source.path).metadata
        groups = sum(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
        if meta.num_rows != groups:
            raise DataError(
                f"{source.path}: the footer claims {meta.num_rows:,} rows but its row groups "
                f"hold {groups:,}: the file is damaged"
            )
        return meta.num_rows
    with pa.memory_map(str(source.path)) as f:  # mapped: a batch's buffers are not read
        return sum(batch.num_rows for batch in pa.ipc.open_stream(f))


def _batches(pa: Any, source: _Source, columns: list[str]) -> Iterator[Any]:
    """`source`'s rows, a row group or a record batch at a time: Arrow record batches
    of the named `columns`."""
    if source.parquet:
        parquet = pa.parquet.ParquetFile(source.path)
        for i in range(parquet.num_row_groups):
            yield from parquet.read_row_group(i, columns=columns).to_batches()
        return
    with pa.memory_map(str(source.path)) as f:
        for batch in pa.ipc.open_stream(f):
            yield batch.select(columns)


def _columns(
    pa: Any, schema: Any, path: Path, image_key: str | None, label_key: str | None
) -> tuple[str, str | None, list[str] | None]:
    """(image column, label column or None, class names or None) of a table's schema:
    the columns named, else from the Hugging Face features in its metadata, else by the
    columns' types and names."""
    has = ", ".join(f"{f.name} ({f.type})" for f in schema) or "no columns"
    for key, fits, what in (
        (image_key, lambda t: _holds_bytes(pa, t), "encoded images"),
        (label_key, pa.types.is_integer, "integer labels"),
    ):
        if key is not None and (key not in schema.names or not fits(schema.field(key).type)):
            raise DataError(f"{path}: no column {key!r} of {what} (it has: {has})")
    features = _features(schema)
    image = image_key or next((c for c, f in features.items() if f.get("_type") == "Image"), None)
    if image is None or image not in schema.names:
        byte_columns = [f.name for f in schema if _holds_bytes(pa, f.type)]
        named = [c for c in byte_columns if c.lower() in IMAGE_COLUMNS]
        image = (named or byte_columns or [None])[0]
    if image is None or not _holds_bytes(pa, schema.field(image).type):
        raise DataError(
            f"{path}: no image column (expected PNG/JPEG bytes per row, as a Hugging Face "
            f"Image feature stores them; it has: {has})"
        )
    label, names = label_key, None
    for c, f in features.items():
        if f.get("_type") == "ClassLabel" and c in schema.names and label in (None, c):
            label = c
            listed = f.get("names")
            ok = isinstance(listed, list) and all(isinstance(x, str) for x in listed)
            names = [x[:256] for x in listed] if ok and listed else None
            break
    if label is None:
        label = next(
            (
                f.name
                for f in schema
                if f.name.lower() in LABEL_COLUMNS and pa.types.is_integer(f.type)
            ),
            None,
        )
    return image, label, names


def _features(schema: Any) -> dict[str, dict]:
    """The Hugging Face features a table's schema metadata describes, or {}."""
    raw = (schema.metadata or {}).get(b"huggingface")
    try:
        features = json.loads(raw)["info"]["features"]
    except (TypeError, ValueError, KeyError):
        return {}
    if not isinstance(features, dict):
        return {}
    return {k: v for k, v in features.items() if isinstance(v, dict)}


def _holds_bytes(pa: Any, t: Any) -> bool:
    """A column of encoded images: binary, or a struct with a binary `bytes` field."""
    if pa.types.is_struct(t):
        return t.get_field_index("bytes") >= 0 and _holds_bytes(pa, t.field("bytes").type)
    return pa.types.is_binary(t) or pa.types.is_large_binary(t)


def _labels(column: Any, path: Path) -> np.ndarray:
    if column.null_count:
        raise DataError(f"{path}: the label column has {column.null_count:,} empty rows")
    return column.to_numpy(zero_copy_only=False).astype(np.int64)


class _Decoder:
    """Decodes the image column's rows into one array, sized from the first image."""

    def __init__(self, where: Path, n: int):
        self.where, self.n = where, n
        self.filled = 0
        self.size: tuple[int, int] | None = None
        self.first = ""  # the row whose size all must have, for the message
        self.array: np.ndarray | None = None
        self.grey = True

    def decode(self, column: Any, path: Path, start: int) -> None:
        """Decode a batch's image column (its rows `start`, `start + 1`, … of `path`):
        binary, or Hugging Face's struct of `bytes` and `path`."""
        if column.type.num_fields:  # the struct
            column = column.field("bytes")
        for i, data in enumerate(column.to_pylist()):
            where = f"{path}: row {start + i:,}"
            if data is None:
                raise DataError(f"{where}: no image bytes (an image only named by path?)")
            try:
                with opened(io.BytesIO(data)) as im:
                    w, h = im.size
                    check_size(w, h, where)
                    self._expect((w, h), where)
                    pixels = rgb_pixels(im)
            except (DataError, Unusable) as e:
                raise DataError(str(e) if isinstance(e, DataError) else f"{where}: {e}") from e
            except Exception as e:  # Pillow's many kinds of "not an image" (see folder.py)
                raise DataError(f"{where}: not a readable image ({_first_line(e)})") from e
            if pixels.shape[:2] != (h, w):  # a header that lied about the size
                raise DataError(f"{where}: decodes to {pixels.shape[1]}×{pixels.shape[0]}")
            self.array[self.filled] = pixels
            self.grey = self.grey and bool((pixels == pixels[..., :1]).all())
            self.filled += 1

    def _expect(self, size: tuple[int, int], where: str) -> None:
        """Check an image's size against the first's; the first sizes the array."""
        if self.size is None:
            w, h = size
            check_memory(
                self.n * h * w * 3, str(self.where), f"{self.n:,} images of {w}×{h}", DataError
            )
            self.size, self.first = size, where
            self.array = np.empty((self.n, h, w, 3), np.uint8)
        elif size != self.size:
            raise DataError(
                f"{where}: images differ in size: this one is {size[0]}×{size[1]}, "
                f"{self.first.rsplit(': ', 1)[1]} is {self.size[0]}×{self.size[1]}; "
                "resize them to one size first"
            )

    def images(self) -> np.ndarray:
        return one_channel_if_grey(self.array[: self.filled], self.grey)
