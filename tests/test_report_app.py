"""File ▸ Export ▸ Report… in the window: where it cannot write, the user is told why,
before any work, and the window keeps what it showed. (Writing it is walked with every
other command in tests/test_menus.py.)"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from tests.gui import pick


def test_a_report_that_cannot_be_written_is_one_message(qtbot, window, tmp_path, monkeypatch):
    target = tmp_path / "missing" / "report.html"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    shown = window.decoder_view.image.copy()
    with qtbot.waitSignal(window.errorShown, timeout=5000) as error:
        pick(window, ("&File", "E&xport", "&Report (HTML)…")).trigger()
    message = error.args[0]
    assert message.count("\n") == 0 and str(target) in message and "does not exist" in message
    assert not target.parent.exists()
    assert (window.decoder_view.image == shown).all()
