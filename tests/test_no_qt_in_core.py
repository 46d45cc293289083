"""`explorer.core` and the CLI import no Qt (DESIGN §2), checked in a fresh interpreter."""

import subprocess
import sys


def test_core_and_cli_load_no_qt():
    code = (
        "import sys, explorer.core, explorer.core.training, explorer.core.checkpoint, "
        "explorer.core.metrics, explorer.core.projection, explorer.core.data, explorer.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'superqt', 'qtpy'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
