"""`explorer.explore` from a plain script, in a process of its own: the call blocks while
the window is open (runs Qt's event loop) and returns the handle once it is closed; with
block=False it returns at once and `wait()` runs the window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCRIPT = '''
import numpy as np
import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
from torch import nn

import explorer


class TinyVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(64, 4)
        self.dec = nn.Linear(2, 64)

    def encode(self, x):  # x: (B, 64)
        mu, logvar = self.enc(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return torch.sigmoid(self.dec(z))


def while_open():
    """Runs inside explore(), from the event loop it runs: the call has not returned."""
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow))
    print("open:", window.windowTitle(), "| visible:", window.isVisible(), flush=True)
    window.close()


app = QApplication([])
QTimer.singleShot(0, while_open)
images = np.random.default_rng(0).random((50, 8, 8))
handle = explorer.explore(TinyVAE(), images, labels=np.arange(50) % 5)
print("returned: closed", handle.closed, "| code", handle.code.tolist(), flush=True)

# block=False in a script: the window opens, the script goes on; wait() runs it
again = explorer.explore(TinyVAE(), torch.rand(20, 1, 8, 8), block=False)
again.code = [0.5, -0.5]
QTimer.singleShot(0, again.close)
again.wait()
print("again: closed", again.closed, "| code", again.code.tolist(), flush=True)
'''


def test_a_script_blocks_until_the_window_is_closed(tmp_path):
    script = tmp_path / "explore_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "open: Latent Explorer — TinyVAE (from Python) | visible: True",
        "returned: closed True | code [0.0, 0.0]",
        "again: closed True | code [0.5, -0.5]",
    ]
    assert "Traceback" not in result.stderr
