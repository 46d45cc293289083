"""The PySide6 canary: 6.12.0 on Python 3.11 aborts after ~1-2k emits (docs/architecture.md,
"Dependencies").

Run in a child process so a regression shows up as this test failing with the
fatal error, not as the whole test run dying.
"""

import subprocess
import sys

CODE = """
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    ping = Signal(bool)

app = QCoreApplication([])
e = Emitter()
seen = [0]
e.ping.connect(lambda v: seen.__setitem__(0, seen[0] + v))
for _ in range(100_000):
    e.ping.emit(True)
print(seen[0])
"""


def test_one_hundred_thousand_signal_emits():
    r = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "100000"
