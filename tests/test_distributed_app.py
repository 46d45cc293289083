"""A model trained by several torchrun processes, as a user meets it on a laptop: the
window's summary says how it was trained, and File ▸ Save checkpoint as… keeps that
record (the global batch is the ranks' batches together; a re-saved file said 1 process)."""

from __future__ import annotations

from dataclasses import replace

from explorer.core.checkpoint import load_checkpoint, save_checkpoint
from tests.gui import pick
from tests.test_menus import Dialogs


def test_a_torchrun_model_says_so_and_save_as_keeps_it(
    qtbot, window, tiny_checkpoint, tmp_path, monkeypatch
):
    ranks = tmp_path / "ranks.safetensors"
    save_checkpoint(ranks, replace(load_checkpoint(tiny_checkpoint), world_size=4))
    dialogs = Dialogs(tmp_path, monkeypatch)
    dialogs.open_answer = str(ranks)
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        pick(window, ("&File", "&Open checkpoint…")).trigger()
    summary = window.panel.summary.text()
    assert "trained by 4 processes together (torchrun): 32 images each, a global batch of 128" in (
        summary
    )

    pick(window, ("&File", "&Save checkpoint as…")).trigger()
    saved = load_checkpoint(dialogs.saved[0])
    assert saved.world_size == 4 and saved.global_batch == 128
