"""The bad-input matrix: every file a user can point the app at by mistake.

Each case is a file (or folder) the test writes, the reader it goes to, and the words the
message must contain. One table drives three front ends: the core readers (the
project's own error naming the file), the CLI (one line, exit 2, no traceback) and the
window (a dialog; the model and data on screen stay).
"""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from explorer import cli
from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import open_dataset
from explorer.core.errors import ExplorerError

DIGIT = np.zeros((4, 28, 28), np.uint8)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def _idx_claiming_gigabytes(path: Path) -> None:
    """A 30-byte IDX file whose header claims 2,560,000,000 bytes of images."""
    data = b"\0\0\x08\x03" + struct.pack(">3I", 3_265_306, 28, 28) + b"\0" * 14
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def _npz_bomb(path: Path) -> None:
    """A small .npz whose one member unpacks to 64 MB (tests shrink the memory budget)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("x.npy", "w") as f:
        f.write(_npy_header((1024, 256, 256)))
        for _ in range(64):
            f.write(bytes(1 << 20))


def _npz_liar(path: Path) -> None:
    """An .npz member whose header claims a trillion bytes but holds 100."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", _npy_header((10**6, 1000, 1000)) + bytes(100))


def _save(name: str, array: np.ndarray, **more: np.ndarray) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        if name.endswith(".npy"):
            np.save(path, array)
        else:
            np.savez(path, x=array, **more)

    return write


def _folder_without_images(path: Path) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("not an image")
    (path / "fake.png").write_text("not a png either")


@dataclass(frozen=True)
class Case:
    name: str  # the file or folder the test creates
    write: Callable[[Path], None]
    message: str  # what the error must say (besides the file's name)
    checkpoint: bool = False  # opened as a model rather than a dataset


CASES = [
    Case("empty.npy", lambda p: p.write_bytes(b""), "the file is empty"),
    Case("empty.npz", lambda p: p.write_bytes(b""), "the file is empty"),
    Case("empty-images-idx3-ubyte.gz", lambda p: p.write_bytes(b""), "the file is empty"),
    Case("empty.safetensors", lambda p: p.write_bytes(b""), "the file is empty", True),
    Case("folder.safetensors", lambda p: p.mkdir(), "is a folder, not a file", True),
    Case(
        "no images",
        _folder_without_images,
        "no readable images in it (looked for bmp, gif, jpeg, jpg, png, tif, tiff, webp; "
        "1 could not be decoded)",
    ),
    Case("huge-images-idx3-ubyte", _idx_claiming_gigabytes, "promises (3265306, 28, 28)"),
    Case(  # a .gz can only be measured by unpacking it: its claim meets the budget first
        "huge-images-idx3-ubyte.gz",
        _idx_claiming_gigabytes,
        "the IDX array (3265306, 28, 28) needs 2.4 GiB, more than",
    ),
    Case(
        "nan.npy",
        _save("nan.npy", np.where(DIGIT == 0, np.nan, 1.0)),
        "3136 pixel values are NaN or infinite",
    ),
    Case(
        "range.npy", _save("range.npy", DIGIT.astype(float) - 5), "pixel values run from -5 to -5"
    ),
    Case(
        "labels.npz",
        _save("labels.npz", DIGIT, y=np.array([0, 1, 2, 2**40])),
        "labels must be class numbers below 10,000, found 1,099,511,627,776",
    ),
    Case("bomb.npz", _npz_bomb, "needs 0.1 GiB, more than the 0.0 GiB this machine can spare"),
    Case("liar.npz", _npz_liar, "declares an array of shape (1000000, 1000, 1000)"),
    Case("liar.npy", lambda p: p.write_bytes(_npy_header((10**9, 9)) + bytes(9)), "damaged"),
]


@pytest.fixture
def small_memory(monkeypatch):
    """A machine that can spare 32 MB for a dataset array (so a bomb stays test-sized)."""
    monkeypatch.setattr("explorer.core.files.memory_budget", lambda: 32 << 20)


def make(case: Case, folder: Path) -> Path:
    path = folder / "données et espaces" / case.name  # unicode and spaces in every path
    path.parent.mkdir(exist_ok=True)
    case.write(path)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_readers_refuse_with_the_file_and_the_problem(case, tmp_path, small_memory):
    path = make(case, tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(ExplorerError) as err:
            (load_checkpoint if case.checkpoint else open_dataset)(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(err.value) and case.message in str(err.value)
    assert peak < 40 << 20  # no reader allocated what a lying header asked for


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_cli_says_it_in_one_line(case, tmp_path, small_memory, capsys):
    path = make(case, tmp_path)
    if case.checkpoint:
        argv = ["evaluate", str(path), "--dataset", "digits", "--count", "10"]
    else:
        argv = ["train", "--dataset", str(path), "--epochs", "1", "--out", str(tmp_path / "m")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}") and case.message in err[0]


def test_the_window_shows_each_and_keeps_what_it_had(qtbot, window, tmp_path, small_memory):
    from PySide6.QtWidgets import QMessageBox

    model, dataset, codes = window.session.model, window.session.dataset, window.session.codes
    for case in CASES:
        path = make(case, tmp_path)
        with qtbot.waitSignal(window.errorShown, timeout=10_000) as shown:
            if case.checkpoint:
                window.open_checkpoint(path)
            else:
                window.open_dataset(path)
        assert str(path) in shown.args[0] and case.message in shown.args[0], case.name
        for box in window.findChildren(QMessageBox):
            box.close()
    s = window.session
    assert (s.model, s.dataset, s.codes) == (model, dataset, codes)


def test_no_permission_to_read(tmp_path, monkeypatch):
    """Permissions are not enforced for root (CI), so the OS's refusal is simulated."""
    path = tmp_path / "secret.npz"
    np.savez(path, x=DIGIT)
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    with pytest.raises(ExplorerError, match=r"secret\.npz: no permission to read it"):
        open_dataset(path)


def test_a_one_image_dataset_opens_and_trains(qtbot, window, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    np.save(tmp_path / "one.npy", DIGIT[:1] + 200)
    window.open_dataset(tmp_path / "one.npy")
    qtbot.waitUntil(
        lambda: window.session.dataset.name == "one" and window.session.codes is not None
    )
    assert window.session.codes.shape == (1, 2)
    window.panel.epochs_spin.setValue(2)
    with qtbot.waitSignal(window.trainer.finished, timeout=30_000) as done:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "completed"
