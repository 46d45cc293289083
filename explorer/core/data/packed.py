"""Binary images stored 8 pixels to a byte, unpacked only where they are used.

The full sprites grid is 737,280 images of 64×64 pixels: 3.0 GB as uint8, 377 MB as
bits. Its pixels are all 0 or 255, so nothing is lost. `PackedImages` stands in for
the (N, H, W) uint8 array a `Dataset` holds: indexing it (an int, a slice, an index
array) returns the unpacked uint8 images, `take` keeps a subset packed. Its torch
twin `PackedTensor` (what `images_to_tensor` makes of it) does the same in the model
layout (N, 1, H, W) on any device: the training loop keeps its images packed on the
device and unpacks each batch, metrics and encoders unpack a chunk at a time.

Bits are in NumPy's `packbits` order: the first pixel is the high bit of the first byte.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from explorer.core.data.on_disk import DiskTensor

_SHIFTS = torch.arange(7, -1, -1, dtype=torch.uint8)  # high bit first, as np.packbits


class PackedImages:
    """(N, H, W) uint8 images with values in {0, 255}, kept as bits: (N, ⌈H·W/8⌉) uint8."""

    dtype = np.dtype(np.uint8)
    ndim = 3

    def __init__(self, bits: np.ndarray, shape: tuple[int, int, int]):
        n, h, w = shape
        if bits.dtype != np.uint8 or bits.shape != (n, math.ceil(h * w / 8)):
            raise ValueError(f"bits of shape {bits.shape} do not hold {n} images of {h}×{w}")
        self.bits = bits
        self.shape = (int(n), int(h), int(w))

    @classmethod
    def pack(cls, images: np.ndarray) -> PackedImages:
        """Pack (N, H, W) uint8 images whose pixels are all 0 or 255."""
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"expected (N, H, W) uint8 images, got {images.dtype} {images.shape}")
        if np.any((images != 0) & (images != 255)):
            raise ValueError("only images whose pixels are all 0 or 255 can be packed")
        flat = images.reshape(len(images), -1)
        return cls(np.packbits(flat > 0, axis=1), images.shape)

    @property
    def nbytes(self) -> int:
        return self.bits.nbytes

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        """The unpacked images at `key`: (h, w) for an int, else (n, h, w); uint8 0/255."""
        if isinstance(key, (int, np.integer)):
            return self[np.array([key])][0]
        rows = self.bits[key]
        pixels = np.unpackbits(rows, axis=1, count=self.shape[1] * self.shape[2])
        pixels *= 255
        return pixels.reshape(len(rows), *self.shape[1:])

    def take(self, index) -> PackedImages:
        """The images at `index` (a slice or an index array), still packed."""
        bits = self.bits[index]
        return PackedImages(bits, (len(bits), *self.shape[1:]))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """Everything unpacked (N·H·W bytes): for small sets and NumPy functions."""
        out = self[:]
        return out if dtype is None else out.astype(dtype)


class PackedTensor:
    """Packed images in the model layout: indexing returns (n, 1, H, W) uint8 0/255."""

    def __init__(self, bits: torch.Tensor, shape: tuple[int, int, int, int]):
        self.bits = bits  # (N, ⌈H·W/8⌉) uint8
        self.shape = shape  # (N, 1, H, W)

    @classmethod
    def from_images(cls, images: PackedImages) -> PackedTensor:
        n, h, w = images.shape
        return cls(torch.from_numpy(images.bits), (n, 1, h, w))

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def device(self) -> torch.device:
        return self.bits.device

    def __getitem__(self, key) -> torch.Tensor:
        rows = self.bits[key]
        if rows.ndim == 1:  # an int: one image
            return self[key : key + 1][0]
        n = len(rows)
        pixels = (rows.unsqueeze(-1) >> _SHIFTS.to(rows.device)) & 1  # (n, bytes, 8)
        _, _, h, w = self.shape
        return pixels.reshape(n, -1)[:, : h * w].mul(255).reshape(n, 1, h, w)

    def take(self, index: torch.Tensor) -> PackedTensor:
        """The images at `index`, still packed."""
        bits = self.bits[index]
        return PackedTensor(bits, (len(bits), *self.shape[1:]))

    def to(self, device, non_blocking: bool = False) -> PackedTensor:
        return PackedTensor(self.bits.to(device, non_blocking=non_blocking), self.shape)


def rows_of(
    images: torch.Tensor | PackedTensor | DiskTensor, index: torch.Tensor
) -> torch.Tensor | PackedTensor | DiskTensor:
    """The images at `index`, packed images staying packed and those on disk in their file
    (a subset to keep on a device, or to read from the file batch by batch)."""
    if isinstance(images, (PackedTensor, DiskTensor)):
        return images.take(index)
    return images[index]
