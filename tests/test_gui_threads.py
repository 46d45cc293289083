"""The window paints on its own thread: Qt's raster engine would hand large fills to a
pool of threads and wait for them, which beside training (both cores busy) slowed both
the window and the training (see `explorer.app.application`)."""

import os
import subprocess
import sys

import pytest

CODE = """
import os
from explorer.app import application
from PySide6.QtGui import QColor, QImage, QPainter

app = application()
threads = lambda: len(os.listdir("/proc/self/task"))
before = threads()
image = QImage(800, 800, QImage.Format.Format_ARGB32_Premultiplied)
painter = QPainter(image)
painter.setRenderHint(QPainter.RenderHint.Antialiasing)
painter.setBrush(QColor(200, 30, 30, 128))
painter.drawEllipse(10, 10, 700, 700)  # hundreds of spans: a fill Qt would split
painter.fillRect(0, 0, 800, 800, QColor(10, 20, 30, 100))
painter.end()
print(before, threads())
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_large_fills_start_no_threads():
    env = {k: v for k, v in os.environ.items() if k != "QT_NO_GUI_THREADPOOL"}
    r = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120, env=env
    )
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    assert after == before, f"painting started {after - before} thread(s)"
