"""The architecture as declared: pyproject.toml's import-linter contracts hold.

Which module may import which is written once, in `[tool.importlinter]` (the layers, the
core importing no front end, the CLI no window, neither of them Qt; docs/architecture.md
explains them). These tests run import-linter over the package as it is, and over copies
with one forbidden import planted, so a contract that could never break would show.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the package under `root`, with the pyproject.toml there."""
    code = "import sys, importlinter.cli as c; sys.exit(c.lint_imports(no_cache=True))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_the_contracts_hold():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("core/pca.py", "import PySide6.QtCore", "No Qt in the core or the headless CLI"),
        ("core/metrics.py", "import pyqtgraph", "No Qt in the core or the headless CLI"),
        ("core/checks.py", "from explorer.ui import state", "The core imports no front end"),
        ("cli.py", "from explorer.ui import theme", "The headless CLI imports no window"),
        ("cli.py", "from explorer import app", "Layers"),
        ("logs.py", "from explorer import autosave", "Layers"),
        ("app.py", "from explorer import api", "Layers"),
        ("core/in_memory.py", "import explorer.api", "The core imports no front end"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, planted, contract):
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(
        REPO / "explorer", tmp_path / "explorer", ignore=shutil.ignore_patterns("__pycache__")
    )
    with open(tmp_path / "explorer" / module, "a", encoding="utf-8") as f:
        f.write(f"\n{planted}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    importer = "explorer." + module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> " in broken  # the report names the module that broke it
