"""The CI's watchdog names a test that runs past its limit (tests/hang_watch.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path


def test_a_test_past_its_limit_is_named_with_its_process(tmp_path):
    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(4)"])
    reaped = threading.Thread(target=stuck.wait)  # (a zombie would look alive)
    reaped.start()
    progress = tmp_path / "progress"
    progress.write_text("tests/test_x.py::test_stuck")
    watch = Path(__file__).with_name("hang_watch.py")
    run = subprocess.run(
        [sys.executable, str(watch), str(stuck.pid), str(progress), "0", "0.2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    reaped.join()
    said = run.stderr
    assert said.count("hang_watch: tests/test_x.py::test_stuck has run for") == 1  # once
    assert f"native stacks of process {stuck.pid}" in said
