"""A folder of images; sub-folder names become class labels.

Images are read in two passes. The first opens each file's header only (Pillow reads
no pixels until asked): each image's size is bounded, all must share one size, and
the decoded total must fit the memory budget, so a small file claiming a huge picture
is refused before it is decoded. The second decodes into one preallocated array.

Pixels become 8-bit: 16-bit greys (Pillow's modes I;16*, and I for 32-bit integers)
are scaled from 0..65535, float images (mode F) from 0..1, and images with an alpha
channel are composited onto black (the background of the built-in data), so a
transparent pixel reads as background whatever colour it hides.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from explorer.core.data.dataset import Dataset
from explorer.core.errors import DataError
from explorer.core.files import check_memory

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
# Pixels of one image. Pillow's own bomb check refuses only above 179 M; a model can be
# built for at most 1024×1024 (config.MAX_IMAGE_SIDE), so this leaves room to spare.
MAX_IMAGE_PIXELS = 8192 * 8192
_SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_ALPHA = ("LA", "La", "PA", "RGBA", "RGBa")


class _Unusable(Exception):
    """An image whose pixels cannot be read as 8-bit: named in the folder's message."""


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _groups(path: Path, skipped: list[str]) -> list[tuple[str, list[Path]]]:
    """(class name, image files) per sub-folder with images, else [("", the folder's)].

    A sub-folder that cannot be listed is skipped and counted in `skipped`, like an
    image that cannot be decoded; the folder itself must be listable."""
    try:
        classes = sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    except OSError as e:
        raise DataError(f"{path}: cannot list folder ({e.strerror or e})") from e
    groups = []
    for d in classes:
        try:
            files = _image_files(d)
        except OSError:
            skipped.append(str(d))
            continue
        if files:
            groups.append((d.name, files))
    if groups:
        return groups
    try:
        return [("", _image_files(path))]
    except OSError as e:
        raise DataError(f"{path}: cannot list folder ({e.strerror or e})") from e


def _rgb(im: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 pixels of an opened image, whatever its mode."""
    if im.mode in _SIXTEEN_BIT or im.mode == "F":
        values = np.asarray(im).astype(np.float64)
        top = 1.0 if im.mode == "F" else 65535.0
        if not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= top):
            raise _Unusable(
                f"{im.mode} pixels run from {values.min():g} to {values.max():g}, "
                f"expected 0..{top:g}"
            )
        grey = np.rint(values * (255.0 / top)).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if im.mode in _ALPHA or (im.mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint16)
        return ((rgba[..., :3] * rgba[..., 3:] + 127) // 255).astype(np.uint8)
    return np.asarray(im.convert("RGB"))


def _no_images(path: Path, skipped: list[str]) -> DataError:
    kinds = ", ".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
    broken = f"; {len(skipped)} could not be decoded" if skipped else ""
    return DataError(f"{path}: a folder with no readable images in it (looked for {kinds}{broken})")


def load_folder(path: Path) -> Dataset:
    """All images in `path`, or in its sub-folders (one class each) when it has them.

    Files with an image suffix that do not decode (and sub-folders that cannot be
    listed) are skipped and listed in `dataset.extra["skipped"]`, so one damaged file
    does not cost the whole folder; front ends report the count. Images of different
    sizes, images over MAX_IMAGE_PIXELS and sets over the memory budget are refused.
    """
    skipped: list[str] = []
    groups = _groups(path, skipped)
    found: list[tuple[Path, int]] = []  # (file, class index) of every readable header
    first_of_size: dict[tuple[int, int], Path] = {}
    for label, (_, files) in enumerate(groups):
        for f in files:
            try:
                with warnings.catch_warnings():  # its size is bounded here, below
                    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                    with Image.open(f) as im:
                        w, h = im.size
            except Exception:  # Pillow reports damage as OSError, SyntaxError, ValueError,
                # DecompressionBombError and more (found by fuzzing): skip and count it
                skipped.append(str(f))
                continue
            if w * h > MAX_IMAGE_PIXELS:
                raise DataError(
                    f"{f}: an image of {w:,}×{h:,} pixels, more than the "
                    f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels an image may have"
                )
            first_of_size.setdefault((w, h), f)
            if len(first_of_size) > 1:
                (s1, f1), (s2, f2) = list(first_of_size.items())[:2]
                raise DataError(
                    f"{path}: images differ in size: {f1.name} is {s1[0]}×{s1[1]}, "
                    f"{f2.name} is {s2[0]}×{s2[1]}; resize them to one size first"
                )
            found.append((f, label))
    if not found:
        raise _no_images(path, skipped)
    (w, h), n = next(iter(first_of_size)), len(found)
    check_memory(n * h * w * 3, str(path), f"{n:,} images of {w}×{h}", DataError)
    images = np.empty((n, h, w, 3), dtype=np.uint8)
    labels: list[int] = []
    grey = True
    for f, label in found:
        try:
            with Image.open(f) as im:
                pixels = _rgb(im)
        except _Unusable as e:
            raise DataError(f"{f}: {e}") from e
        except Exception:  # damage past the header: skipped like an unreadable header
            skipped.append(str(f))
            continue
        if pixels.shape != (h, w, 3):  # a header that lied about the size
            skipped.append(str(f))
            continue
        images[len(labels)] = pixels
        grey = grey and bool((pixels == pixels[..., :1]).all())
        labels.append(label)
    if not labels:
        raise _no_images(path, skipped)
    images = images[: len(labels)]
    if grey:  # grey stored as RGB: keep one channel
        images = np.ascontiguousarray(images[..., 0])
    labelled = groups[0][0] != ""
    return Dataset(
        images=images,
        name=path.name,
        labels=np.array(labels, dtype=np.int64) if labelled else None,
        class_names=[name for name, _ in groups] if labelled else None,
        source=str(path),
        extra={"skipped": skipped} if skipped else {},
    )
