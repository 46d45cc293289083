"""What the window tells a user about their settings and their runs: tips on every
setting, what a run did, a refusal before a pointless dialog, the app's names."""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QScrollBar,
)

from explorer.core.config import KINDS
from tests.gui import pick, train

_SETTINGS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox)


def settings_of(widget) -> list:
    """The controls a user sets in `widget` (scroll bars left out: they set no setting)."""
    found = [w for t in _SETTINGS for w in widget.findChildren(t)]
    return [w for w in found if not isinstance(w, QScrollBar)]


def test_every_training_setting_and_plane_control_has_a_tip(window):
    controls = settings_of(window.panel) + settings_of(window.plane_bar)
    assert len(controls) >= 20
    untipped = [w.objectName() or type(w).__name__ for w in controls if not w.toolTip()]
    assert not untipped
    assert "(Ctrl+Return)" in window.panel.train_button.toolTip()
    assert "(Ctrl+Shift+Return)" in window.panel.stop_button.toolTip()
    assert "(Ctrl+M)" in window.plane_bar.manifold.check.toolTip()


def test_after_pca_the_loss_panel_says_why_there_is_no_curve(qtbot, window):
    window.panel.kind_combo.setCurrentIndex(KINDS.index("pca"))
    title = window.panel.loss_plot.plotItem.titleLabel
    assert "Press Train" in title.text
    assert train(qtbot, window).status == "completed"
    assert "closed form: no loss curve" in title.text and "Press Train" not in title.text


def test_opening_while_training_is_refused_before_the_file_dialog(qtbot, window, monkeypatch):
    asked = []
    for getter in ("getOpenFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, getter, staticmethod(lambda *a, g=getter: asked.append(g)))
    window.panel.epochs_spin.setValue(1000)
    window.panel.batch_spin.setValue(32)
    with qtbot.waitSignal(window.trainer.runningChanged):
        window.panel.train_button.click()
    for command in (
        "&Open checkpoint…",
        "Open model trained &elsewhere…",
        "Open &dataset…",
        "Open dataset &folder…",
        "Open β s&weep folder…",
    ):
        with qtbot.waitSignal(window.errorShown) as shown:
            pick(window, ("&File", command)).trigger()
        assert "Training is running: stop it before opening" in shown.args[0]
    assert not asked  # no dialog was shown for nothing
    for box in window.findChildren(QMessageBox):
        box.close()
    with qtbot.waitSignal(window.trainer.runningChanged, timeout=30_000):
        window.panel.stop_button.click()


def test_the_app_is_named_for_taskbars():
    """X11 groups windows by WM_CLASS, taken from argv[0]: not "__main__.py"."""
    code = (
        "from explorer.app import application; app = application(); "
        "print(app.arguments()[0], app.desktopFileName(), app.applicationName(), sep='|')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "latent-explorer|latent-explorer|Latent Explorer"


def test_first_run_hint_is_shown_once_and_never_in_the_way(qtbot, tiny_checkpoint, tmp_path):
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QFrame, QPushButton

    from explorer.app import build_main_window

    fresh = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    first = build_main_window(tiny_checkpoint, settings=fresh)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    hint = first.findChild(QFrame, "firstRunHint")
    assert hint is not None and hint.isVisible()
    assert "Ctrl+Return" in hint.findChild(QLabel).text()
    plot = first.latent_view
    assert plot.rect().contains(hint.geometry())  # over the plot, inside it
    # not modal: the first click goes to the plot
    with qtbot.waitSignal(first.session.pinnedChanged):
        QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(80, 200))
    QTest.mouseClick(hint.findChild(QPushButton, "firstRunHintClose"), Qt.MouseButton.LeftButton)
    assert not hint.isVisible()
    first.shutdown()

    again = build_main_window(tiny_checkpoint, settings=fresh)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.findChild(QFrame, "firstRunHint") is None
    again.shutdown()


def stop_mid_run(qtbot, window) -> None:
    """Press Train on a long run, then Stop once its first steps are drawn."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.panel.epochs_spin.setValue(200)
    window.panel.batch_spin.setValue(16)
    with qtbot.waitSignal(window.panel.progress.valueChanged, timeout=30_000):
        QTest.mouseClick(window.panel.train_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.trainer.finished, timeout=10_000):
        QTest.mouseClick(window.panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.trainer.running)


def test_a_long_status_message_on_a_laptop_screen_is_elided_not_cut(qtbot, window, autosave):
    """After Stop the status bar says what happened and where the copy is kept: on a
    1366-wide window the path ran under the model's and device's labels, cut off
    mid-word. It ends in "…" instead, and the whole message is its tooltip."""
    window.resize(1366, 705)
    stop_mid_run(qtbot, window)
    bar = window.statusBar()
    qtbot.waitUntil(lambda: "A copy is kept" in bar.toolTip() + bar.currentMessage())
    full = bar.toolTip()
    # "in its first epoch" or "after epoch N": where Stop lands is the machine's pace
    assert full.startswith("Training stopped ") and full.endswith("until saved.")
    shown = bar.currentMessage()
    room = bar.model_label.geometry().left()
    assert bar.fontMetrics().horizontalAdvance(shown) <= room
    assert shown.endswith("…") and full.startswith(shown[:-1])
