"""A folder of images; sub-folder names become class labels.

Images are read in two passes. The first opens each file's header only (Pillow reads
no pixels until asked): each image's size is bounded, all must share one size, and
the decoded total must fit the memory budget, so a small file claiming a huge picture
is refused before it is decoded. The second decodes into one preallocated array.

Pixels become 8-bit as `decode` does it for every loader of encoded images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.core.data.dataset import Dataset
from explorer.core.data.decode import (
    Unusable,
    check_size,
    one_channel_if_grey,
    opened,
    rgb_pixels,
)
from explorer.core.errors import DataError
from explorer.core.files import check_memory

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


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
                with opened(f) as im:  # its size is bounded here, below
                    w, h = im.size
            except Exception:  # Pillow reports damage as OSError, SyntaxError, ValueError,
                # DecompressionBombError and more (found by fuzzing): skip and count it
                skipped.append(str(f))
                continue
            check_size(w, h, str(f))
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
            with opened(f) as im:
                pixels = rgb_pixels(im)
        except Unusable as e:
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
    images = one_channel_if_grey(images[: len(labels)], grey)
    labelled = groups[0][0] != ""
    return Dataset(
        images=images,
        name=path.name,
        labels=np.array(labels, dtype=np.int64) if labelled else None,
        class_names=[name for name, _ in groups] if labelled else None,
        source=str(path),
        extra={"skipped": skipped} if skipped else {},
    )
