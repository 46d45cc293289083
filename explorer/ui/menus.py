"""The menu bar: every command a user can pick, bound to the window's controllers.

Each command goes through `add_action`, which calls its slot with the arguments given
here and never with the `checked` flag Qt passes (the bug that broke 11 commands once);
`tests/test_menus.py` walks every action built here, so a new command is tested as a
user picks it without a test of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from explorer.core.data import BUILTINS
from explorer.resources import BUNDLED_MODELS, bundled_model
from explorer.ui.about import show_about
from explorer.ui.actions import add_action, shortcut_text
from explorer.ui.kl_directions_view import show_kl_directions
from explorer.ui.shortcuts_dialog import show_shortcuts

if TYPE_CHECKING:
    from explorer.ui.main_window import MainWindow

# Not taken by Qt's standard keys or the desktops' own (Ctrl+. opens IBus's emoji picker)
TRAIN_SHORTCUT = "Ctrl+Return"
STOP_SHORTCUT = "Ctrl+Shift+Return"
MAP_SHORTCUT = "Ctrl+M"

# File ▸ Export's images: (the exporter's name of the view, the command's text)
_PNG_EXPORTS = [
    ("image", "Decoded &image…"),
    ("plot", "Latent &plot…"),
    ("traversals", "&Traversals…"),
    ("kl", "&KL per dimension…"),
    ("interpolation", "I&nterpolation…"),
    ("data point", "Inspected &data point…"),
    ("factors", "&Factors table…"),
    ("classes", "Cla&sses…"),
    ("inpainting", "Inpaintin&g…"),
    ("compare", "Co&mpared models…"),
    ("loss", "&Loss curves…"),
]


def build_menu_bar(w: MainWindow) -> QAction:
    """Fill `w`'s menu bar; returns the Train command (its keys are named in hints)."""
    bar = w.menuBar()
    _build_file_menu(w, bar.addMenu("&File"))
    models = bar.addMenu("&Model")
    _build_bundled_actions(w, models)
    models.addSeparator()
    train = _build_training_actions(w, models)
    data = bar.addMenu("&Data")
    for name in BUILTINS:
        add_action(data, f"Built-in: {name}", w.open_dataset, name)
    _build_view_actions(w, bar.addMenu("&View"))
    help_menu = bar.addMenu("&Help")
    add_action(help_menu, "&Keyboard shortcuts", lambda: show_shortcuts(w))
    add_action(help_menu, "&Forward vs reverse KL…", lambda: show_kl_directions(w))
    add_action(help_menu, "&About Latent Explorer", lambda: show_about(w))
    return train


def _build_bundled_actions(w: MainWindow, menu: QMenu) -> None:
    """One command per bundled model, the one on screen marked (from its file, however
    it was opened; as the menu opens, so a model saved elsewhere since is not)."""
    one_of = QActionGroup(menu)  # drawn as radio items: one model is on screen, or none
    one_of.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
    bundled = {}
    for name in BUNDLED_MODELS:
        bundled[name] = add_action(menu, f"Bundled: {name}", w.open_bundled, name)
        bundled[name].setCheckable(True)
        one_of.addAction(bundled[name])

    def tick() -> None:
        path = w.session.info.path
        shown = None if path is None else path.resolve()
        for name, action in bundled.items():
            action.setChecked(shown == bundled_model(name).resolve())

    menu.aboutToShow.connect(tick)


def _build_file_menu(w: MainWindow, m: QMenu) -> None:
    add_action(
        m,
        "&Open checkpoint…",
        lambda: w.opener.ask_open("checkpoint"),
        shortcut=QKeySequence.StandardKey.Open,
    )
    add_action(m, "Open model trained &elsewhere…", lambda: w.opener.ask_open_external())
    add_action(m, "Open &dataset…", lambda: w.opener.ask_open("dataset"))
    add_action(m, "Open dataset &folder…", lambda: w.opener.ask_open("folder"))
    add_action(m, "Open β s&weep folder…", w.ask_open_sweep)
    add_action(m, "Follow training r&un…", w.follower.ask_follow)
    stop = add_action(m, "Stop followin&g", w.follower.stop)
    stop.setEnabled(False)
    w.follower.followingChanged.connect(stop.setEnabled)
    m.addMenu(w.recent.menu)
    m.addSeparator()
    add_action(
        m, "&Save checkpoint as…", w.ask_save_checkpoint, shortcut=QKeySequence.StandardKey.Save
    )
    exports = m.addMenu("E&xport")
    pngs = {
        what: add_action(exports, f"{text} (PNG)", w.exporter.ask_export, what)
        for what, text in _PNG_EXPORTS
    }
    # a view with nothing to export yet is greyed out, its status tip saying why
    exports.aboutToShow.connect(lambda: _enable_exports(w, pngs))
    _follow_classes(w, pngs["classes"])
    add_action(exports, "&Codes of the dataset (CSV / NPY)…", w.exporter.ask_export_codes)
    _build_selection_exports(w, exports)
    add_action(exports, "&Report (HTML)…", w.exporter.ask_export_report)
    m.addSeparator()
    add_action(m, "&Quit", w.close, shortcut=QKeySequence.StandardKey.Quit)


def _build_selection_exports(w: MainWindow, exports: QMenu) -> None:
    """The selection's codes and images, greyed out (saying why) while nothing is selected."""
    chosen = w.selection_exporter
    actions = [
        add_action(exports, "Selecti&on: indices and codes (CSV / NPY)…", chosen.ask_export_codes),
        add_action(exports, "Selection's images as a s&heet… (PNG)", chosen.ask_export_sheet),
    ]

    def enable() -> None:
        missing = chosen.missing()
        for action in actions:
            action.setEnabled(missing is None)
            action.setStatusTip(missing[:1].upper() + missing[1:] if missing else "")

    exports.aboutToShow.connect(enable)


def _build_training_actions(w: MainWindow, menu: QMenu) -> QAction:
    """Train and Stop, as the panel's buttons, with shortcuts the buttons' tips name."""
    train = add_action(menu, "&Train", w.panel.train_button.click, shortcut=TRAIN_SHORTCUT)
    stop = add_action(menu, "&Stop training", w.panel.stop_button.click, shortcut=STOP_SHORTCUT)
    stop.setEnabled(False)
    w.trainer.runningChanged.connect(train.setDisabled)
    w.trainer.runningChanged.connect(stop.setEnabled)
    w.panel.name_shortcuts(shortcut_text(train), shortcut_text(stop))
    return train


def _build_view_actions(w: MainWindow, menu: QMenu) -> None:
    """The manifold map's switch, releasing a pinned code and clearing the selection,
    from the keyboard."""
    check = w.plane_bar.manifold.check
    shown = add_action(menu, "Manifold &map", check.toggle, shortcut=MAP_SHORTCUT)
    shown.setCheckable(True)
    check.toggled.connect(shown.setChecked)
    check.setToolTip(f"{check.toolTip()} ({shortcut_text(shown)})")
    release = add_action(
        menu, "&Release pinned code", lambda: w.session.set_pinned(False), shortcut="Esc"
    )
    release.setEnabled(False)  # until a code is pinned
    w.session.pinnedChanged.connect(release.setEnabled)
    # Esc clears the selection where no code is pinned, wherever the focus is: a filter on
    # the plot missed it once another control (a combo, a button) had taken the focus.
    # The two commands share the key and are never enabled together, so it is never
    # ambiguous: a pinned code is released first.
    selection = w.selection_view.selection
    clear = add_action(menu, "Clear &selection", selection.clear, shortcut="Esc")

    def follow() -> None:
        clear.setEnabled(len(selection) > 0 and not w.session.pinned)

    follow()
    selection.changed.connect(follow)
    w.session.pinnedChanged.connect(follow)


def _follow_classes(w: MainWindow, action: QAction) -> None:
    """Only a conditional model has classes: the command is there only then, as its tab."""

    def follow() -> None:
        action.setVisible(w.session.model is not None and w.session.model.conditional)

    w.session.modelChanged.connect(follow)
    follow()


def _enable_exports(w: MainWindow, actions: dict[str, QAction]) -> None:
    for what, action in actions.items():
        missing = w.exporter.missing(what)
        action.setEnabled(missing is None)
        action.setStatusTip(missing[:1].upper() + missing[1:] if missing else "")
