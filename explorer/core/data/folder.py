"""A folder of images; sub-folder names become class labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from explorer.core.data.dataset import Dataset
from explorer.core.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def load_folder(path: Path) -> Dataset:
    """All images in `path`, or in its sub-folders (one class each) when it has them.

    Files with an image suffix that do not decode are skipped and listed in
    `dataset.extra["skipped"]`, so one damaged file does not cost the whole folder;
    front ends report the count. Images of different sizes are refused.
    """
    try:
        classes = sorted(d for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
        groups = [(d.name, _image_files(d)) for d in classes]
        groups = [(name, files) for name, files in groups if files]
        if not groups:
            groups = [("", _image_files(path))]
    except OSError as e:
        raise DataError(f"{path}: cannot list folder ({e.strerror or e})") from e
    pixels: list[np.ndarray] = []
    labels: list[int] = []
    skipped: list[str] = []
    first_of_size: dict[tuple[int, ...], Path] = {}
    for label, (_, files) in enumerate(groups):
        for f in files:
            try:
                with Image.open(f) as im:
                    rgb = np.asarray(im.convert("RGB"))
            except Exception:  # Pillow reports damage as OSError, SyntaxError, ValueError,
                # DecompressionBombError and more (found by fuzzing): skip and count it
                skipped.append(str(f))
                continue
            first_of_size.setdefault(rgb.shape, f)
            if len(first_of_size) > 1:
                (s1, f1), (s2, f2) = list(first_of_size.items())[:2]
                raise DataError(
                    f"{path}: images differ in size: {f1.name} is {s1[1]}×{s1[0]}, "
                    f"{f2.name} is {s2[1]}×{s2[0]}; resize them to one size first"
                )
            pixels.append(rgb)
            labels.append(label)
    if not pixels:
        kinds = ", ".join(sorted(s.lstrip(".") for s in IMAGE_SUFFIXES))
        broken = f"; {len(skipped)} could not be decoded" if skipped else ""
        raise DataError(
            f"{path}: a folder with no readable images in it (looked for {kinds}{broken})"
        )
    images = np.stack(pixels)
    if (images == images[..., :1]).all():  # grey stored as RGB: keep one channel
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
