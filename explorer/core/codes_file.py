"""The dataset's codes as a file: posterior means, log-variances, labels and factors.

All of a dataset's images, or a selection of them (the `index` column names each row's
image). Two formats, chosen by the file's suffix:
- `.csv`: one row per image, columns `index, label, <factor>…, mu0…, logvar0…`, floats
  written with 9 significant digits so float32 values read back exactly;
- `.npy`: one structured array (fields `index`, `label`, `factors`, `mu`, `logvar`) that
  `np.load(path)` opens without pickles.
Files are written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.core.data.dataset import Dataset
from explorer.core.errors import ExplorerError
from explorer.core.files import atomic_write

FORMATS = (".csv", ".npy")


def save_codes(
    path: str | Path,
    mu: np.ndarray,
    logvar: np.ndarray,
    dataset: Dataset,
    index: np.ndarray | None = None,
) -> Path:
    """Write the codes mu, logvar: (n, d) of `dataset`'s images `index` (n,) (None: all of
    them, n = N, in order); raises ExplorerError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExplorerError(f"{path}: codes are saved as .csv or .npy, not '{path.suffix}'")
    n = len(dataset)
    index = np.arange(n) if index is None else np.asarray(index, np.int64)
    labels = dataset.labels[index] if dataset.labels is not None else np.full(len(index), -1)
    factors = (
        dataset.factors[index]
        if dataset.factors is not None
        else np.zeros((len(index), 0), np.int64)
    )
    try:
        with atomic_write(path) as tmp:
            if suffix == ".csv":
                _write_csv(tmp, index, mu, logvar, labels, factors, dataset.factor_names or [])
            else:
                _write_npy(tmp, index, mu, logvar, labels, factors)
    except OSError as e:
        raise ExplorerError(f"{path}: could not save the codes ({e.strerror or e})") from e
    return path


def _write_csv(tmp, index, mu, logvar, labels, factors, factor_names) -> None:
    d = mu.shape[1]
    header = (
        ["index", "label"]
        + list(factor_names)
        + [f"mu{i}" for i in range(d)]
        + [f"logvar{i}" for i in range(d)]
    )
    ints = np.column_stack([index, labels, factors]).astype(np.int64)
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for whole, m, lv in zip(ints, mu, logvar, strict=True):
            row = [str(v) for v in whole] + [f"{v:.9g}" for v in np.concatenate([m, lv])]
            f.write(",".join(row) + "\n")


def _write_npy(tmp, index, mu, logvar, labels, factors) -> None:
    n, d = mu.shape
    dtype = [
        ("index", np.int64),
        ("label", np.int64),
        ("factors", np.int64, (factors.shape[1],)),
        ("mu", np.float32, (d,)),
        ("logvar", np.float32, (d,)),
    ]
    table = np.zeros(n, dtype=dtype)
    table["index"], table["label"] = index, labels
    table["factors"], table["mu"], table["logvar"] = factors, mu, logvar
    with open(tmp, "wb") as f:
        np.save(f, table, allow_pickle=False)
