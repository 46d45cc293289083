"""Fuzz of the window's open paths, as a user opens files: File ▸ Open checkpoint… and
File ▸ Open dataset… on damaged or hostile files. Each either opens, or shows one message
naming the file with the window as it was; never an exception or a second box."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PySide6.QtWidgets import QFileDialog

from tests.gui import pick
from tests.test_bad_checkpoint_app import metadata, on_screen, with_metadata
from tests.test_fuzz import FORMATS, hostile_metadata, mutated
from tests.test_menus import answer_boxes, wait_idle

# a window per test, so fewer examples than the file fuzz's: each opens a checkpoint
FUZZ_WINDOW = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 100)) // 4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def open_from_menu(qtbot, window, command: str, path) -> tuple[list[str], list[str]]:
    """Pick File ▸ `command` answering its dialog with `path`; the errors announced and the
    warning boxes shown, once all it started has ended (questions answered yes)."""
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    try:
        with qtbot.captureExceptions() as exceptions:
            pick(window, ("&File", command)).trigger()
            wait_idle(qtbot, window)
            boxes = answer_boxes(window)
            wait_idle(qtbot, window)  # a question answered may have started work
            boxes += answer_boxes(window)
    finally:
        window.errorShown.disconnect(errors.append)
    assert not exceptions, exceptions[0][1]
    return [e for e in errors if "switch to a new untrained model" not in e], boxes


@FUZZ_WINDOW
@given(data=st.data())
def test_hostile_checkpoint_metadata(qtbot, window, tiny_checkpoint, tmp_path, monkeypatch, data):
    """The tiny model's file with hostile metadata (the file fuzz's strategy, on this
    model's metadata) shows that model, or is refused leaving the window as it was."""
    path = tmp_path / "hostile.safetensors"
    with_metadata(tiny_checkpoint, path, data.draw(hostile_metadata(metadata(tiny_checkpoint))))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    model, before = window.session.model, on_screen(window)
    errors, boxes = open_from_menu(qtbot, window, "&Open checkpoint…", path)
    event("refused" if errors else "opened")  # shown by --hypothesis-show-statistics
    if errors:
        assert len(errors) == 1 and len(boxes) == 1, (errors, boxes)
        assert str(path) in errors[0] and "\n" not in errors[0].strip()
        assert window.session.model is model and on_screen(window) == before
    else:
        assert not boxes, boxes
        assert window.session.model is not model


_DATA_FILES = sorted(n for n in FORMATS if not n.endswith(".safetensors"))


@FUZZ_WINDOW
@given(data=st.data(), name=st.sampled_from(_DATA_FILES))
def test_damaged_data_files(qtbot, window, tmp_path, monkeypatch, data, name):
    """A damaged .npz, .npy or IDX file opened as the dataset: it opens (the window
    offers a model of its size), or one message names it and the data stays."""
    path = tmp_path / name
    path.write_bytes(data.draw(mutated(FORMATS[name])))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    dataset, before = window.session.dataset, on_screen(window)
    errors, boxes = open_from_menu(qtbot, window, "Open &dataset…", path)
    event("refused" if errors else "opened")
    if errors:
        assert len(errors) == 1 and len(boxes) == 1, (errors, boxes)
        assert path.name in errors[0] and "\n" not in errors[0].strip()
        assert window.session.dataset is dataset and on_screen(window) == before
    else:
        assert not boxes, boxes
        assert window.session.dataset is not dataset
