"""Images in a `.npy` file larger than memory, read from the file a batch at a time.

A uint8 `.npy` too large to load (`files.memory_budget`) is left on disk once its header
has been checked against the file's size. `DiskImages` stands in for the (N, H, W) or
(N, H, W, C) uint8 array a `Dataset` holds, as `PackedImages` does for bits: indexing it
(an int, a slice, an index array) reads only the rows asked for, in the container layout
whatever the file's (N×H×W, N×H×W×C, N×C×H×W, N×D); `take` keeps a subset as an index
into the file. Its torch twin `DiskTensor` (what `images_to_tensor` makes of it) gives
model-layout (n, C, H, W) batches on its device, so the training loop's gather by a
shuffled index, the encoders, the metrics and the per-point errors walk the file batch
by batch, and the process holds a batch, not the file.

Rows are read with plain reads, not through a memory mapping: a mapping's pages count in
the process's resident memory until the kernel takes them back, and with the large page
-cache folios of current kernels one random 4 KiB row maps up to a MiB around it (one
128-image batch from a mapped 200 MB file left 127 MB resident here). A read puts the
file in the page cache, which the kernel shares and reclaims, and costs the process only
the rows it asked for. It also turns a file that shrinks while open into a DataError
naming it, where a mapping would kill the process with SIGBUS.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.core.errors import DataError


@dataclass
class RowFile:
    """A file of fixed-size rows after a header: N rows of `row` bytes from `offset`."""

    path: str
    offset: int  # bytes before the first row (the .npy header)
    rows: int
    row: int  # bytes per row
    _file: object = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        try:  # unbuffered: each read goes straight into the caller's array
            self._file = open(self.path, "rb", buffering=0)  # noqa: SIM115 (kept open)
        except OSError as e:
            raise DataError(f"{self.path}: cannot be read ({e.strerror or e})") from e

    def __getstate__(self) -> dict:
        """What a copy in another process needs (it opens the file again): a Dataset
        sent to a worker process takes its images with it."""
        return {"path": self.path, "offset": self.offset, "rows": self.rows, "row": self.row}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def read(self, rows: range | np.ndarray) -> np.ndarray:
        """The rows at `rows` (a run of rows, or any row numbers): (n, row) uint8."""
        out = np.empty((len(rows), self.row), np.uint8)
        try:
            with self._lock:  # one file position, shared by the threads that read
                if isinstance(rows, range) and rows.step == 1:
                    self._read_into(out.reshape(-1), rows.start)
                else:
                    for i, r in enumerate(rows):
                        self._read_into(out[i], int(r))
        except OSError as e:
            raise DataError(f"{self.path}: cannot be read any more ({e.strerror or e})") from e
        return out

    def _read_into(self, buffer: np.ndarray, row: int) -> None:
        self._file.seek(self.offset + row * self.row)
        got = self._file.readinto(memoryview(buffer))
        if got != buffer.nbytes:
            raise DataError(
                f"{self.path}: the file ended {buffer.nbytes - (got or 0):,} bytes early at "
                f"row {row:,} of {self.rows:,}: it was changed while open; open it again"
            )


class DiskImages:
    """(N, H, W) or (N, H, W, C) uint8 images, read on demand from a `.npy` file.

    file: the rows (images) of the file's array, each in the file's `layout`
        ("nhw", "nhwc", "nchw" or "flat", as `convert.image_layout` names it) of
        `row_shape`, the file's array shape without N.
    index: the file rows this object's rows are (a subset), or None for all of them.
    """

    dtype = np.dtype(np.uint8)

    def __init__(
        self,
        file: RowFile,
        row_shape: tuple[int, ...],
        layout: str,
        index: np.ndarray | None = None,
    ):
        self.file, self.row_shape, self.layout, self.index = file, row_shape, layout, index
        if layout == "flat":
            side = math.isqrt(row_shape[0])
            image = (side, side)
        elif layout == "nchw":
            image = (*row_shape[1:], row_shape[0])
        else:
            image = row_shape
        if len(image) == 3 and image[2] == 1:
            image = image[:2]  # one channel is held as N×H×W, as `to_uint8_images` does
        n = file.rows if index is None else len(index)
        self.shape = (n, *image)
        self.ndim = len(self.shape)

    @classmethod
    def open(cls, path: str, offset: int, shape: tuple[int, ...], layout: str) -> DiskImages:
        """The images of a C-order uint8 array of `shape` stored from `offset` in `path`."""
        return cls(RowFile(path, offset, shape[0], math.prod(shape[1:])), shape[1:], layout)

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def nbytes(self) -> int:
        """The bytes the images stand for (not what is held: that is a batch at most)."""
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        """The images at `key` read from the file: (H, W[, C]) for an int, else (n, H, W[, C])."""
        if isinstance(key, (int, np.integer)):
            return self[np.array([key])][0]
        if self.index is not None:
            rows = self.index[key]
        elif isinstance(key, slice):
            rows = range(self.file.rows)[key]
        else:
            rows = np.arange(self.file.rows)[key]  # (checks the bounds, allows negatives)
        out = self.file.read(rows).reshape(len(rows), *self.row_shape)
        if self.layout == "nchw":
            out = np.ascontiguousarray(np.moveaxis(out, 1, 3))
        return out.reshape(len(out), *self.shape[1:])

    def take(self, index) -> DiskImages:
        """The images at `index` (a slice or an index array), still on disk."""
        rows = np.arange(len(self))[index] if self.index is None else self.index[index]
        return DiskImages(self.file, self.row_shape, self.layout, np.asarray(rows, np.int64))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Everything read (N·H·W·C bytes): for small sets and NumPy functions."""
        out = self[:]
        return out if dtype is None else out.astype(dtype)


def model_layout(images: np.ndarray) -> torch.Tensor:
    """Container layout (n, H, W) or (n, H, W, C) uint8 -> model layout (n, C, H, W) uint8."""
    t = torch.from_numpy(np.ascontiguousarray(images))
    t = t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)
    return t.contiguous()


class DiskTensor:
    """Images on disk in the model layout: indexing reads (n, C, H, W) uint8 onto `device`."""

    def __init__(self, images: DiskImages, device: torch.device | str = "cpu"):
        self.images = images
        self.device = torch.device(device)
        n, h, w, *c = images.shape
        self.shape = (n, c[0] if c else 1, h, w)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> torch.Tensor:
        if isinstance(key, torch.Tensor):
            key = key.cpu().numpy()
        if isinstance(key, (int, np.integer)):
            return self[key : key + 1][0]
        return model_layout(self.images[key]).to(self.device)

    def take(self, index: torch.Tensor) -> DiskTensor:
        """The images at `index`, still on disk."""
        return DiskTensor(self.images.take(index.cpu().numpy()), self.device)

    def to(self, device, non_blocking: bool = False) -> DiskTensor:
        """The same images, read onto `device` (each batch is copied there as it is read)."""
        return DiskTensor(self.images, device)
