"""Shared fixtures. Qt runs offscreen: set before any test imports Qt."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
import torch

from explorer.core.data import Dataset

# Small thread counts keep the suite quick and stable on 2-core CI machines.
torch.set_num_threads(2)

# Logs (and anything else platformdirs places) go to a throw-away folder, never the
# user's own; subprocesses inherit it.
_USER_DIRS = tempfile.mkdtemp(prefix="explorer-tests-")
atexit.register(shutil.rmtree, _USER_DIRS, ignore_errors=True)
for _var in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
    os.environ[_var] = os.path.join(_USER_DIRS, _var.lower())

# Where py-spy is installed (CI), a watchdog process dumps the native stacks of this one
# when a test runs longer than this (.ci/hang_watch.py); faulthandler_timeout's Python
# frames come first.
_HANG_DUMP_S = 150
_progress = Path(_USER_DIRS) / "test-in-progress"  # the test running, rewritten at each start
_watcher: subprocess.Popen | None = None


def pytest_configure(config):
    global _watcher
    if shutil.which("py-spy") is None:
        return
    _progress.write_text("(collecting)")
    watch = Path(__file__).parents[1] / ".ci" / "hang_watch.py"
    args = [str(os.getpid()), str(_progress), str(_HANG_DUMP_S)]
    _watcher = subprocess.Popen([sys.executable, str(watch), *args])


def pytest_runtest_logstart(nodeid, location):
    if _watcher is not None:
        _progress.write_text(nodeid)


def pytest_unconfigure(config):
    if _watcher is not None:
        _watcher.terminate()
        _watcher.wait()


@pytest.fixture(autouse=True)
def _no_log_file_left_behind():
    """A test that set up the log file (the CLI in-process does) leaves none for the next."""
    yield
    logger = logging.getLogger("explorer")
    for h in [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]:
        logger.removeHandler(h)
        h.close()


@pytest.fixture
def tiny_digits() -> Dataset:
    """256 built-in digits: enough to see a loss fall, quick to train."""
    from explorer.core.data import make_digits

    return make_digits(256, seed=1)


@pytest.fixture
def blobs() -> Dataset:
    """A 64-image 8×8 dataset of two classes (bright left half / bright right half)."""
    rng = np.random.default_rng(0)
    images = np.zeros((64, 8, 8), dtype=np.uint8)
    labels = np.arange(64) % 2
    images[labels == 0, :, :4] = 220
    images[labels == 1, :, 4:] = 220
    images = np.clip(images + rng.integers(0, 30, images.shape), 0, 255).astype(np.uint8)
    return Dataset(images=images, name="blobs", labels=labels, class_names=["left", "right"])


@pytest.fixture
def settings(tmp_path):
    """Window settings in a throw-away INI file, never the user's own; those of a user
    who has started the app before (no first-run hint over the plot: test_first_run)."""
    from PySide6.QtCore import QSettings

    from explorer.ui.first_run_hint import SHOWN_KEY

    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    s.setValue(SHOWN_KEY, True)
    return s


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A small digits model (latent size 2) trained for one epoch on 256 built-in digits."""
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig, TrainConfig
    from explorer.core.data import make_digits
    from explorer.core.kinds import build_model
    from explorer.core.training import train

    data = make_digits(256, seed=0)
    model = build_model(ModelConfig(latent_dim=2, hidden=(48,)))
    cfg = TrainConfig(epochs=2, batch_size=32, lr=3e-3)
    for _ in train(model, data, cfg):
        pass
    path = tmp_path_factory.mktemp("models") / "tiny.safetensors"
    save_checkpoint(path, Checkpoint(model=model, train_config=cfg, dataset=data.describe()))
    return path


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory):
    """A finished `train --run-dir` folder: a tiny digits model, one epoch on 256 images."""
    from tests.run_writer import finished_run

    return finished_run(tmp_path_factory.mktemp("runs") / "run")


@pytest.fixture
def autosave(tmp_path):
    """An autosave slot of the test's own."""
    from explorer.autosave import Autosave

    return Autosave(tmp_path / "autosave")


@pytest.fixture
def discard_on_close(monkeypatch):
    """Closing with an unsaved model asks (modally); tests answer "discard"."""
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)


def settle(plot) -> None:
    """Paint the plot until its layout stops moving: pyqtgraph widens an axis to fit its
    tick labels on the first paint, which shifts every pixel of the plot; tests that
    click on a data point need the final layout."""
    from PySide6.QtWidgets import QApplication

    vb = plot.plotItem.vb
    for _ in range(10):
        before = vb.sceneBoundingRect()
        plot.grab()
        QApplication.processEvents()
        if vb.sceneBoundingRect() == before:
            return
    raise AssertionError("the plot's layout never settled")


@pytest.fixture
def window(qtbot, tiny_checkpoint, settings, autosave, discard_on_close):
    """The real main window on the tiny model, shown, with the codes encoded."""
    from explorer.app import build_main_window

    w = build_main_window(tiny_checkpoint, settings=settings, autosave=autosave)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    settle(w.latent_view)
    yield w
    w.shutdown()
