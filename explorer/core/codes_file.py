"""The dataset's codes as a file: posterior means, log-variances, labels and factors.

Two formats, chosen by the file's suffix:
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


def save_codes(path: str | Path, mu: np.ndarray, logvar: np.ndarray, dataset: Dataset) -> Path:
    """Write the codes mu, logvar: (N, d) of `dataset`'s images; raises ExplorerError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExplorerError(f"{path}: codes are saved as .csv or .npy, not '{path.suffix}'")
    n = len(mu)
    labels = dataset.labels if dataset.labels is not None else np.full(n, -1)
    factors = dataset.factors if dataset.factors is not None else np.zeros((n, 0), np.int64)
    try:
        with atomic_write(path) as tmp:
            if suffix == ".csv":
                _write_csv(tmp, mu, logvar, labels, factors, dataset.factor_names or [])
            else:
                _write_npy(tmp, mu, logvar, labels, factors)
    except OSError as e:
        raise ExplorerError(f"{path}: could not save the codes ({e.strerror or e})") from e
    return path


def _write_csv(tmp, mu, logvar, labels, factors, factor_names) -> None:
    d = mu.shape[1]
    header = (
        ["index", "label"]
        + list(factor_names)
        + [f"mu{i}" for i in range(d)]
        + [f"logvar{i}" for i in range(d)]
    )
    ints = np.column_stack([np.arange(len(mu)), labels, factors]).astype(np.int64)
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for whole, m, lv in zip(ints, mu, logvar, strict=True):
            row = [str(v) for v in whole] + [f"{v:.9g}" for v in np.concatenate([m, lv])]
            f.write(",".join(row) + "\n")


def _write_npy(tmp, mu, logvar, labels, factors) -> None:
    n, d = mu.shape
    dtype = [
        ("index", np.int64),
        ("label", np.int64),
        ("factors", np.int64, (factors.shape[1],)),
        ("mu", np.float32, (d,)),
        ("logvar", np.float32, (d,)),
    ]
    table = np.zeros(n, dtype=dtype)
    table["index"], table["label"] = np.arange(n), labels
    table["factors"], table["mu"], table["logvar"] = factors, mu, logvar
    with open(tmp, "wb") as f:
        np.save(f, table, allow_pickle=False)
