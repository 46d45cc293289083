"""The codes of a checkpoint + dataset pair kept on disk, so that opening the same pair
again shows its plot without encoding a million images again.

A pair is known by the checkpoint's content (a SHA-256 of the file, so a file rewritten
in place is another model), how the model was read (a model from elsewhere may be read
with other adapters), the dataset file as it is now (resolved path, size, mtime), the
labels a conditional model encodes with, and CODE_VERSION (raise it when encoding
changes what it returns). Only datasets read from a single file are kept: a generated
one is drawn again in seconds, and a folder's contents change without its own size or
time telling.

The files live in the user's cache folder (platformdirs), one per pair: a header (magic,
the pair's digest, N, d) and then the means and log-variances, float32 (N, d) each. A file
is written under a temporary name and renamed, so a crash leaves no half file; the folder
is kept under a size limit by deleting the files used longest ago. A file whose header
does not match the pair, the dataset's size or the model's latent size, or whose length
is not what the header says, is deleted and the codes encoded again: the cache can only
ever cost an encode, never a crash or wrong codes of another size.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
import torch

from explorer.core.metrics import encode
from explorer.core.model import LatentModel
from explorer.core.progress import Reporter, quiet

log = logging.getLogger(__name__)

CODE_VERSION = 1  # what encoding returns; a new version leaves the old files unused
DEFAULT_LIMIT = 2 << 30  # bytes the cache folder may hold (a million 10-D codes take 80 MB)
_MAGIC = b"LXCODES1"
_HEADER = struct.Struct("<8s32sQQ")  # magic, digest of the pair, N, d
_SUFFIX = ".codes"


def cache_folder() -> Path:
    return Path(platformdirs.user_cache_dir("LatentExplorer", appauthor=False)) / "codes"


class Cancelled(Exception):
    """The encode was stopped: something else was opened."""


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's content, read a MB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def dataset_identity(source: str | None) -> tuple[str, int, int] | None:
    """A dataset file as it is now: (resolved path, size, mtime in ns); None for a
    generated dataset, a folder or a file that is gone."""
    if source is None:
        return None
    try:
        path = Path(source).resolve()
        st = path.stat()
    except (OSError, ValueError):
        return None
    if not path.is_file():
        return None
    return str(path), st.st_size, st.st_mtime_ns


@dataclass(frozen=True)
class PairKey:
    """What a pair's codes depend on."""

    checkpoint: str  # SHA-256 of the model file
    how: str  # how the model was read from it
    dataset: tuple[str, int, int]  # dataset_identity
    labels: str = ""  # SHA-256 of the labels a conditional model encodes with, else ""

    def digest(self) -> bytes:
        text = json.dumps([CODE_VERSION, self.checkpoint, self.how, self.dataset, self.labels])
        return hashlib.sha256(text.encode()).digest()


class CodesCache:
    """A folder of codes files, at most `limit` bytes."""

    def __init__(self, folder: Path | None = None, limit: int = DEFAULT_LIMIT):
        self.folder = cache_folder() if folder is None else Path(folder)
        self.limit = limit
        self._lock = threading.Lock()  # one writer at a time in this process

    def _path(self, key: PairKey) -> Path:
        return self.folder / (key.digest().hex()[:40] + _SUFFIX)

    def get(self, key: PairKey, n: int, d: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The pair's codes (mu, logvar), (n, d) float32 each, or None (not kept, or a file
        that does not hold them: deleted, so it is written anew)."""
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                header = f.read(_HEADER.size)
                problem = self._check(header, key, n, d, os.fstat(f.fileno()).st_size)
                if problem is None:
                    codes = np.fromfile(f, dtype="<f4", count=2 * n * d)
        except FileNotFoundError:
            return None
        except OSError as e:
            log.warning("codes cache %s: unreadable (%s); encoding again", path, e)
            return None
        if problem is None and codes.size != 2 * n * d:
            problem = "shorter than its header says"
        if problem is not None:
            log.warning("codes cache %s: %s; encoding again", path, problem)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used now: the last to be evicted
        codes = codes.astype(np.float32, copy=False).reshape(2, n, d)
        return codes[0], codes[1]

    @staticmethod
    def _check(header: bytes, key: PairKey, n: int, d: int, size: int) -> str | None:
        """What is wrong with a file of `size` bytes starting with `header`, or None."""
        if len(header) < _HEADER.size:
            return "shorter than a header"
        magic, digest, file_n, file_d = _HEADER.unpack(header)
        if magic != _MAGIC:
            return "not a codes file"
        if digest != key.digest():
            return "the codes of another pair"
        if (file_n, file_d) != (n, d):
            return f"codes of {file_n} × {file_d}, not {n} × {d}"
        if size != _HEADER.size + 2 * n * d * 4:
            return f"{size} bytes, not the {_HEADER.size + 2 * n * d * 4} its header says"
        return None

    def put(self, key: PairKey, mu: np.ndarray, logvar: np.ndarray) -> None:
        """Keep the pair's codes (N, d) each; a failure to write is logged, not raised (the
        cache only saves time)."""
        path = self._path(key)
        n, d = mu.shape
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(temp, "wb") as f:
                f.write(_HEADER.pack(_MAGIC, key.digest(), n, d))
                f.write(np.ascontiguousarray(mu, "<f4").tobytes())
                f.write(np.ascontiguousarray(logvar, "<f4").tobytes())
            os.replace(temp, path)
        except OSError as e:
            log.warning("codes cache %s: not written (%s)", path, e)
            temp.unlink(missing_ok=True)
            return
        self._evict(keep=path)

    def _evict(self, keep: Path) -> None:
        """Delete the files used longest ago until the folder is within the limit."""
        with self._lock:
            files = []
            for p in self.folder.iterdir():
                try:
                    files.append((p.stat().st_mtime_ns, p.stat().st_size, p))
                except OSError:
                    continue
            total = sum(size for _, size, _ in files)
            for _, size, p in sorted(files):
                if total <= self.limit:
                    break
                if p != keep:
                    p.unlink(missing_ok=True)
                    total -= size


def _counting(progress: Reporter, n: int, stop: threading.Event | None) -> Reporter:
    """A reporter for `encode` that says how many images are done (at most every
    hundredth of them, so the busy indicator is not flooded) and raises Cancelled once
    `stop` is set."""
    last = [-1.0]

    def report(what: str, fraction: float | None) -> None:
        if stop is not None and stop.is_set():
            raise Cancelled
        if fraction is None or fraction - last[0] >= 0.01 or fraction == 1.0:
            last[0] = fraction if fraction is not None else last[0]
            done = round((fraction or 0.0) * n)
            progress(f"Encoding {done:,} of {n:,} images", fraction)

    return report


@dataclass(frozen=True)
class Encoded:
    mu: np.ndarray  # (N, d) posterior means
    logvar: np.ndarray  # (N, d) their log-variances
    cached: bool  # read from the cache, not encoded


def encode_pair(
    model: LatentModel,
    images: torch.Tensor,
    labels: torch.Tensor | None,
    checkpoint: str | Path | None,
    how: str,
    dataset_source: str | None,
    cache: CodesCache | None,
    stop: threading.Event | None = None,
    progress: Reporter = quiet,
) -> Encoded:
    """The codes of uint8 images (N, C, H, W) (labels (N,) for a cvae) under `model`,
    read from `cache` when the pair (the model's file `checkpoint`, read `how`, and the
    dataset file `dataset_source`) was encoded before, else encoded and kept there.
    Raises Cancelled when `stop` is set during the encode."""
    key = None
    identity = dataset_identity(dataset_source)
    n, d = len(images), model.config.latent_dim
    if cache is not None and checkpoint is not None and identity is not None:
        progress("Looking for the codes of this model and data", None)
        try:
            labels_digest = (
                "" if labels is None else hashlib.sha256(labels.numpy().tobytes()).hexdigest()
            )
            key = PairKey(file_digest(checkpoint), how, identity, labels_digest)
        except OSError as e:  # the model's file is gone or unreadable: nothing to key on
            log.warning("codes cache: %s not read (%s)", checkpoint, e)
        if key is not None:
            hit = cache.get(key, n, d)
            if hit is not None:
                return Encoded(*hit, cached=True)
    mu, logvar = encode(model, images, labels, progress=_counting(progress, n, stop))
    if key is not None:
        cache.put(key, mu, logvar)
    return Encoded(mu, logvar, cached=False)
