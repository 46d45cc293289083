"""No file of the project holds a merge's conflict markers.

Ruff catches them in Python, but not in the README, the docs, the CI script or a
notebook, where a merge once left both sides of a paragraph in docs/architecture.md.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the project's own text: what a merge can leave markers in
PLACES = ("explorer", "tests", "scripts", "docs", "examples", "resources", ".ci")
SUFFIXES = {".py", ".md", ".toml", ".ipynb", ".txt", ".cfg", ".json", ""}
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def _text_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for place in PLACES:
        files += [p for p in (ROOT / place).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return files


def test_no_file_holds_conflict_markers():
    marked = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # (a binary file without a suffix)
        if MARKER.search(text):
            marked.append(str(path.relative_to(ROOT)))
    assert not marked, f"conflict markers left by a merge in: {', '.join(marked)}"


def test_the_check_finds_a_marker():
    text = "before\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\nafter\n"
    assert len(MARKER.findall(text)) == 3
    assert not MARKER.search("x = 1  # <<<<<<< not at a line's start\n======== a rule\n")
