"""The one in-memory dataset container every loader and generator returns."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from explorer.core import checks
from explorer.core.data.on_disk import DiskImages
from explorer.core.data.packed import PackedImages
from explorer.core.errors import ConfigError, DataError

MAX_CLASSES = 10_000  # labels are class indices; more classes than this is not a labelling
MAX_FACTORS = 64  # ground-truth factor columns a description may name
MAX_DESCRIBED_IMAGES = 10**9  # a count a description may claim (it is never allocated)
_PATH_MAX, _NAME_MAX = 4096, 255  # longer paths and file names fail in the OS's calls


@dataclass
class Dataset:
    """Images plus what is known about them.

    images: (N, H, W) or (N, H, W, C) uint8, 0 = black, 255 = white; binary images may
        be `PackedImages`, images in a file too large to load `DiskImages` (indexing
        either gives the same uint8 arrays).
    labels: (N,) int64 class index, or None.
    factors: (N, K) int64 ground-truth generative factor indices, or None.
    """

    images: np.ndarray | PackedImages | DiskImages
    name: str
    labels: np.ndarray | None = None
    class_names: list[str] | None = None  # display name per class index
    factors: np.ndarray | None = None
    factor_names: list[str] | None = None  # one per factor column
    factor_sizes: list[int] | None = None  # number of values per factor
    source: str | None = None  # file or folder it came from, None when generated
    extra: dict = field(default_factory=dict)  # loader notes (e.g. skipped files)

    def __post_init__(self) -> None:
        where = self.source or self.name
        held = (np.ndarray, PackedImages, DiskImages)
        if not isinstance(self.images, held) or self.images.dtype != np.uint8:
            raise DataError(f"{where}: images must be a uint8 array")
        if self.images.ndim not in (3, 4) or len(self.images) == 0:
            raise DataError(
                f"{where}: expected at least one image as N×H×W or N×H×W×C, "
                f"got an array of shape {self.images.shape}"
            )
        if self.images.ndim == 4 and self.images.shape[3] not in (1, 3, 4):
            raise DataError(
                f"{where}: images have {self.images.shape[3]} channels (1, 3 or 4 expected)"
            )
        n = len(self.images)
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if self.labels.shape != (n,):
                raise DataError(
                    f"{where}: {len(self.labels)} labels for {n} images "
                    f"(label array shape {self.labels.shape})"
                )
            self.labels = check_labels(self.labels, where)
            if self.class_names is not None and self.labels.max() >= len(self.class_names):
                raise DataError(
                    f"{where}: label {int(self.labels.max())} is out of range for "
                    f"{len(self.class_names)} class names"
                )
        if self.factors is not None:
            self.factors = np.asarray(self.factors, dtype=np.int64)
            if self.factors.ndim != 2 or len(self.factors) != n:
                raise DataError(f"{where}: factors must be N×K, got shape {self.factors.shape}")

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width), the shape a model sees."""
        h, w = self.images.shape[1:3]
        c = 1 if self.images.ndim == 3 else self.images.shape[3]
        return (c, h, w)

    @property
    def num_classes(self) -> int:
        if self.labels is None:
            return 0
        if self.class_names is not None:
            return len(self.class_names)
        return int(self.labels.max()) + 1

    def subset(self, index: np.ndarray, name: str | None = None) -> Dataset:
        """The images (and their labels/factors) at `index`."""
        lazy = isinstance(self.images, (PackedImages, DiskImages))
        return Dataset(
            images=self.images.take(index) if lazy else self.images[index],
            name=name or self.name,
            labels=None if self.labels is None else self.labels[index],
            class_names=self.class_names,
            factors=None if self.factors is None else self.factors[index],
            factor_names=self.factor_names,
            factor_sizes=self.factor_sizes,
            source=self.source,
        )

    def describe(self) -> dict:
        """Plain-data summary stored in checkpoints and shown in the UI."""
        return {
            "name": self.name,
            "source": self.source,
            "num_images": len(self),
            "image_shape": list(self.image_shape),
            "class_names": self.class_names,
            "factor_names": self.factor_names,
            "factor_sizes": self.factor_sizes,
        }


def check_labels(labels: np.ndarray, where: str) -> np.ndarray:
    """(N,) int64 class indices from a label array (N ≥ 1), or DataError naming `where`:
    whole numbers from 0 to MAX_CLASSES - 1."""
    is_int = labels.dtype.kind in "iu"  # by kind: timedelta64 counts as an integer to NumPy
    if not (is_int or labels.dtype.kind == "f"):
        raise DataError(f"{where}: labels must be integers, got dtype {labels.dtype}")
    if not is_int and not (np.isfinite(labels).all() and np.all(labels == np.round(labels))):
        raise DataError(f"{where}: labels must be whole numbers")
    lo, hi = labels.min(), labels.max()
    if lo < 0:
        raise DataError(f"{where}: labels must be ≥ 0, found {int(lo)}")
    if hi >= MAX_CLASSES:
        raise DataError(
            f"{where}: labels must be class numbers below {MAX_CLASSES:,}, found {int(hi):,}"
        )
    return labels.astype(np.int64)


def check_description(described: object) -> dict:
    """A `Dataset.describe()` read back from a file, its types and sizes checked.

    Raises ConfigError naming the field; unknown keys are dropped (nothing reads them).
    """
    d = checks.mapping(described, "dataset")
    out: dict = {}
    if d.get("name") is not None:
        out["name"] = checks.text(d["name"], "dataset name", 256)
    if d.get("source") is not None:  # a path the window looks for: the OS must accept it
        source = checks.text(d["source"], "dataset source", _PATH_MAX)
        parts = os.fsencode(source).split(b"/")
        if "\0" in source or max(map(len, parts)) > _NAME_MAX:
            raise ConfigError("dataset source is not a usable path")
        out["source"] = source
    if d.get("num_images") is not None:
        out["num_images"] = checks.whole(d["num_images"], "num_images", 1, MAX_DESCRIBED_IMAGES)
    if d.get("image_shape") is not None:
        out["image_shape"] = [
            checks.whole(v, "dataset image_shape", 1, 2**31)
            for v in checks.items(d["image_shape"], "dataset image_shape", 3)
        ]
    for key, most in (("class_names", MAX_CLASSES), ("factor_names", MAX_FACTORS)):
        if d.get(key) is not None:
            out[key] = [checks.text(v, key, 256) for v in checks.items(d[key], key, most)]
    if d.get("factor_sizes") is not None:
        out["factor_sizes"] = [
            checks.whole(v, "factor_sizes", 1, 2**31)
            for v in checks.items(d["factor_sizes"], "factor_sizes", MAX_FACTORS)
        ]
    return out
