"""docs/api.md: its examples run as written, and it names exactly the API's names
(`explorer.__all__`), each of which resolves."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import explorer

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # (the two that open a window would wait for it to close: the API's own tests open
    # windows the same way, on a model of their own)
    runnable = [b for b in _blocks() if "explorer.explore(" not in b]
    assert len(runnable) == len(_blocks()) - 2  # the signature and the handle's example
    out = io.StringIO()
    for block in runnable:
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(DOC), "exec"), {"__name__": "__docs__"})
    printed = out.getvalue()
    assert "labels: shape (99,) for 100 images; expected (100,)" in printed
    assert "epoch 2: validation ELBO" in printed and "Trained 2 epochs" in printed


def test_the_names_are_the_apis():
    table = DOC.read_text(encoding="utf-8").split("## Names", 1)[1]
    named = set(re.findall(r"`(\w+)`", table))
    assert named == set(explorer.__all__) - {"__version__"}
    for name in explorer.__all__:
        assert getattr(explorer, name) is not None
