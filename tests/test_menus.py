"""Every menu command, picked as a user picks it, in the real window.

The walk finds the commands in the menu bar itself (submenus included), so a command
added later is picked here without a test of its own. Each is triggered as Qt does
when it is clicked; file dialogs are answered (a fresh path for saves and exports,
cancel for opens), questions are answered yes, information boxes are closed, and any
warning, exception or empty export fails the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTabWidget,
)

from explorer.core.checkpoint import load_checkpoint
from explorer.core.data import BUILTINS
from explorer.ui import opener
from explorer.ui.workers import TaskThread
from tests.gui import pick, plain, train
from tests.report_page import Page, images
from tests.test_data_point import loneliest_point, pixel_of

_BUILTIN_IMAGES = 300  # built-ins drawn small here: the walk opens each of them


def menu_paths(menu: QMenu, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of texts to every command in `menu` and its submenus that a user sees
    (a command for a conditional model alone is hidden for others, as its tab is)."""
    for action in menu.actions():
        if action.isSeparator() or not action.isVisible():
            continue
        path = (*prefix, action.text())
        if action.menu() is not None:
            yield from menu_paths(action.menu(), path)
        else:
            yield path


def busy(window) -> bool:
    return window.trainer.running or any(t.isRunning() for t in window.findChildren(TaskThread))


def wait_idle(qtbot, window) -> None:
    """Until no background work runs, nor starts from what the last one delivered."""
    for _ in range(2):
        qtbot.waitUntil(lambda: not busy(window), timeout=60_000)
        QApplication.processEvents()
    qtbot.waitUntil(lambda: not busy(window), timeout=60_000)


class Dialogs:
    """Answers the file dialogs as a user would: a new file for saving, cancel for opening."""

    def __init__(self, folder: Path, monkeypatch):
        self.folder = folder
        self.saved: list[Path] = []  # every path a save dialog returned, in order
        self.save_starts: list[str] = []  # the folder each save dialog started in
        self.open_answer = ""  # the file an open dialog returns ("": cancelled)
        # the folder a folder dialog returns, by the start of its title ("": cancelled)
        self.folder_answers: dict[str, str] = {}

        def save(parent, caption, start, filters="", *args, **kwargs):
            self.save_starts.append(str(Path(start).parent))
            path = folder / f"{len(self.saved)}-{Path(start).name}"
            self.saved.append(path)
            return str(path), filters.split(";;")[0]

        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save))
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (self.open_answer, ""))
        )
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(self._folder))

    def _folder(self, parent, caption: str = "", *args, **kwargs) -> str:
        return next((f for t, f in self.folder_answers.items() if caption.startswith(t)), "")


def answer_boxes(window) -> list[str]:
    """Close what the last command showed; the warnings among them, as text."""
    warnings = []
    for dialog in QApplication.topLevelWidgets():
        if not isinstance(dialog, QDialog) or not dialog.isVisible():
            continue
        if isinstance(dialog, QMessageBox) and dialog.icon() == QMessageBox.Icon.Warning:
            warnings.append(dialog.text())
            dialog.close()
        elif isinstance(dialog, QMessageBox) and dialog.icon() == QMessageBox.Icon.Question:
            yes = next(
                b
                for b in dialog.buttons()
                if dialog.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
            )
            QTest.mouseClick(yes, Qt.MouseButton.LeftButton)
        else:
            dialog.reject()
    return warnings


@pytest.fixture
def small_builtins(monkeypatch):
    """Built-in datasets of a few hundred images, so opening each stays quick."""
    real = opener.load_dataset

    def load(spec, count=None, *args, **kwargs):
        if spec in BUILTINS:
            count = min(count or _BUILTIN_IMAGES, _BUILTIN_IMAGES)
        return real(spec, count, *args, **kwargs)

    monkeypatch.setattr(opener, "load_dataset", load)


def shows_model(window, latent: int, size: int) -> None:
    assert f"latent {latent}" in window.statusBar().model_label.text()
    assert window.decoder_view.image.shape[:2] == (size, size)
    assert len(window.sliders.sliders) == latent


def shows_data(name: str) -> Callable:
    def check(window) -> None:
        assert window.panel.data_label.text().startswith(f"{name}:")
        assert window.session.codes is not None
        assert len(window.session.codes) == _BUILTIN_IMAGES

    return check


def shows_trained(window) -> None:
    assert "trained" in window.statusBar().model_label.text()


def shows_map(window) -> None:
    assert window.plane_bar.manifold.check.isChecked() and window.plane_bar.manifold.tiles


def shows_run(window) -> None:
    """The finished run's model is on screen, and the status bar said so."""
    status = window.statusBar()
    assert status.model_label.text().startswith("run ·")
    assert "to its end: finished after epoch 1 of 1" in status.toolTip()


def shows_released(window) -> None:
    assert not window.session.pinned
    assert window.pin_label.text().startswith("Hover to decode")


def shows_cleared(window) -> None:
    assert len(window.selection_view.selection) == 0


# What picking a command shows, where it is known (a path as `plain` writes it).
EFFECTS: dict[str, Callable] = {
    "Model ▸ Bundled: digits": lambda w: shows_model(w, 2, 28),
    "Model ▸ Bundled: sprites": lambda w: shows_model(w, 10, 64),
    "Model ▸ Train": shows_trained,
    **{f"Data ▸ Built-in: {name}": shows_data(name) for name in BUILTINS},
    "File ▸ Follow training run…": shows_run,
    "View ▸ Manifold map": shows_map,
    "View ▸ Release pinned code": shows_released,
    "View ▸ Clear selection": shows_cleared,
}
NOT_WALKED = {"File ▸ Quit"}  # it closes the window: test_quit_closes_the_window
# only while training runs (the walk waits for each run to end): test_train_and_stop_keys;
# only while a run is followed (the walk follows a finished one): test_follow_app.py
DISABLED = {"Model ▸ Stop training", "File ▸ Stop following"}


def select_some(window) -> None:
    """Ctrl+drag a box over the plot's middle, as a user selects points."""
    vp = window.latent_view.viewport()
    ctrl = Qt.KeyboardModifier.ControlModifier
    w, h = vp.width(), vp.height()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, ctrl, QPoint(w // 5, h // 5))
    QTest.mouseMove(vp, QPoint(w // 2, h // 5))
    QTest.mouseMove(vp, QPoint(4 * w // 5, 4 * h // 5))
    QTest.mouseMove(vp, QPoint(w // 5, 4 * h // 5))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, ctrl, QPoint(w // 5, 4 * h // 5))
    assert len(window.selection_view.selection) > 0


# What a user does just before picking a command, where earlier commands undid it: a
# command that opens a model or data set (walked before the View menu) empties the selection.
BEFORE: dict[str, Callable] = {"View ▸ Clear selection": select_some}


def give_every_view_something(qtbot, window, dialogs: Dialogs, model_b: Path) -> None:
    """What a user does before exporting: pick A and B, inspect a point, pin a code,
    select points, fill in a hidden part, open a model to compare with; trained first,
    for the loss curves."""
    train(qtbot, window)
    view = window.latent_view
    for pos in (QPoint(60, 80), QPoint(200, 150)):
        with qtbot.waitSignal(view.codePicked, timeout=5000):
            QTest.mouseClick(
                view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, pos
            )
    qtbot.waitUntil(lambda: window.interpolation_view.result is not None, timeout=10_000)
    point = pixel_of(window, window.session.codes[loneliest_point(window)])
    with qtbot.waitSignal(window.data_point_view.job.done, timeout=10_000):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.session.pinned
    select_some(window)
    tabs = window.findChild(QTabWidget, "insightTabs")
    tabs.setCurrentWidget(window.inpainting_view)
    qtbot.waitUntil(lambda: window.inpainting_view.picture is not None, timeout=10_000)
    tabs.setCurrentWidget(window.compare_view)
    dialogs.open_answer = str(model_b)
    QTest.mouseClick(window.compare_view.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.compare_view.picture is not None, timeout=30_000)
    dialogs.open_answer = ""


def test_every_menu_command_works(
    qtbot, window, tmp_path, monkeypatch, small_builtins, tiny_checkpoint, run_folder
):
    dialogs = Dialogs(tmp_path, monkeypatch)
    dialogs.folder_answers["Follow a training run"] = str(run_folder)  # a finished one
    give_every_view_something(qtbot, window, dialogs, tiny_checkpoint)
    window.panel.epochs_spin.setValue(1)  # Model ▸ Train: a short run
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    tops = window.menuBar().actions()
    paths = [p for m in tops for p in menu_paths(m.menu(), (m.text(),))]
    assert len(paths) >= 19
    walked = []
    for path in paths:
        name = plain(path)
        if name in NOT_WALKED:
            continue
        saved_before = len(dialogs.saved)
        if name in BEFORE:
            BEFORE[name](window)
        with qtbot.captureExceptions() as exceptions:
            action = pick(window, path)
            assert action.isEnabled() or name in DISABLED, f"{name}: greyed out"
            action.trigger()
            wait_idle(qtbot, window)
            warnings = answer_boxes(window)
            wait_idle(qtbot, window)  # a question answered may have started work
            warnings += answer_boxes(window)
        assert not exceptions, f"{name}: {exceptions[0][1]!r}"
        assert not warnings, f"{name}: {warnings}"
        # a question put to the user is announced as errors are; only warnings fail
        assert all("switch to a new untrained model" in e for e in errors), f"{name}: {errors}"
        errors.clear()
        for path_written in dialogs.saved[saved_before:]:
            qtbot.waitUntil(path_written.exists, timeout=30_000)
            assert path_written.stat().st_size > 0, f"{name}: {path_written} is empty"
            if path_written.suffix == ".png":
                assert not QImage(str(path_written)).isNull(), f"{name}: not a PNG"
            if path_written.suffix == ".safetensors":
                load_checkpoint(path_written)
            if path_written.suffix == ".html":  # the report, with the model's figures
                page = Page(path_written.read_text(encoding="utf-8"))
                assert page.numbers["elbo"] < 0 and len(images(page)) == 3
        if name in EFFECTS:
            EFFECTS[name](window)
        walked.append(name)
    assert not set(EFFECTS) - set(walked), "a command with a known effect was not in the menus"
    exports = [p for p in dialogs.saved if p.suffix == ".png"]
    assert len(exports) == sum(p[-1].endswith("(PNG)") for p in paths) >= 10  # each wrote


def test_quit_closes_the_window(qtbot, window):
    pick(window, ("&File", "&Quit")).trigger()
    qtbot.waitUntil(lambda: not window.isVisible())


def test_save_dialog_starts_outside_the_package(qtbot, window, tmp_path, monkeypatch):
    """A bundled model opened from the package's folder; saving must not propose it."""
    import explorer
    from explorer.resources import RESOURCES, bundled_model

    dialogs = Dialogs(tmp_path, monkeypatch)
    dialogs.open_answer = str(bundled_model("digits"))
    with qtbot.waitSignal(window.session.codesChanged, timeout=30_000):
        pick(window, ("&File", "&Open checkpoint…")).trigger()
    pick(window, ("&File", "&Save checkpoint as…")).trigger()
    assert dialogs.save_starts and dialogs.saved[0].exists()
    start = Path(dialogs.save_starts[0]).resolve()
    for own in (Path(explorer.__file__).resolve().parent, RESOURCES.resolve()):
        assert not start.is_relative_to(own)
    assert start in (Path.home(), Path.home() / "Documents")


def press(qtbot, window, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier, on=None) -> None:
    """A key pressed with the window in front, as a user presses a shortcut, on the
    widget `on` (the latent plot unless given)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    QTest.keyClick(on or window.latent_view, key, modifiers)


def test_train_and_stop_keys(qtbot, window):
    """Ctrl+Return trains, Ctrl+Shift+Return stops; the status bar says what happened,
    the autosave after it only second."""
    ctrl = Qt.KeyboardModifier.ControlModifier
    window.panel.epochs_spin.setValue(1000)
    window.panel.batch_spin.setValue(32)
    with qtbot.waitSignal(window.trainer.epochShown, timeout=30_000):
        press(qtbot, window, Qt.Key.Key_Return, ctrl)
    assert not window.panel.train_button.isEnabled()
    with qtbot.waitSignal(window.trainer.runningChanged, timeout=30_000):
        press(qtbot, window, Qt.Key.Key_Return, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert window.panel.progress.format() == "stopped"
    status = window.statusBar()
    # (the whole message is the bar's tooltip: on a narrow window the path is elided)
    qtbot.waitUntil(lambda: "A copy is kept in" in status.toolTip(), timeout=10_000)
    assert status.currentMessage().startswith("Training stopped after epoch ")
    assert " of 1000 " in status.currentMessage()


def test_map_and_pin_keys(qtbot, window):
    """Ctrl+M shows the manifold map and hides it again; Esc releases a pinned code."""
    manifold = window.plane_bar.manifold
    with qtbot.waitSignal(manifold.shown, timeout=10_000):
        press(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert manifold.check.isChecked() and all(t.isVisible() for t in manifold.tiles)
    press(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert not manifold.check.isChecked() and not any(t.isVisible() for t in manifold.tiles)
    with qtbot.waitSignal(window.session.pinnedChanged):
        QTest.mouseClick(window.latent_view.viewport(), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.session.pinnedChanged):
        press(qtbot, window, Qt.Key.Key_Escape)
    assert not window.session.pinned


def every_command(window) -> list[QAction]:
    return [
        pick(window, p)
        for m in window.menuBar().actions()
        for p in menu_paths(m.menu(), (m.text(),))
    ]


# Commands that share a key because they are never enabled together (Esc releases a
# pinned code first, then clears the selection: test_selection_app.py).
SHARED_KEYS = {"Esc": {"&Release pinned code", "Clear &selection"}}


def test_no_two_commands_share_a_shortcut(window):
    by_key: dict[str, set[str]] = {}
    for a in every_command(window):
        if not a.shortcut().isEmpty():
            by_key.setdefault(a.shortcut().toString(), set()).add(a.text())
    assert len(by_key) >= 6
    shared = {key: names for key, names in by_key.items() if len(names) > 1}
    assert shared == SHARED_KEYS


def test_help_lists_every_shortcut(qtbot, window):
    pick(window, ("&Help", "&Keyboard shortcuts")).trigger()
    dialog = next(
        d for d in QApplication.topLevelWidgets() if d.windowTitle() == "Keyboard shortcuts"
    )
    qtbot.waitExposed(dialog)
    table = dialog.findChild(QTableWidget, "shortcutsTable")
    rows = {(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())}
    for action in every_command(window):
        if not action.shortcut().isEmpty():
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            assert any(k == keys and d.endswith(action.text().replace("&", "")) for k, d in rows)
    assert ("Ctrl+Return", "Model ▸ Train") in rows
    assert any(k == "Shift+Click" for k, _ in rows)  # the plot's own gestures too
    dialog.close()


def test_no_slot_takes_its_argument_from_a_default():
    """A lambda whose first parameter has a default, used as a slot, takes the signal's
    value there (`checked` for a menu command): the defect of 11 commands. The window's
    lambdas are slots, or handed to what connects them."""
    import ast

    import explorer

    found = []
    for path in (Path(explorer.__file__).parent / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            params = node.args if isinstance(node, ast.Lambda) else None
            if params and params.args and len(params.defaults) == len(params.args):
                found.append(f"{path.name}:{node.lineno}")  # its first one has a default
    assert not found


def mnemonic(text: str) -> str | None:
    """The key Alt or a menu's letter picks `text` by ("&Save" -> "s"; "&&" is an "&")."""
    i = text.replace("&&", "").find("&")
    return text.replace("&&", "")[i + 1].lower() if i >= 0 else None


def test_a_menu_letter_picks_one_command(qtbot, window):
    """With two commands on one letter Qt only moves between them: a keyboard user
    pressing File, then E, landed on 'Open model trained elsewhere' instead of Export."""
    menus = [(("menu bar",), [a for a in window.menuBar().actions()])]
    while menus:
        where, actions = menus.pop()
        letters = [mnemonic(a.text()) for a in actions if not a.isSeparator()]
        taken = [k for k in letters if k is not None]
        assert len(taken) == len(set(taken)), f"{plain(where)}: {sorted(taken)}"
        menus += [((*where, a.text()), a.menu().actions()) for a in actions if a.menu()]


def test_file_then_x_opens_the_export_menu(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    file_menu = window.menuBar().actions()[0].menu()
    qtbot.waitUntil(file_menu.isVisible)
    QTest.keyClick(file_menu, Qt.Key.Key_X)
    export = next(a.menu() for a in file_menu.actions() if a.menu() and "xport" in a.text())
    qtbot.waitUntil(export.isVisible)
    export.close()
    file_menu.close()


def test_the_model_menu_ticks_the_bundled_model_on_screen(
    qtbot, window, tmp_path, monkeypatch, small_builtins
):
    def ticked() -> list[str]:
        return [a.text() for a in pick(window, ("&Model",)).menu().actions() if a.isChecked()]

    assert ticked() == []  # a model from a file of the user's own
    with qtbot.waitSignal(window.session.codesChanged, timeout=60_000):
        pick(window, ("&Model", "Bundled: sprites")).trigger()
    assert ticked() == ["Bundled: sprites"]
    dialogs = Dialogs(tmp_path, monkeypatch)
    pick(window, ("&File", "&Save checkpoint as…")).trigger()  # now the user's own file
    assert dialogs.saved[0].exists() and ticked() == []
