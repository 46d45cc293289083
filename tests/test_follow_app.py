"""Following a training run from the window: File ▸ Follow training run…, a run written by
`train --run-dir` in another process (or here, epoch by epoch), shown as if it trained
in the window until it ends on its final model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer import __main__ as entry
from explorer.core.checkpoint import load_checkpoint
from explorer.core.metrics import dataset_labels, encode
from explorer.core.model import images_to_tensor
from explorer.core.run_folder import CHECKPOINT_FILE, METRICS_FILE, RUN_FILE
from tests.gui import pick
from tests.run_writer import run_epochs
from tests.test_menus import Dialogs

ROOT = Path(__file__).resolve().parents[1]
FOLLOW = ("&File", "Follow training r&un…")


def follow_through_the_menu(window, dialogs: Dialogs, folder: Path) -> None:
    dialogs.folder_answers["Follow a training run"] = str(folder)
    pick(window, FOLLOW).trigger()


def final_codes(window, folder: Path) -> np.ndarray:
    """The means of the window's data encoded by the run's final checkpoint, (N, d)."""
    model = load_checkpoint(folder / CHECKPOINT_FILE).model
    data = window.session.dataset
    mu, _ = encode(model, images_to_tensor(data.images), dataset_labels(model, data))
    return mu


def ends_on_the_final_model(qtbot, window, folder: Path, title: str) -> None:
    """The plot draws the final checkpoint's codes; the model is kept as opened (savable),
    named `title` in the status bar."""
    want = final_codes(window, folder)
    np.testing.assert_allclose(window.session.codes, want, atol=1e-5)
    qtbot.waitUntil(lambda: np.allclose(window.latent_view.points.xy, want, atol=1e-5))
    assert window.statusBar().model_label.text().startswith(f"{title} ·")
    assert not window.session.info.unsaved and not window.follower.label.isVisible()


def test_the_window_follows_a_run_the_cli_trains(qtbot, window, tmp_path, monkeypatch):
    """The one end-to-end test: a headless run in another process, followed from the menu."""
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    args = ["train", "--count", "300", "--epochs", "3", "--hidden", "16", "--batch-size", "32"]
    args += ["--threads", "1", "--run-dir", str(folder), "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        dialogs = Dialogs(tmp_path, monkeypatch)
        seen: list[str] = []
        window.follower.epochShown.connect(lambda: seen.append(window.follower.label.text()))
        errors: list[str] = []
        window.errorShown.connect(errors.append)
        qtbot.waitUntil((folder / RUN_FILE).exists, timeout=60_000)
        with qtbot.waitSignal(window.follower.ended, timeout=120_000) as ended:
            follow_through_the_menu(window, dialogs, folder)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert ended.args == ["finished"] and not errors
    assert seen and all(t.startswith(f"Following {folder} · epoch ") for t in seen)
    assert seen[-1].endswith("epoch 3 of 3")
    assert len(window.session.dataset) == 300  # the run's own data, drawn again
    assert len(window.panel.loss_plot.val_points[0]) == 3  # every epoch's validation
    assert window.panel.progress.format() == "done"
    ends_on_the_final_model(qtbot, window, folder, "run")
    told = window.statusBar().toolTip()
    assert "to its end: finished after epoch 3 of 3 · Trained 3 epochs" in told
    assert "((" not in told and "))" not in told  # the run's own words, not nested in brackets

    pick(window, ("&File", "&Save checkpoint as…")).trigger()
    saved = load_checkpoint(dialogs.saved[0])
    final = load_checkpoint(folder / CHECKPOINT_FILE).model.state_dict()
    assert all(torch.equal(v, final[k]) for k, v in saved.model.state_dict().items())
    assert [e.epoch for e in saved.history] == [1, 2, 3]  # the run's curves go with it


def test_a_half_written_epoch_is_never_read(qtbot, window, tmp_path, monkeypatch):
    """Mid-run: a line being appended and a checkpoint being written (its temporary file)
    are not read; a checkpoint that fails to load is skipped with a status message and
    the next epoch's is shown. The run is titled by its folder's name."""
    folder = tmp_path / "beta6"
    run = run_epochs(folder, epochs=3)
    next(run)  # epoch 1 is written; the run goes on when the test says
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    follower, status = window.follower, window.statusBar()
    with qtbot.waitSignal(follower.epochShown, timeout=30_000):
        follow_through_the_menu(window, Dialogs(tmp_path, monkeypatch), folder)
    assert follower.label.text() == f"Following {folder} · epoch 1 of 3"
    assert follower.label.isVisible() and window.panel.progress.format().startswith("epoch 2/3")
    version = window.session.model_version

    whole = (folder / METRICS_FILE).read_bytes()
    with open(folder / METRICS_FILE, "ab") as f:  # the writer half-way through epoch 2's line
        f.write(b'{"epoch": 2, "step": 8, "steps_total": 12, "samp')
    (folder / f".{CHECKPOINT_FILE}.k3j9x2.tmp").write_bytes(os.urandom(4096))  # being written
    with qtbot.waitSignal(follower.poll.timeout, timeout=10_000):  # a look at the folder
        pass
    assert not errors and window.session.model_version == version
    assert follower.label.text().endswith("epoch 1 of 3")
    assert len(window.panel.loss_plot.val_points[0]) == 1

    junk = folder / "junk"  # a checkpoint that lies: replaced whole, as a writer does
    junk.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    os.replace(junk, folder / CHECKPOINT_FILE)
    qtbot.waitUntil(lambda: "Skipped a checkpoint of the run" in status.toolTip(), timeout=10_000)
    assert str(folder / CHECKPOINT_FILE) in status.toolTip()
    assert not errors and window.session.model_version == version and follower.following

    (folder / METRICS_FILE).write_bytes(whole)  # the writer's own line goes there instead
    with qtbot.waitSignal(follower.ended, timeout=60_000):
        for _ in run:  # epochs 2 and 3, and the end
            pass
    assert not errors
    assert len(window.panel.loss_plot.val_points[0]) == 3
    ends_on_the_final_model(qtbot, window, folder, "run beta6")


def test_a_folder_that_is_no_run_is_named_once(qtbot, window, tmp_path, monkeypatch):
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    model = window.session.model
    follow_through_the_menu(window, Dialogs(tmp_path, monkeypatch), tmp_path)
    assert errors == [
        f"{tmp_path}: not a training run folder (no run.json); "
        "make one with python -m explorer train --run-dir"
    ]
    assert window.session.model is model and not window.follower.following


def test_opening_something_else_stops_following(qtbot, window, tmp_path, tiny_checkpoint):
    folder = tmp_path / "run"
    run = run_epochs(folder, epochs=2)
    next(run)
    with qtbot.waitSignal(window.follower.epochShown, timeout=30_000):
        assert window.follower.follow(folder)
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        window.open_checkpoint(tiny_checkpoint)
    assert not window.follower.following and not window.follower.label.isVisible()
    for _ in run:
        pass
    with qtbot.waitSignal(window.follower.poll.timeout, timeout=1500, raising=False) as looked:
        pass
    assert not looked.signal_triggered  # nothing watches the folder any more
    assert window.statusBar().model_label.text().startswith("tiny.safetensors")


def test_stop_following_from_the_menu_keeps_the_model(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "run"
    run = run_epochs(folder, epochs=2)
    next(run)
    with qtbot.waitSignal(window.follower.epochShown, timeout=30_000):
        follow_through_the_menu(window, Dialogs(tmp_path, monkeypatch), folder)
    stop = pick(window, ("&File", "Stop followin&g"))
    assert stop.isEnabled()
    model, codes = window.session.model, window.session.codes
    stop.trigger()
    assert not stop.isEnabled() and not window.follower.label.isVisible()
    assert window.statusBar().toolTip().startswith(f"Stopped following {folder}")
    for _ in run:
        pass
    with qtbot.waitSignal(window.follower.poll.timeout, timeout=1500, raising=False) as looked:
        pass
    assert not looked.signal_triggered
    assert window.session.model is model and window.session.codes is codes
    assert window.statusBar().model_label.text().startswith("run ·")


def test_python_m_explorer_follow_opens_the_window_following(
    qtbot, run_folder, settings, autosave, monkeypatch
):
    from explorer.app import build_main_window

    asked = []
    monkeypatch.setattr(entry, "run_app", lambda argv: asked.append(argv) or 0)
    assert entry.main(["follow", str(run_folder)]) == 0
    assert asked == [["--follow", str(run_folder)]]
    w = build_main_window(follow=run_folder, settings=settings, autosave=autosave)
    qtbot.addWidget(w)
    qtbot.waitUntil(
        lambda: w.session.codes is not None and not w.follower.following, timeout=30_000
    )
    assert w.statusBar().model_label.text().startswith("run ·")
    assert len(w.session.codes) == 256
    w.shutdown()


@pytest.fixture(autouse=True)
def _quick_polls(monkeypatch):
    """The fallback poll every half second here (its period is what a test waits for)."""
    from explorer.ui import run_follower

    monkeypatch.setattr(run_follower, "_POLL_MS", 500)


def test_a_run_with_no_epoch_yet_says_what_will_come(qtbot, window, tmp_path, monkeypatch):
    """Followed before its first epoch, the loss plot says the losses come with the epochs,
    not 'Press Train' (nothing here is trained by pressing it)."""
    from explorer.core.config import ModelConfig, TrainConfig
    from explorer.core.data import make_digits
    from explorer.core.kinds import build_model
    from explorer.core.run_folder import RunWriter

    folder = tmp_path / "run"
    model = build_model(ModelConfig(latent_dim=2, hidden=(16,)))
    with RunWriter(folder, model.config, TrainConfig(epochs=2), make_digits(64, seed=0)):
        follow_through_the_menu(window, Dialogs(tmp_path, monkeypatch), folder)
        assert window.follower.label.text().endswith("waiting for epoch 1 of 2")
        note = window.panel.loss_plot.plotItem.titleLabel.text
        assert "after each epoch" in note and "Press Train" not in note
        window.follower.stop()
