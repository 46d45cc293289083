"""Datasets: the container, the built-in generators and the file loaders.

`load_dataset("digits")`, `load_dataset("sprites", count=...)` or
`load_dataset("path/to/file-or-folder")` return a `Dataset`; anything wrong with a
file raises `DataError` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from explorer.core.data.arrays import load_arrays
from explorer.core.data.builtin_cache import cached
from explorer.core.data.dataset import Dataset
from explorer.core.data.digits import make_digits
from explorer.core.data.folder import load_folder
from explorer.core.data.idx import is_idx_path, load_idx
from explorer.core.data.sprites import GRID_SIZE, make_sprites
from explorer.core.data.tables import (
    TABLE_SUFFIXES,
    is_saved_dataset,
    load_saved_dataset,
    load_table,
)
from explorer.core.errors import DataError
from explorer.core.files import check_readable_file
from explorer.core.progress import Reporter, quiet

# Built-in datasets: name -> (generator(count, seed, progress), default count, largest
# count). A count can come from a checkpoint's metadata, so it is bounded before anything
# is drawn: the whole sprites grid, and ten times the default digits (seconds to draw).
BUILTINS: dict[str, tuple[Callable[[int, int, Callable[[float], None]], Dataset], int, int]] = {
    "digits": (make_digits, 20_000, 200_000),
    "sprites": (make_sprites, 50_000, GRID_SIZE),
}


def open_dataset(
    path: str | Path, image_key: str | None = None, label_key: str | None = None
) -> Dataset:
    """Read a dataset file or folder: IDX (.gz or raw), .npz / .npy, Parquet / Arrow, a
    `datasets` save_to_disk folder, or a folder of images."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir() and is_saved_dataset(path):
        dataset = load_saved_dataset(path, image_key, label_key)
    elif path.is_dir():
        dataset = load_folder(path)
    else:
        dataset = _open_file(path, image_key, label_key)
    dataset.source = str(path.absolute())  # a checkpoint can find it again from elsewhere
    return dataset


def _open_file(path: Path, image_key: str | None, label_key: str | None) -> Dataset:
    check_readable_file(path, DataError)
    if is_idx_path(path):
        return load_idx(path)
    if path.suffix.lower() in (".npz", ".npy"):
        return load_arrays(path, image_key, label_key)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return load_table(path, image_key, label_key)
    raise DataError(
        f"{path}: unrecognised dataset format (expected an IDX file such as "
        "train-images-idx3-ubyte.gz, a .npz / .npy array, a .parquet / .arrow table, "
        "or a folder of images)"
    )


def load_dataset(
    spec: str,
    count: int | None = None,
    seed: int = 0,
    progress: Reporter = quiet,
    **keys: str | None,
) -> Dataset:
    """A built-in dataset by name (`count` images from `seed`, drawn once and then kept
    in `builtin_cache`) or a dataset file by path; `progress` hears how far it got."""
    if spec in BUILTINS:
        make, default, _ = BUILTINS[spec]
        count = builtin_count(spec, default if count is None else count)
        return cached(make, spec, count, seed, progress)
    progress(f"Reading {Path(spec).name}", None)
    return open_dataset(spec, **keys)


def builtin_count(name: str, count: object) -> int:
    """`count` if the built-in dataset `name` can be drawn with that many images."""
    most = BUILTINS[name][2]
    whole = isinstance(count, int) and not isinstance(count, bool)
    if not whole or not 1 <= count <= most:
        got = f"{count:,}" if whole else repr(count)
        raise DataError(f"{name}: the number of images must be from 1 to {most:,}, got {got}")
    return count


__all__ = [
    "BUILTINS",
    "Dataset",
    "builtin_count",
    "load_dataset",
    "make_digits",
    "make_sprites",
    "open_dataset",
]
