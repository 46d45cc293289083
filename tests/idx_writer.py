"""A minimal IDX writer, so the loader is tested on files the tests make themselves."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

_CODES = {np.dtype("uint8"): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}


def idx_bytes(array: np.ndarray, dims: tuple[int, ...] | None = None) -> bytes:
    """IDX encoding of `array`; `dims` overrides the header (to make it lie)."""
    if array.dtype == np.int32:
        array = array.astype(">i4")
    if array.dtype == np.float32:
        array = array.astype(">f4")
    dims = array.shape if dims is None else dims
    header = bytes([0, 0, _CODES[array.dtype], len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + array.tobytes()


def write_idx(path: Path, array: np.ndarray, dims: tuple[int, ...] | None = None) -> Path:
    data = idx_bytes(array, dims)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path
