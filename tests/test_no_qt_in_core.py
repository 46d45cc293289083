"""What the packages load, checked in fresh interpreters: `explorer.core` and the CLI
load no Qt; the app loads torch before Qt (which slows every later import).

The import contracts (tests/test_import_contracts.py, docs/architecture.md "Layers") read
the package's own import statements; the first test here runs them, so it also catches Qt
pulled in by a third-party package or an import made at run time."""

import subprocess
import sys


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_core_and_cli_load_no_qt():
    result = _run(
        "import sys, explorer.core, explorer.core.training, explorer.core.checkpoint, "
        "explorer.core.metrics, explorer.core.projection, explorer.core.data, explorer.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'superqt', 'qtpy'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_loads_torch_before_qt():
    # sys.modules keeps the order modules were first imported in
    result = _run(
        "import sys, explorer.app\n"
        "names = list(sys.modules)\n"
        "first_qt = min(i for i, m in enumerate(names) if m.startswith('PySide6'))\n"
        "late = [m for m in names[first_qt:] if m.split('.')[0] == 'torch']\n"
        "print(late[:5])\n"
        "sys.exit(1 if len(late) > 0 else 0)\n"
    )
    assert result.returncode == 0, "torch modules imported after Qt: " + result.stdout


def test_importing_the_package_loads_neither_torch_nor_qt():
    # the API's names load their modules when first used (explorer/__init__.py)
    result = _run(
        "import sys, explorer\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6'))\n"
        "explorer.train, explorer.load_checkpoint\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6')\n"
        "print(heavy[:3], qt[:3])\n"
        "sys.exit(1 if heavy or qt or 'torch' not in sys.modules else 0)\n"
    )
    assert result.returncode == 0, result.stdout + result.stderr
