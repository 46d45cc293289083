"""NumPy `.npz` / `.npy` files, read without pickle; image and label keys detected."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from explorer.core.data.convert import image_layout, to_uint8_images
from explorer.core.data.dataset import Dataset
from explorer.core.errors import DataError

IMAGE_KEYS = ("x", "images", "x_train", "arr_0", "X", "imgs", "data", "x_test")
LABEL_KEYS = ("y", "labels", "y_train", "targets", "Y", "y_test")


def _read(path: Path, archive: np.lib.npyio.NpzFile | None, key: str | None) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False) if archive is None else archive[key]
    except ValueError as e:  # object arrays need pickle, which we never allow
        what = f"array {key!r}" if key else "the array"
        raise DataError(f"{path}: {what} cannot be read without pickle ({e})") from e
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: damaged or truncated NumPy file ({e})") from e


def load_arrays(path: Path, image_key: str | None = None, label_key: str | None = None) -> Dataset:
    """Images (and labels, when a label array of matching length is present)."""
    if path.suffix == ".npy":
        if image_key or label_key:
            raise DataError(f"{path}: a .npy file holds one array; keys apply to .npz only")
        images = to_uint8_images(_read(path, None, None), str(path))
        return Dataset(images=images, name=path.stem, source=str(path))
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
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
            if chosen is None or image_layout(archive[chosen].shape) is None:
                chosen = next((k for k in keys if image_layout(archive[k].shape)), None)
            if chosen is None:
                shapes = ", ".join(f"{k} {archive[k].shape}" for k in keys) or "nothing"
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
