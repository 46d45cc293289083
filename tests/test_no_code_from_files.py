"""No code execution from files: the package never unpickles anything a user opens.

Scans the syntax tree of every module in `explorer/`: no pickle-family import, no
`torch.load` without `weights_only=True`, no `np.load` without `allow_pickle=False`.
TorchScript (`torch.jit.load`) runs the code of a model the user chose to open, so it
is allowed in the one module that opens models trained elsewhere, and nowhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "explorer"
TORCHSCRIPT_LOADER = "core/external_files.py"
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal"}


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def problems(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] in UNSAFE_MODULES for n in names):
                found.append(f"{line}: imports {', '.join(n for n in names if n)}")
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name == "torch.load" and _keyword(node, "weights_only") is not True:
            found.append(f"{line}: torch.load without weights_only=True")
        if name == "torch.jit.load" and where != TORCHSCRIPT_LOADER:
            found.append(f"{line}: torch.jit.load outside {TORCHSCRIPT_LOADER}")
        if name in ("np.load", "numpy.load") and _keyword(node, "allow_pickle") is not False:
            found.append(f"{line}: np.load without allow_pickle=False")
    return found


def test_the_package_never_unpickles():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    found = [p for m in modules for p in problems(m.read_text(), str(m.relative_to(PACKAGE)))]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "import pickle",
        "from joblib import load",
        "import torch\ntorch.load(path)",
        "torch.load(path, weights_only=False)",
        "np.load(path)",
        "np.load(path, allow_pickle=True)",
        "torch.jit.load(path)",
    ],
)
def test_the_scan_catches_each_unsafe_form(source):
    assert problems(source, "x.py")


def test_the_scan_accepts_the_safe_forms():
    safe = "torch.load(p, weights_only=True)\nnp.load(p, allow_pickle=False)\nimport json"
    assert problems(safe, "x.py") == []
