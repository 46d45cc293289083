"""UI speed against DESIGN §5, offscreen, on the real main window.

  hover       mouse move on the plot -> decoded image repainted (p50, p99), for the bundled
              digits (28×28 MLP) and sprites (64×64) models
  frame       mouse move -> everything it causes done (plot marker and focus ellipses,
              sliders, status bar repainted): what one move costs the event loop
  timer       how late a 10 ms QTimer fires while training runs in the worker (p99)
  stop        Stop pressed mid-training on sprites (50,000 images) -> the run reported
              finished in the window (median of 3)
  scatter     60,000 points: full refresh (rebuild + full repaint), and a marker move
              (set z, then the event loop's own repaint of what changed)
  cold_start  a fresh process: start -> window shown with the scatter drawn

Prints one JSON line; exits 1 when any figure misses its target. `--only hover,scatter`
runs a subset (to compare two versions quickly).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QPoint, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from explorer.app import application, build_main_window  # noqa: E402
from explorer.core.data import make_digits  # noqa: E402
from explorer.resources import bundled_model  # noqa: E402
from explorer.ui.decoder_view import DecoderView  # noqa: E402

TARGETS = {
    "hover_digits_p50_ms": 2.0,
    "hover_digits_p99_ms": 8.0,
    "hover_sprites_p99_ms": 16.0,
    # everything one move causes fits in a 60 Hz frame, so moves never queue
    "frame_digits_p99_ms": 16.0,
    "frame_sprites_p99_ms": 16.0,
    "timer_late_p99_ms": 30.0,
    "stop_latency_ms": 500.0,
    "scatter_refresh_ms": 150.0,
    "marker_repaint_ms": 5.0,
    "cold_start_s": 4.0,
}


# When each decoded-image view finished a paint. The class is patched before any window
# exists: PySide looks Python overrides of virtual methods up when an object is made.
IMAGE_PAINTED: dict[DecoderView, list[float]] = {}
_paint = DecoderView.paintEvent


def _timed_paint(self, event) -> None:
    _paint(self, event)
    if self in IMAGE_PAINTED:
        IMAGE_PAINTED[self].append(time.perf_counter())


DecoderView.paintEvent = _timed_paint


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def wait_until(app, condition, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.005)


def open_window(app, name: str, settings: QSettings):
    w = build_main_window(bundled_model(name), settings=settings)
    w.resize(1440, 860)
    w.show()
    wait_until(
        app, lambda: w.session.codes is not None and len(w.session.codes) == len(w.session.dataset)
    )
    return w


def hover_times(app, w, moves: int = 400) -> tuple[list[float], list[float]]:
    """Milliseconds from a mouse move to (the new decoded image painted, the whole frame
    done: plot marker, focus ellipses, sliders and status bar repainted too)."""
    vp = w.latent_view.viewport()
    rng = np.random.default_rng(0)
    image, frame = [], []
    decoded: list[bool] = []
    painted: list[float] = []  # when the decoded image's view finished a paint
    w.latent_view.hoverDecoded.connect(lambda: decoded.append(True))
    IMAGE_PAINTED[w.decoder_view] = painted
    for _ in range(moves):
        pos = QPoint(
            int(rng.integers(40, vp.width() - 40)), int(rng.integers(40, vp.height() - 40))
        )
        decoded.clear()
        painted.clear()
        t0 = time.perf_counter()
        QTest.mouseMove(vp, pos)
        while not (decoded and painted):
            app.processEvents()
        for _ in range(3):  # the rest of the frame (the scene posts its repaint in steps)
            app.processEvents()
        image.append((painted[0] - t0) * 1000)
        frame.append((time.perf_counter() - t0) * 1000)
    del IMAGE_PAINTED[w.decoder_view]
    return image[20:], frame[20:]  # the first moves warm caches


def timer_lateness(app, w, seconds: float = 6.0) -> list[float]:
    """Lateness (ms) of a 10 ms timer while the window trains its model."""
    w.panel.epochs_spin.setValue(1000)
    w.trainer.start()
    wait_until(app, lambda: len(w.panel.series["step"]) > 0)
    late: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer(interval=10)
    timer.setTimerType(timer.timerType().PreciseTimer)

    def tick():
        late.append(max(clock.restart() - 10, 0))

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    w.trainer.stop()
    wait_until(app, lambda: not w.trainer.running)
    return late[5:]


def stop_latency(app, w, runs: int = 3) -> list[float]:
    """Milliseconds from pressing Stop to the window showing the run as stopped."""
    w.panel.epochs_spin.setValue(1000)
    finished: list[float] = []
    w.trainer.finished.connect(lambda _p: finished.append(time.perf_counter()))
    out = []
    for _ in range(runs):
        finished.clear()
        w.trainer.start()
        wait_until(app, lambda: len(w.panel.series["step"]) > 20)
        t0 = time.perf_counter()
        w.panel.stop_button.click()
        wait_until(app, lambda: bool(finished))
        out.append((finished[0] - t0) * 1000)
        wait_until(app, lambda: not w.trainer.running)
    return out


def scatter_times(app, w) -> tuple[float, float]:
    s = w.session
    data = make_digits(60_000, seed=1)
    codes = np.random.default_rng(0).normal(size=(60_000, s.latent_dim))
    s.dataset = data
    s.codes = codes
    refresh, marker = [], []
    vp = w.latent_view.viewport()
    for _ in range(5):
        t0 = time.perf_counter()
        w.latent_view.refresh()
        vp.repaint()
        refresh.append((time.perf_counter() - t0) * 1000)
    for i in range(50):
        z = np.array([np.sin(i / 5), np.cos(i / 5)] + [0.0] * (s.latent_dim - 2))
        t0 = time.perf_counter()
        s.set_z(z)
        app.processEvents()  # the event loop repaints what changed: the marker's region
        marker.append((time.perf_counter() - t0) * 1000)
    return statistics.median(refresh), statistics.median(marker)


def cold_start() -> float:
    code = (
        "import os,time,sys;t0=float(sys.argv[1]);os.environ['QT_QPA_PLATFORM']='offscreen';"
        "sys.path.insert(0, sys.argv[2]);"
        "from explorer.app import application, build_main_window;"
        "from PySide6.QtCore import QSettings;"
        "app=application();"
        "w=build_main_window(settings=QSettings(sys.argv[3], QSettings.Format.IniFormat));"
        "w.show();"
        "import time as T\n"
        "while w.session.codes is None: app.processEvents(); T.sleep(0.002)\n"
        "w.latent_view.viewport().repaint();print(time.time()-t0)"
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(time.time()),
                str(ROOT),
                f"/tmp/bench-ui-{os.getpid()}.ini",
            ],
            capture_output=True,
            text=True,
        )
        runs.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(runs)


GROUPS = ("hover", "timer", "scatter", "stop", "cold_start")


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated subset of {', '.join(GROUPS)}"
    )
    only = set(ap.parse_args().only.split(","))
    app = application()
    settings = QSettings(f"/tmp/bench-ui-{os.getpid()}.ini", QSettings.Format.IniFormat)
    r: dict = {"benchmark": "ui"}

    def p50_p99(name: str, values: list[float]) -> None:
        r[f"{name}_p50_ms"] = round(pct(values, 50), 2)
        r[f"{name}_p99_ms"] = round(pct(values, 99), 2)

    for model in ("digits", "sprites"):
        if not only & {"hover", "timer", "scatter", "stop"}:
            break
        w = open_window(app, model, settings)
        if "hover" in only:
            image, frame = hover_times(app, w)
            p50_p99(f"hover_{model}", image)
            p50_p99(f"frame_{model}", frame)
        if model == "digits" and "timer" in only:
            late = timer_lateness(app, w)
            r["timer_late_p99_ms"] = round(pct(late, 99), 1)
            r["timer_late_p50_ms"] = round(pct(late, 50), 1)
        if model == "digits" and "scatter" in only:
            r["scatter_refresh_ms"], r["marker_repaint_ms"] = (
                round(v, 2) for v in scatter_times(app, w)
            )
        if model == "sprites" and "stop" in only:
            r["stop_latency_ms"] = round(statistics.median(stop_latency(app, w)))
        w.session.info.unsaved = False
        w.close()
    if "cold_start" in only:
        r["cold_start_s"] = round(cold_start(), 2)
    r["targets"] = {k: t for k, t in TARGETS.items() if k in r}
    r["failed"] = [k for k, t in r["targets"].items() if r[k] > t]
    print(json.dumps(r))
    return 1 if r["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
