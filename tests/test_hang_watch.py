"""The CI's watchdog names a test that runs past its limit (.ci/hang_watch.py)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path


def test_a_test_past_its_limit_is_named_once_with_its_process(tmp_path):
    # a process that waits until it is let go: stuck, as far as the watchdog knows
    stuck = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    reaped = threading.Thread(target=stuck.wait)  # (a zombie would look alive)
    reaped.start()
    progress = tmp_path / "progress"
    progress.write_text("tests/test_x.py::test_stuck")
    watch = Path(__file__).parents[1] / ".ci" / "hang_watch.py"
    args = [str(stuck.pid), str(progress), "0", "0.05"]  # past a limit of 0 s at once
    watcher = subprocess.Popen([sys.executable, str(watch), *args], stderr=-1, text=True)
    try:
        said = watcher.stderr.readline() + watcher.stderr.readline()  # (a blank line first)
        assert re.fullmatch(
            rf"hang_watch: tests/test_x.py::test_stuck has run for \d+ s; "
            rf"native stacks of process {stuck.pid}:",
            said.strip(),
        )
    finally:
        stuck.stdin.close()  # let go: the watchdog ends with it
        reaped.join()
        rest = watcher.communicate(timeout=60)[1]
    assert "hang_watch:" not in rest  # once per test, however long it runs
