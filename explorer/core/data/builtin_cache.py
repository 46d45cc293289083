"""Built-in datasets kept on disk once drawn, so that a start need not draw them again.

The app opens on 20,000 generated digits; drawing them is a large part of a start, on
the way to the first scatter, and reading them back is not (`scripts/bench_ui.py --only
cold_start` times the first start, which draws them, and later ones, which read them). A
file's name holds the dataset, count and seed, and a hash of the generators' source and
of the NumPy and torch versions that drew it: a changed generator never serves old
images. Files live in the user's cache folder (platformdirs: ~/.cache/LatentExplorer on
Linux).

The cache can only save time: a file that cannot be read is drawn again and replaced,
one that cannot be written is skipped, files of earlier versions are deleted, and
datasets over _MAX_BYTES are not kept (the full sprites grid, 360 MB packed, would take
more disk than the seconds it saves are worth).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import platformdirs
import torch

from explorer.core.data.dataset import Dataset
from explorer.core.data.packed import PackedImages
from explorer.core.errors import DataError
from explorer.core.files import atomic_write, check_readable_file
from explorer.core.progress import Reporter, quiet

log = logging.getLogger(__name__)

_MAX_BYTES = 64 * 2**20  # the largest dataset kept (images, labels and factors)
# what a generated dataset depends on, besides NumPy and torch (this file: the format)
_SOURCES = ("digits.py", "sprites.py", "render.py", "packed.py", "builtin_cache.py")


def cache_folder() -> Path:
    return Path(platformdirs.user_cache_dir("LatentExplorer", appauthor=False)) / "datasets"


@functools.cache
def _version() -> str:
    """A short hash of what the generators' output depends on."""
    h = hashlib.sha256(f"numpy {np.__version__} torch {torch.__version__}".encode())
    for name in _SOURCES:
        h.update((Path(__file__).parent / name).read_bytes())
    return h.hexdigest()[:16]


def cached(
    make: Callable[[int, int, Callable[[float], None]], Dataset],
    name: str,
    count: int,
    seed: int,
    progress: Reporter = quiet,
) -> Dataset:
    """`make(count, seed, progress=...)`, read from the cache when it was drawn before."""
    path = cache_folder() / f"{name}-{count}-{seed}-{_version()}.npz"
    if path.exists():
        progress(f"Reading {count:,} {name} from the cache", None)
    try:
        if path.exists():  # else not drawn yet
            check_readable_file(path, DataError)  # a FIFO there would block np.load
            return _read(path, name)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, DataError) as e:
        log.warning("%s: unreadable cached dataset, drawing it again (%s)", path, e)
    what = f"Drawing {count:,} {name}"
    dataset = make(count, seed, progress=lambda fraction: progress(what, fraction))
    arrays = _arrays(dataset)
    if sum(a.nbytes for a in arrays.values()) <= _MAX_BYTES:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **arrays)
            for old in path.parent.glob("*.npz"):  # drawn by an earlier version: never read
                if not old.name.endswith(f"-{_version()}.npz"):
                    old.unlink(missing_ok=True)
        except OSError as e:
            log.warning("%s: cannot keep the dataset drawn (%s)", path, e)
    return dataset


def _arrays(data: Dataset) -> dict[str, np.ndarray]:
    """A generated dataset's fields as arrays (no pickled objects: np.load never runs
    code from a cache file)."""
    out: dict[str, np.ndarray] = {}
    if isinstance(data.images, PackedImages):
        out["bits"], out["packed_shape"] = data.images.bits, np.array(data.images.shape)
    else:
        out["images"] = data.images
    fields = ("labels", "class_names", "factors", "factor_names", "factor_sizes")
    for key in fields:
        value = getattr(data, key)
        if value is not None:
            out[key] = np.asarray(value)
    return out


def _read(path: Path, name: str) -> Dataset:
    with np.load(path, allow_pickle=False) as z:
        if "bits" in z:
            images = PackedImages(z["bits"], tuple(z["packed_shape"].tolist()))
        else:
            images = z["images"]
        names = ("class_names", "factor_names", "factor_sizes")
        lists = {k: z[k].tolist() for k in names if k in z}
        arrays = {k: z[k] for k in ("labels", "factors") if k in z}
    return Dataset(images=images, name=name, **arrays, **lists)
