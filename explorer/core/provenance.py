"""Whether a model is shown over the data it was trained on, and how to say it is not.

A checkpoint records its training data (`Dataset.describe()`: name, source, size, image
shape). The same data is recognised by its name (a built-in's, or the file's or
folder's) and image shape, and by being built-in or from a file; not by its path,
which differs between the machine that trained and the one that shows, nor by its
count (20,000 of the built-in digits are the same data as 5,000 of them).
"""

from __future__ import annotations

from pathlib import Path

from explorer.core.data.dataset import Dataset


def _built_in(described: dict) -> bool:
    return described.get("source") is None


def _said(described: dict) -> str:
    """A dataset as a reader knows it: "sprites (50,000 images, 64×64)"."""
    name = described.get("name") or "unnamed data"
    if not _built_in(described):
        name = Path(str(described["source"])).name
    details = []
    if described.get("num_images"):
        details.append(f"{described['num_images']:,} images")
    shape = described.get("image_shape")
    if shape and len(shape) == 3:
        c, h, w = shape
        details.append(f"{w}×{h}" + (f"×{c}" if c > 1 else ""))
    return f"{name} ({', '.join(details)})" if details else name


def other_data(trained_on: dict, shown: Dataset) -> str | None:
    """None when `shown` is the data described by `trained_on` (or that is unknown: an
    empty description); else one line naming both."""
    if not trained_on or not trained_on.get("name"):
        return None
    here = shown.describe()
    same = (
        trained_on["name"] == here["name"]
        and _built_in(trained_on) == _built_in(here)
        and list(trained_on.get("image_shape") or here["image_shape"]) == here["image_shape"]
    )
    if same:
        return None
    return (
        f"Model trained on other data: {_said(trained_on)}, shown over {_said(here)}; "
        "its codes may mean little here."
    )
