"""A watchdog for the test run, in a process of its own: when one test has run longer
than a limit, every thread of the pytest process is dumped with its native frames
(py-spy), so a freeze in C++ shows where it waits.

pytest's faulthandler_timeout prints Python frames only. The CI suite once froze with a
single Python thread whose newest frame was pytest's call of the test: the wait was in
C++ (Qt's or torch's), behind frames faulthandler cannot show. This process reads the
test in progress from a file the run rewrites as each test starts (tests/conftest.py),
and is started only where `py-spy` is installed (`.ci/run` installs it).

    python .ci/hang_watch.py PID PROGRESS_FILE SECONDS [POLL_SECONDS]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(pid: int, progress: Path, limit_s: float, poll_s: float = 5.0) -> None:
    """Until `pid` ends: dump its native stacks once per test that runs past `limit_s`,
    looking at `progress` every `poll_s` seconds."""
    dumped: tuple[str, float] | None = None  # the test (name, start) last dumped
    while _alive(pid):
        time.sleep(poll_s)
        try:
            started, test = progress.stat().st_mtime, progress.read_text()
        except OSError:
            continue
        if time.time() - started < limit_s or dumped == (test, started):
            continue
        dumped = (test, started)
        print(
            f"\nhang_watch: {test} has run for {time.time() - started:.0f} s; "
            f"native stacks of process {pid}:",
            file=sys.stderr,
            flush=True,
        )
        spy = shutil.which("py-spy")
        if spy is not None:
            subprocess.run([spy, "dump", "--native", "--pid", str(pid)], stdout=sys.stderr)


if __name__ == "__main__":
    watch(int(sys.argv[1]), Path(sys.argv[2]), *map(float, sys.argv[3:5]))
