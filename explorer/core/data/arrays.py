"""NumPy `.npz` / `.npy` files, read without pickle; image and label keys detected.

Every array's header is read and checked before its data: the size it declares must be
what the file (or the archive member) really holds, and must fit in memory, so a lying
header or a zip bomb is refused without allocating what it asks for. The one exception
to "fits in memory": a uint8 `.npy` larger than that stays on disk and is read batch by
batch (`on_disk.DiskImages`), once its header has been checked the same way.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from explorer.core import files
from explorer.core.data.convert import image_layout, to_uint8_images
from explorer.core.data.dataset import Dataset
from explorer.core.data.on_disk import DiskImages
from explorer.core.errors import DataError

# What reading a damaged file or archive raises: zipfile adds NotImplementedError (an
# unknown compression method) and RuntimeError (an encrypted member).
_DAMAGED = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
)
IMAGE_KEYS = ("x", "images", "x_train", "arr_0", "X", "imgs", "data", "x_test")
LABEL_KEYS = ("y", "labels", "y_train", "targets", "Y", "y_test")


def _read(path: Path, archive: np.lib.npyio.NpzFile | None, key: str | None) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False) if archive is None else archive[key]
    except ValueError as e:  # object arrays need pickle, which we never allow
        what = f"array {key!r}" if key else "the array"
        raise DataError(f"{path}: {what} cannot be read without pickle ({e})") from e
    except _DAMAGED as e:
        raise DataError(f"{path}: damaged or truncated NumPy file ({e})") from e


def _check_npy_header(
    f: BinaryIO, stored: int, where: str
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Read an .npy header from `f` (whose array part holds `stored` bytes in all) and
    check the size it declares against `stored`: (shape, Fortran order, dtype), with `f`
    left where the data begins."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:  # 3.0 (utf-8 field names) has no public reader
            shape, fortran, dtype = fmt._read_array_header(f, version)
    except Exception as e:  # numpy's header parser raises many kinds (fuzzing found
        # ValueError, SyntaxError, tokenize.TokenError): any of them means "not an array"
        raise DataError(f"{where}: not a valid NumPy array ({e})") from e
    if dtype.hasobject:
        raise DataError(
            f"{where}: holds Python objects, which cannot be read without pickle (never done here)"
        )
    need = math.prod(shape) * dtype.itemsize
    have = stored - f.tell()
    if need != have:
        raise DataError(
            f"{where}: the header declares an array of shape {shape} ({need:,} bytes) "
            f"but {have:,} bytes follow it: the file is damaged or truncated"
        )
    return shape, fortran, dtype


def _check_sizes(path: Path) -> None:
    """Check every array header in a .npz archive before any data is read."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename.endswith(".npy"):
                    where = f"{path} [{info.filename[:-4]}]"
                    with z.open(info) as f:
                        shape, _, dtype = _check_npy_header(f, info.file_size, where)
                    need = math.prod(shape) * dtype.itemsize
                    files.check_memory(need, where, f"the array of shape {shape}", DataError)
    except _DAMAGED as e:
        raise DataError(f"{path}: damaged or truncated NumPy file ({e})") from e


def _load_npy(path: Path) -> np.ndarray | DiskImages:
    """The images of a .npy file: loaded, or left on disk when they are uint8 and too
    large to load (any other type would need converting, which takes memory the size of
    the file)."""
    try:
        with open(path, "rb") as f:
            shape, fortran, dtype = _check_npy_header(f, path.stat().st_size, str(path))
            offset = f.tell()
    except _DAMAGED as e:
        raise DataError(f"{path}: damaged or truncated NumPy file ({e})") from e
    need = math.prod(shape) * dtype.itemsize
    layout = image_layout(shape)
    if need > files.memory_budget() and dtype == np.uint8 and layout and not fortran:
        return DiskImages.open(str(path), offset, shape, layout)
    # (only uint8 is read from the file batch by batch: say so, as converting is the fix)
    what = f"the array of shape {shape}" + ("" if dtype == np.uint8 else f" of {dtype} values")
    files.check_memory(need, str(path), what, DataError)
    return to_uint8_images(_read(path, None, None), str(path))


def load_arrays(path: Path, image_key: str | None = None, label_key: str | None = None) -> Dataset:
    """Images (and labels, when a label array of matching length is present)."""
    if path.suffix.lower() == ".npy":
        if image_key or label_key:
            raise DataError(f"{path}: a .npy file holds one array; keys apply to .npz only")
        return Dataset(images=_load_npy(path), name=path.stem, source=str(path))
    _check_sizes(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, *_DAMAGED) as e:
        raise DataError(f"{path}: not a readable .npz archive ({e})") from e
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: holds a single array; rename it to .npy")
    with archive:
        keys = list(archive.files)
        if image_key is not None:
            if image_key not in keys:
                raise DataError(f"{path}: no array named {image_key!r} (it has: {', '.join(keys)})")
            chosen = image_key
        else:
            chosen = next((k for k in IMAGE_KEYS if k in keys), None)
            # (read through _read: a damaged member must end in a DataError too)
            if chosen is None or image_layout(_read(path, archive, chosen).shape) is None:
                chosen = next(
                    (k for k in keys if image_layout(_read(path, archive, k).shape)), None
                )
            if chosen is None:
                shapes = ", ".join(f"{k} {_read(path, archive, k).shape}" for k in keys)
                shapes = shapes or "nothing"
                raise DataError(f"{path}: no image-like array found (it has: {shapes})")
        images = to_uint8_images(_read(path, archive, chosen), f"{path} [{chosen}]")
        labels = None
        if label_key is not None:
            if label_key not in keys:
                raise DataError(f"{path}: no array named {label_key!r} (it has: {', '.join(keys)})")
            labels = _read(path, archive, label_key)
            if labels.shape != (len(images),):
                raise DataError(
                    f"{path}: labels {label_key!r} have shape {labels.shape}, "
                    f"expected ({len(images)},) to match the images"
                )
        else:
            for k in LABEL_KEYS:
                if k in keys and k != chosen:
                    candidate = _read(path, archive, k)
                    if candidate.shape == (len(images),):
                        labels = candidate
                        break
    return Dataset(images=images, name=path.stem, labels=labels, source=str(path))
