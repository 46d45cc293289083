"""Opening a dataset in the real window: the encode's count on the busy indicator while
the window stays usable, a superseded encode stopped, and the codes of a checkpoint +
dataset pair read from the disk cache on the next open (a corrupt file rebuilt)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from explorer.core import codes_cache
from explorer.core.codes_cache import Cancelled, CodesCache
from explorer.core.data import make_digits
from explorer.ui.workers import running_tasks
from tests.gui import expected_image, hover


@pytest.fixture
def files(tmp_path):
    """Two dataset files of digits (300 and 200 images), as a user's .npy files."""
    paths = []
    for n, seed in ((300, 3), (200, 4)):
        path = tmp_path / f"digits{n}.npy"
        np.save(path, make_digits(n, seed=seed).images)
        paths.append(path)
    return paths


class Encodes:
    """The window's encodes, counted; `hold` makes the next ones wait for `release`
    halfway (having said so through their progress), as a slow encode would."""

    def __init__(self, monkeypatch):
        self.calls: list[int] = []  # images of each encode started
        self.cancelled: list[int] = []
        self.hold = False
        self.gate = threading.Event()
        real = codes_cache.encode

        def encode(model, images, labels=None, progress=None):
            self.calls.append(len(images))
            try:
                if self.hold:
                    progress("Encoding", 0.5)
                    self.gate.wait(30)
                    progress("Encoding", 0.5)  # (a stop is heard here)
                return real(model, images, labels, progress=progress)
            except Cancelled:
                self.cancelled.append(len(images))
                raise

        monkeypatch.setattr(codes_cache, "encode", encode)

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def encodes(monkeypatch, window, tmp_path):
    window.encoder.codes_cache = CodesCache(tmp_path / "cache")  # this test's own
    counted = Encodes(monkeypatch)
    yield counted
    counted.release()  # (a failed test leaves no encode waiting)


def opened(qtbot, window, path, n: int) -> None:
    """Open the dataset file `path` and wait for its n codes on the plot."""
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        window.open_dataset(path)
    assert len(window.session.codes) == n


def test_a_slow_encode_shows_its_count_and_the_window_responds(window, qtbot, files, encodes):
    encodes.hold = True
    window.open_dataset(files[0])
    busy = window.busy
    qtbot.waitUntil(lambda: busy.text() == "Encoding 150 of 300 images… 50%", timeout=10_000)
    assert busy.isVisible()
    # meanwhile the plot shows what it can (nothing of this data yet) and hovering decodes
    view = window.latent_view
    for pos in (QPoint(120, 140), QPoint(260, 200)):
        hover(qtbot, window, pos)
        shown = window.decoder_view.pixels / 255
        np.testing.assert_allclose(shown, expected_image(window, window.session.z), atol=1 / 255)
    assert view.isEnabled() and window.session.codes is None
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        encodes.release()
    assert len(window.session.codes) == 300
    qtbot.waitUntil(lambda: not busy.isVisible())


def test_opening_something_else_stops_the_running_encode(window, qtbot, files, encodes):
    encodes.hold = True
    window.open_dataset(files[0])
    qtbot.waitUntil(lambda: encodes.calls == [300], timeout=10_000)
    encodes.hold = False
    opened(qtbot, window, files[1], 200)  # the second, while the first still waits
    encodes.release()
    qtbot.waitUntil(lambda: encodes.cancelled == [300], timeout=10_000)
    # its thread ends, and what it sends is dropped
    qtbot.waitUntil(lambda: not any("encode_pair" in t for t in running_tasks()))
    QApplication.processEvents()
    assert len(window.session.codes) == 200  # the first never lands
    assert not window.busy.isVisible()


def test_the_second_open_of_a_pair_reads_its_codes(window, qtbot, files, encodes):
    opened(qtbot, window, files[0], 300)
    first = window.session.codes.copy()
    opened(qtbot, window, files[1], 200)
    assert encodes.calls == [300, 200]
    opened(qtbot, window, files[0], 300)  # again: from the disk, not encoded
    assert encodes.calls == [300, 200]
    np.testing.assert_array_equal(window.session.codes, first)
    assert "read from the cache" in window.statusBar().currentMessage()


def test_a_corrupt_cache_file_is_rebuilt(window, qtbot, files, encodes, tmp_path):
    opened(qtbot, window, files[0], 300)
    first = window.session.codes.copy()
    (cached,) = (tmp_path / "cache").iterdir()
    cached.write_bytes(cached.read_bytes()[:1000])  # cut short (a crash, a full disk)
    opened(qtbot, window, files[1], 200)
    opened(qtbot, window, files[0], 300)
    assert encodes.calls == [300, 200, 300]  # encoded again, no crash
    np.testing.assert_array_equal(window.session.codes, first)
    opened(qtbot, window, files[1], 200)
    opened(qtbot, window, files[0], 300)
    assert encodes.calls == [300, 200, 300]  # and kept again
