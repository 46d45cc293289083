"""A trained model is never lost: autosaved after training, offered back after a crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QPushButton

from explorer.app import build_main_window
from explorer.autosave import Autosave
from explorer.core.checkpoint import load_checkpoint
from explorer.ui import model_saver
from explorer.ui.model_saver import RESTORED
from tests.gui import train

pytestmark = pytest.mark.usefixtures("discard_on_close")


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_training_is_autosaved_until_saved(qtbot, window, autosave, tmp_path):
    assert autosave.pending() is None
    train(qtbot, window)
    qtbot.waitUntil(lambda: autosave.pending() is not None, timeout=10_000)
    kept = load_checkpoint(autosave.pending())
    assert same_weights(kept.model, window.session.model)
    assert kept.train_config == window.session.info.train_config
    assert window.save_checkpoint(tmp_path / "mine.safetensors")
    assert autosave.pending() is None  # safe elsewhere now: nothing to offer


def test_closing_with_discard_forgets_it(qtbot, window, autosave):
    train(qtbot, window)
    qtbot.waitUntil(lambda: autosave.pending() is not None, timeout=10_000)
    assert window.close()  # the fixture answers the unsaved-model question with "Discard"
    assert autosave.pending() is None


def answer(qtbot, w, button: str) -> None:
    """Click `button` of the question the window asks at start-up."""
    qtbot.waitUntil(lambda: w.findChild(QPushButton, button) is not None)
    w.findChild(QPushButton, button).click()


def left_behind(qtbot, tiny_checkpoint, settings, autosave):
    """A window that trained a model and then vanished without closing (a crash or a kill):
    its slot is full and its lock released, as the system releases a dead process's."""
    w = build_main_window(tiny_checkpoint, settings=settings, autosave=autosave)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    train(qtbot, w)
    qtbot.waitUntil(lambda: autosave.pending() is not None, timeout=10_000)
    trained = w.session.model
    w.shutdown()
    autosave.close()
    return trained


def next_start(qtbot, tiny_checkpoint, settings, folder):
    """The app started again, with a slot of its own in the same folder."""
    slot = Autosave(folder)
    w = build_main_window(tiny_checkpoint, settings=settings, autosave=slot)
    qtbot.addWidget(w)
    return w, slot


def test_the_next_start_offers_the_unsaved_model(qtbot, tiny_checkpoint, settings, autosave):
    trained = left_behind(qtbot, tiny_checkpoint, settings, autosave)
    lost = autosave.pending()

    w, slot = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    assert not same_weights(w.session.model, trained)  # it opened on what it was asked for
    answer(qtbot, w, "restoreButton")
    assert same_weights(w.session.model, trained)
    assert w.session.info.source == RESTORED and w.session.info.unsaved
    # kept until the user saves or discards it, in the slot of the app that restored it
    assert not lost.exists() and same_weights(load_checkpoint(slot.pending()).model, trained)
    w.shutdown()


def test_discarding_the_offer_forgets_it(qtbot, tiny_checkpoint, settings, autosave):
    left_behind(qtbot, tiny_checkpoint, settings, autosave)
    w, slot = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    answer(qtbot, w, "discardButton")
    assert not autosave.path.exists() and slot.pending() is None
    w.shutdown()
    w, _ = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    assert w.findChild(QPushButton, "restoreButton") is None  # not asked again
    w.shutdown()


def test_an_unwritable_autosave_folder_is_reported(qtbot, tiny_checkpoint, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the autosave folder should be")
    w = build_main_window(tiny_checkpoint, settings=settings, autosave=Autosave(blocker / "x"))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    with qtbot.waitSignal(w.errorShown, timeout=30_000) as shown:
        train(qtbot, w)
    assert "not-a-folder" in shown.args[0]
    assert w.session.info.unsaved  # the model is still there to save by hand
    w.shutdown()


def test_a_write_asked_for_before_a_save_is_dropped(autosave, tiny_checkpoint):
    """The user saved the model before the background write ran: nothing to offer."""
    ticket = autosave.ticket()
    autosave.clear()  # what "Save as" does
    assert autosave.write(load_checkpoint(tiny_checkpoint), ticket) is None
    assert autosave.pending() is None
    assert autosave.write(load_checkpoint(tiny_checkpoint), autosave.ticket()) == autosave.path


def test_a_save_during_the_write_leaves_the_slot_empty(autosave, tiny_checkpoint, monkeypatch):
    """The user saved the model while its background write was under way."""
    import explorer.autosave as module

    started, release = threading.Event(), threading.Event()
    real_save = module.save_checkpoint

    def slow_save(path, ckpt):
        started.set()
        release.wait()
        return real_save(path, ckpt)

    monkeypatch.setattr(module, "save_checkpoint", slow_save)
    ckpt = load_checkpoint(tiny_checkpoint)
    writer = threading.Thread(target=autosave.write, args=(ckpt, autosave.ticket()))
    writer.start()
    started.wait()
    saver = threading.Thread(target=autosave.clear)
    saver.start()
    release.set()
    writer.join()
    saver.join()
    assert autosave.pending() is None


def test_an_older_write_never_replaces_a_newer_one(autosave, tiny_checkpoint):
    older, newer = autosave.ticket(), autosave.ticket()
    assert autosave.write(load_checkpoint(tiny_checkpoint), newer) == autosave.path
    assert autosave.write(load_checkpoint(tiny_checkpoint), older) is None


def epochs_shown(qtbot, w, n: int) -> list:
    """Start a long run and wait until `n` of its epochs are on screen."""
    shown = []
    w.trainer.epochShown.connect(lambda: shown.append(True))
    w.panel.epochs_spin.setValue(1000)
    w.panel.batch_spin.setValue(32)
    w.trainer.start()
    qtbot.waitUntil(lambda: len(shown) >= n, timeout=60_000)
    return shown


def stop(qtbot, w) -> None:
    """Stop the run and wait for its autosave to be written."""
    w.trainer.stop()
    qtbot.waitUntil(lambda: not w.trainer.running, timeout=30_000)
    w.shutdown()  # waits for the background writes


def test_a_run_keeps_its_newest_epoch_while_it_trains(qtbot, window, autosave, monkeypatch):
    """A crash mid-run loses little: the slot fills during the run, not only at its end."""
    monkeypatch.setattr(model_saver, "KEEP_EVERY_S", 0.0)  # every epoch, for the test
    epochs_shown(qtbot, window, 1)
    qtbot.waitUntil(lambda: autosave.pending() is not None, timeout=30_000)
    assert window.trainer.running
    assert load_checkpoint(autosave.pending()).train_config == window.session.info.train_config
    stop(qtbot, window)
    # the run's final model, not an epoch whose write finished later
    assert same_weights(load_checkpoint(autosave.pending()).model, window.session.model)


def test_a_run_that_cannot_keep_its_epochs_says_so_once(
    qtbot, tiny_checkpoint, settings, tmp_path, monkeypatch
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the autosave folder should be")
    w = build_main_window(tiny_checkpoint, settings=settings, autosave=Autosave(blocker / "x"))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    errors = []
    w.errorShown.connect(errors.append)
    monkeypatch.setattr(model_saver, "KEEP_EVERY_S", 0.0)
    shown = epochs_shown(qtbot, w, 1)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=30_000)
    n = len(shown)
    qtbot.waitUntil(lambda: len(shown) >= n + 3, timeout=60_000)
    assert len(errors) == 1 and "not-a-folder" in errors[0]
    stop(qtbot, w)


# -- two instances at once: each owns its slot ---------------------------------------
_HOLD_A_SLOT = """
import sys
from pathlib import Path
from explorer.autosave import Autosave
from explorer.core.checkpoint import load_checkpoint

slot = Autosave(Path(sys.argv[1]))
slot.write(load_checkpoint(sys.argv[2]), slot.ticket())
print(slot.path, flush=True)
sys.stdin.read()  # a running app with an unsaved model, until the test lets it end
"""


def other_instance(folder, tiny_checkpoint):
    """Another running app (a real process) whose trained model sits in its slot."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_SLOT, str(folder), str(tiny_checkpoint)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline().strip()
    assert line, "the other instance did not start"
    return child, Path(line)


def test_a_second_instance_never_touches_the_first_ones_model(
    qtbot, tiny_checkpoint, settings, autosave
):
    child, theirs = other_instance(autosave.folder, tiny_checkpoint)
    try:
        before = theirs.read_bytes()
        w = build_main_window(tiny_checkpoint, settings=settings, autosave=autosave)
        qtbot.addWidget(w)
        qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
        # not offered as "the last session": its app is running
        assert w.findChild(QPushButton, "restoreButton") is None
        train(qtbot, w)  # our own trained model goes to our own slot
        qtbot.waitUntil(lambda: autosave.pending() is not None, timeout=10_000)
        assert autosave.pending() != theirs
        assert w.close()  # answered "Discard": ours goes, theirs stays
        assert autosave.pending() is None
        assert theirs.read_bytes() == before
        again, slot = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
        assert again.findChild(QPushButton, "restoreButton") is None
        again.shutdown()
        slot.close()
    finally:
        child.kill()
        child.wait(30)
    assert theirs.read_bytes() == before
    # its app is gone now (killed): the next start offers its model
    w, slot = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    qtbot.waitUntil(lambda: w.findChild(QPushButton, "restoreButton") is not None)
    assert str(theirs) in w.findChild(QPushButton, "restoreButton").window().text()
    answer(qtbot, w, "restoreButton")
    assert not theirs.exists() and slot.pending().read_bytes() == before
    w.shutdown()


def test_two_starts_at_once_do_not_offer_the_same_model(tiny_checkpoint, tmp_path):
    """While one start asks about a left-behind model, another one does not see it."""
    dead = Autosave(tmp_path)
    dead.write(load_checkpoint(tiny_checkpoint), dead.ticket())
    assert Autosave(tmp_path).left_behind() is None  # its app runs
    dead.close()  # ... and now it has ended
    first, second = Autosave(tmp_path), Autosave(tmp_path)
    found = first.left_behind()
    assert found is not None and found.path == dead.path
    assert second.left_behind() is None  # the first is asking about it
    found.keep()  # "Ask next time"
    assert second.left_behind().path == dead.path


def test_an_unreadable_autosave_is_moved_aside_and_not_offered_again(
    qtbot, tiny_checkpoint, settings, autosave
):
    autosave.folder.mkdir()
    bad = autosave.folder / "last-trained-1-0badf11e.safetensors"  # a dead app's slot
    bad.write_bytes(b"\x00" * 64)
    w, _ = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    model = w.session.model
    with qtbot.waitSignal(w.errorShown) as shown:
        answer(qtbot, w, "restoreButton")
    aside = bad.with_name(bad.name + ".unreadable")
    assert not bad.exists() and aside.read_bytes() == b"\x00" * 64
    assert str(bad) in shown.args[0] and str(aside) in shown.args[0]
    assert w.session.model is model  # the window keeps what it showed
    w.shutdown()
    w, _ = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    assert w.findChild(QPushButton, "restoreButton") is None  # not offered again
    w.shutdown()


def test_the_slot_of_earlier_versions_is_offered(qtbot, tiny_checkpoint, settings, autosave):
    """Before slots were per app there was one, without a process in its name."""
    autosave.folder.mkdir()
    legacy = autosave.folder / "last-trained.safetensors"
    legacy.write_bytes(tiny_checkpoint.read_bytes())
    w, _ = next_start(qtbot, tiny_checkpoint, settings, autosave.folder)
    answer(qtbot, w, "discardButton")
    assert not legacy.exists() and sorted(autosave.folder.iterdir()) == []
    w.shutdown()
