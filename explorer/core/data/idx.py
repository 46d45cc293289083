"""MNIST-family IDX files (`*-idx3-ubyte`, optionally `.gz`), with the labels beside them.

Format (LeCun et al.): two zero bytes, a type code, the number of dimensions, each
dimension as a big-endian uint32, then the data. The header's size claim is checked
against what is really there before any large buffer is allocated.
"""

from __future__ import annotations

import gzip
import math
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from explorer.core.data.convert import to_uint8_images
from explorer.core.data.dataset import Dataset, check_labels
from explorer.core.errors import DataError
from explorer.core.files import check_memory, check_readable_file

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def is_idx_path(path: Path) -> bool:
    return re.search(r"idx\d-ubyte(\.gz)?$", path.name) is not None


def read_idx(path: Path) -> np.ndarray:
    """The array stored in one IDX file (raw or gzip-compressed)."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _TYPES:
                raise DataError(
                    f"{path}: not an IDX file (bad magic number {head.hex() or 'empty'})"
                )
            ndim = head[3]
            if ndim == 0:
                raise DataError(f"{path}: IDX header declares zero dimensions")
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise DataError(f"{path}: file ends inside the IDX header")
            dims = struct.unpack(f">{ndim}I", dims_raw)
            dtype = np.dtype(_TYPES[head[2]])
            if 0 in dims:
                raise DataError(f"{path}: IDX header declares an empty array {dims}")
            expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow
            if path.suffix != ".gz":
                actual = path.stat().st_size - 4 - 4 * ndim
                if actual != expected:
                    raise DataError(
                        f"{path}: IDX header promises {dims} ({expected:,} bytes of data) "
                        f"but the file holds {actual:,} bytes"
                    )
            check_memory(expected, str(path), f"the IDX array {dims}", DataError)
            # Read in chunks: a lying header in a small .gz never allocates its claim.
            chunks, got = [], 0
            while got <= expected:
                block = f.read(min(1 << 24, expected + 1 - got))
                if not block:
                    break
                chunks.append(block)
                got += len(block)
            if got != expected:
                raise DataError(
                    f"{path}: IDX header promises {dims} ({expected:,} bytes of data) "
                    f"but the file holds {'more' if got > expected else f'{got:,} bytes'}"
                )
    except DataError:
        raise
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"{path}: damaged or truncated gzip data ({e})") from e
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from e
    return np.frombuffer(bytearray().join(chunks), dtype=dtype).reshape(dims)  # writable


def labels_path_for(images_path: Path) -> Path | None:
    """The labels file that belongs to an images file, when it exists beside it."""
    name = images_path.name
    if "idx3" not in name:
        return None
    stem = name.replace("images", "labels").replace("idx3", "idx1")
    base = stem[:-3] if stem.endswith(".gz") else stem
    for candidate in (base, base + ".gz"):
        p = images_path.with_name(candidate)
        if p != images_path and p.is_file():
            return p
    return None


def load_idx(path: Path) -> Dataset:
    images = to_uint8_images(read_idx(path), str(path))
    labels = None
    class_names = None
    lpath = labels_path_for(path)
    if lpath is not None:
        check_readable_file(lpath, DataError)
        labels = read_idx(lpath)
        if labels.ndim != 1 or len(labels) != len(images):
            raise DataError(
                f"{lpath}: holds {labels.shape[0] if labels.ndim else 0} labels "
                f"but {path.name} holds {len(images)} images"
            )
        # Bounded before one name per class is made: a header can claim any label.
        labels = check_labels(labels, str(lpath))
        class_names = [str(i) for i in range(int(labels.max()) + 1)]
    name = re.sub(r"[-.]?images.*$|[-.]?idx\d-ubyte(\.gz)?$", "", path.name) or path.stem
    return Dataset(
        images=images, name=name, labels=labels, class_names=class_names, source=str(path)
    )
