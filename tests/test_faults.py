"""Faults while working: a failing worker, Stop and close during encoding, a failing
disk, and a process killed while it saves. Each ends with the app running (or, for the
kill, the file on disk whole) and the user told."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

import explorer.core.checkpoint as ck
import explorer.ui.workers as workers
from explorer.core.checkpoint import load_checkpoint, save_checkpoint
from explorer.core.kinds import build_model
from explorer.core.model import VAE
from tests.gui import expected_image, hover, train


def test_an_exception_in_the_worker_is_shown_and_the_app_goes_on(qtbot, window, monkeypatch):
    real_loss, calls = VAE.loss, []

    def failing_loss(self, x, beta, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return real_loss(self, x, beta, **kwargs)

    monkeypatch.setattr(VAE, "loss", failing_loss)
    window.panel.epochs_spin.setValue(3)
    with qtbot.waitSignal(window.errorShown, timeout=30_000) as shown:
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    assert "RuntimeError: CUDA error: an illegal memory access" in shown.args[0]
    box = next(b for b in window.findChildren(QMessageBox) if b.windowTitle() == "Training failed")
    assert "failing_loss" in box.detailedText()  # the traceback is one click away
    qtbot.waitUntil(lambda: not window.trainer.running)
    assert window.panel.train_button.isEnabled()

    # Once the dialog is closed, the window decodes under the cursor and trains again.
    box.button(QMessageBox.StandardButton.Ok).click()
    hover(qtbot, window, QPoint(200, 180))
    assert np.allclose(window.decoder_view.image, expected_image(window, window.session.z))
    monkeypatch.setattr(VAE, "loss", real_loss)
    assert train(qtbot, window).status == "completed"


@pytest.fixture
def held_encode(monkeypatch):
    """Encoding that waits, inside its first chunk, for Stop or close to be pressed.

    Yields (entered, chunks): `entered` is set once encoding is under way; `chunks`
    counts the chunks encoded. Chunks are small so a stop has chunks left to skip.
    """
    entered, released, chunks = threading.Event(), threading.Event(), []
    real_encode = workers.encode

    def encode(model, images, labels=None):
        entered.set()
        assert released.wait(30), "neither Stop nor close reached the worker"
        chunks.append(len(images))
        return real_encode(model, images, labels)

    for method in ("stop", "abandon"):
        real = getattr(workers.TrainingThread, method)
        monkeypatch.setattr(
            workers.TrainingThread, method, lambda self, real=real: (real(self), released.set())
        )
    monkeypatch.setattr(workers, "encode", encode)
    monkeypatch.setattr(workers, "_ENCODE_CHUNK", 16)
    return entered, chunks


def test_stop_during_encoding(qtbot, window, held_encode):
    entered, chunks = held_encode
    window.panel.epochs_spin.setValue(50)
    QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(entered.is_set, timeout=30_000)  # the first epoch's encode is under way
    with qtbot.waitSignal(window.trainer.finished, timeout=10_000) as done:
        QTest.mouseClick(window.panel.stop_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "stopped"
    qtbot.waitUntil(lambda: not window.trainer.running, timeout=30_000)
    # The epoch's encode was cut short; the final weights' codes came from a full encode.
    n = len(window.session.dataset)
    assert sum(chunks) == 16 + n
    s = window.session
    images = workers.images_to_tensor(s.dataset.images)
    assert np.allclose(s.codes, workers.encode(s.model, images)[0], atol=1e-5)


def test_close_during_encoding(qtbot, window, held_encode, qtlog):
    entered, chunks = held_encode
    window.panel.epochs_spin.setValue(50)
    QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(entered.is_set, timeout=30_000)
    thread = window.trainer.thread
    assert window.close()
    assert thread.isFinished()
    assert chunks == [16]  # the rest of the encode was abandoned, not waited for
    assert not [r for r in qtlog.records if "QThread" in r.message]


def test_a_full_disk_during_save_keeps_the_old_file(qtbot, window, tmp_path, monkeypatch):
    train(qtbot, window)
    path = tmp_path / "model.safetensors"
    assert window.save_checkpoint(path)
    before = path.read_bytes()
    train(qtbot, window)  # a newer model, not saved yet

    def full_disk(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"the first few bytes")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ck, "save_file", full_disk)
    with qtbot.waitSignal(window.errorShown) as shown:
        assert not window.save_checkpoint(path)
    assert "model.safetensors" in shown.args[0] and "No space left on device" in shown.args[0]
    assert "unchanged" in shown.args[0]
    assert path.read_bytes() == before
    assert window.session.info.unsaved  # still marked as needing a save


_SAVE_FOREVER = """
import os, sys, threading
from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model

path, hold = sys.argv[1], sys.argv[2] == "hold"
save_checkpoint(path, Checkpoint(model=build_model(ModelConfig(latent_dim=2), seed=0)))
newer = Checkpoint(model=build_model(ModelConfig(latent_dim=2), seed=1))
if hold:  # stop between writing the temporary file and renaming it over the target
    def replace(src, dst):
        print("written", flush=True)
        threading.Event().wait()
    os.replace = replace
    save_checkpoint(path, newer)
print("saving", flush=True)
while True:
    save_checkpoint(path, newer)
"""


@pytest.mark.parametrize("when", ["hold", "loop"])
def test_killed_while_saving_leaves_a_whole_file(tmp_path, when):
    """`hold`: killed after the new file is written, before the rename; `loop`: killed at
    whatever point of a tight save loop it had reached. Either way the file is whole."""
    path = tmp_path / "model.safetensors"
    child = subprocess.Popen(
        [sys.executable, "-c", _SAVE_FOREVER, str(path), when],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline().strip()
        assert line == ("written" if when == "hold" else "saving")
    finally:
        child.kill()
        child.wait(30)
    ckpt = load_checkpoint(path)  # never half-written: it loads
    if when == "hold":  # the rename never happened: the old model is there, untouched
        old = build_model(ckpt.model.config, seed=0).state_dict()
        assert all(torch.equal(old[k], v) for k, v in ckpt.model.state_dict().items())
        # The killed save left its whole temporary copy (hidden, beside the file). A
        # later save removes it once it is an hour old; a younger one may be another
        # process's save in progress and stays.
        (leftover,) = tmp_path.glob(".model.safetensors.*.tmp")
        younger = tmp_path / ".model.safetensors.young.tmp"
        younger.write_bytes(b"in progress")
        an_hour_ago = time.time() - 3700
        os.utime(leftover, (an_hour_ago, an_hour_ago))
        save_checkpoint(path, ckpt)
        assert not leftover.exists() and younger.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [younger.name, path.name]
