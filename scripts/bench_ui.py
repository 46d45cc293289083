"""UI speed against its targets (docs/performance.md), offscreen, on the real main window.

  hover       mouse move on the plot -> decoded image repainted (p50, p99), for the bundled
              digits (28×28 MLP) and sprites (64×64) models, and a 64-dimensional digits
              model (64 sliders follow the cursor; reported, same targets as digits)
  frame       mouse move -> everything it causes done (plot marker and focus ellipses,
              sliders, status bar repainted): what one move costs the event loop
  timer       how late a 10 ms QTimer fires while training runs in the worker (p99)
  stop        Stop pressed mid-training on sprites (50,000 images) -> the run reported
              finished in the window (median of 3)
  scatter     60,000 points: full refresh (codes on a new plane: points rebuilt, view
              fitted, axes redrawn, full repaint); new codes in the same frame, as after
              each training epoch (reported); a marker move (set z, then the event loop's
              own repaint of what changed)
  train       training samples/s in the window's worker thread against the core's loop
              in a process of its own (scripts/headless_trainer.py), same model, data and
              settings, runs alternating: the median of 8 rounds' ratios, and the CPU the
              GUI thread used meanwhile, as a share of one core. The target (≥ 0.9) is on
              the reference model, the 784-400-20 VAE at batch 128, on 60,000 28×28 images;
              reported beside it, the bundled 2-D digits model on its 20,000 images, whose
              short epochs make the scatter's per-epoch update a larger share
  cold_start  a fresh process: start -> window shown with the scatter drawn (the target is
              on later starts, which read the built-in digits from the cache folder and
              the app's compiled bytecode, as a user's later starts do; the first start,
              which draws the digits and compiles the app's modules, is reported beside it)

Prints one JSON line; exits 1 when any figure misses its target. `--only hover,scatter`
runs a subset (to compare two versions quickly).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QPoint, QSettings, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from explorer.app import application, build_main_window  # noqa: E402
from explorer.core.data import make_digits  # noqa: E402
from explorer.core.kinds import model_config  # noqa: E402
from explorer.resources import bundled_model  # noqa: E402
from explorer.ui.decoder_view import DecoderView  # noqa: E402
from explorer.ui.first_run_hint import SHOWN_KEY  # noqa: E402

TARGETS = {
    "hover_digits_p50_ms": 2.0,
    "hover_digits_p99_ms": 8.0,
    "hover_sprites_p99_ms": 16.0,
    "hover_z64_p99_ms": 8.0,
    # everything one move causes fits in a 60 Hz frame, so moves never queue
    "frame_digits_p99_ms": 16.0,
    "frame_sprites_p99_ms": 16.0,
    "frame_z64_p99_ms": 16.0,
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


MIN_TRAIN_IN_APP_RATIO = 0.9  # training in the window's worker against the headless loop


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def run_event_loop(seconds: float, condition=None) -> None:
    """The real event loop (idle in the OS between events, as the app's own is) for
    `seconds`, or until `condition()` holds (checked every 10 ms)."""
    loop = QEventLoop()
    check = QTimer(interval=10)
    if condition is not None:
        check.timeout.connect(lambda: condition() and loop.quit())
        check.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if condition is None or not condition():
        loop.exec()
    check.stop()


def wait_until(app, condition, timeout_s: float = 60.0) -> None:
    run_event_loop(timeout_s, condition)
    if not condition():
        raise SystemExit("timed out")


def untrained(folder: str, name: str, latent_dim: int, num_images: int) -> Path:
    """An untrained MLP VAE (hidden 400) for `num_images` built-in digits, saved in
    `folder`: what the window opens for the z64 and vae20 rows."""
    from explorer.core.checkpoint import Checkpoint, save_checkpoint
    from explorer.core.config import ModelConfig
    from explorer.core.kinds import build_model

    described = make_digits(1).describe() | {"num_images": num_images}
    model = build_model(ModelConfig(latent_dim=latent_dim, hidden=(400,)), seed=0)
    path = Path(folder) / f"{name}.safetensors"
    return save_checkpoint(path, Checkpoint(model, dataset=described))


# Windows the benchmark opens: a bundled model with its own data, or an untrained one
#   z64    64 latent dimensions (64 sliders, a PCA plane) on 20,000 digits
#   vae20  the reference training model (docs/performance.md), the classic 784-400-20
#          VAE, on 60,000 28×28 images
UNTRAINED = {"z64": (64, 20_000), "vae20": (20, 60_000)}


def open_window(app, name: str, settings: QSettings):
    if name in UNTRAINED:
        path = untrained(tempfile.mkdtemp(), name, *UNTRAINED[name])
    else:
        path = bundled_model(name)
    w = build_main_window(path, settings=settings)
    w.resize(1440, 860)
    w.show()
    wait_until(
        app, lambda: w.session.codes is not None and len(w.session.codes) == len(w.session.dataset)
    )
    return w


MOVE_TIMEOUT_S = 5.0  # a move not decoded by then never will be: fail, not hang


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
            if time.perf_counter() - t0 > MOVE_TIMEOUT_S:
                raise SystemExit(f"a mouse move at {pos.x()}, {pos.y()} painted no decoded image")
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
    wait_until(app, lambda: len(w.panel.loss_plot.series["step"]) > 0)
    late: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer(interval=10)
    timer.setTimerType(timer.timerType().PreciseTimer)

    def tick():
        late.append(max(clock.restart() - 10, 0))

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    run_event_loop(seconds)
    timer.stop()
    w.trainer.stop()
    wait_until(app, lambda: not w.trainer.running)
    return late[5:]


# Epochs of each run left out of its rate, on both sides: the first warms up (the
# allocator, the optimiser's state); during the second the window sets its views up for
# the run's new model (legend, sliders, plane: once per run, a burst of GUI-thread work).
_WARMUP_EPOCHS = 2


def training_rates(app, w, name: str, epochs: int, rounds: int = 8) -> dict[str, float]:
    """Training samples/s (the epochs after each run's first two): the window's worker
    thread against the core's loop in a process of its own (headless_trainer.py: the
    loop, data and threads of `python -m explorer train`), same model, data and settings.

    A shared machine's speed drifts from minute to minute with its neighbours' load,
    so runs alternate (headless first in even rounds, the window first in odd ones), a
    few seconds apart, and each round's ratio is taken; the median of the ratios is the
    figure. A run's rate is the median of its measured epochs' (three for the reference
    VAE: with one, single rounds spread widely). Also the share of one core the GUI thread
    used while the window trained.
    """
    s = w.session
    w.panel.epochs_spin.setValue(epochs)
    w.panel.batch_spin.setValue(128)
    spec = {
        "dataset": s.dataset.name,  # a built-in dataset: the windows here show digits
        "count": len(s.dataset),
        "model": model_config(w.training_settings.model, s.dataset).to_dict(),
        "train": w.training_settings.train.validate().to_dict(),
    }
    script = [sys.executable, str(ROOT / "scripts" / "headless_trainer.py"), json.dumps(spec)]
    gui_cpu = wall = 0.0

    def in_app() -> float:
        nonlocal gui_cpu, wall
        rates: list[float] = []
        # the end of the run quits the loop: polling for it (every 10 ms) would add GUI work
        # the app itself does not have
        loop = QEventLoop()

        def ended(running: bool) -> None:
            if not running:
                loop.quit()

        w.trainer.runningChanged.connect(ended)
        cpu0, t0 = _thread_cpu(), time.perf_counter()
        w.trainer.start()
        w.trainer.thread.epochReady.connect(lambda snap: rates.append(snap.progress.samples_per_s))
        loop.exec()
        w.trainer.runningChanged.disconnect(ended)
        gui_cpu += _thread_cpu() - cpu0
        wall += time.perf_counter() - t0
        return statistics.median(rates[_WARMUP_EPOCHS:])

    with subprocess.Popen(script, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as p:

        def headless() -> float:
            p.stdin.write("train\n")
            p.stdin.flush()
            line = p.stdout.readline()
            if not line:
                raise SystemExit("headless_trainer.py failed (its error is above)")
            return statistics.median(json.loads(line)[_WARMUP_EPOCHS:])

        pairs = []
        for r in range(rounds):
            if r % 2 == 0:
                pairs.append((headless(), in_app()))
            else:
                app_rate = in_app()
                pairs.append((headless(), app_rate))
        p.stdin.close()
    headless_rates, app_rates = zip(*pairs, strict=True)
    ratios = [a / h for h, a in pairs]
    return {
        f"{name}_gui_thread_cpu_share": round(gui_cpu / wall, 3),
        f"{name}_headless_samples_per_s": round(statistics.median(headless_rates)),
        f"{name}_in_app_samples_per_s": round(statistics.median(app_rates)),
        f"{name}_in_app_ratio": round(statistics.median(ratios), 3),
        f"{name}_in_app_ratio_range": [round(min(ratios), 2), round(max(ratios), 2)],
    }


def _thread_cpu() -> float:
    """CPU seconds the calling thread (here the GUI thread) has used."""
    r = resource.getrusage(resource.RUSAGE_THREAD)
    return r.ru_utime + r.ru_stime


def stop_latency(app, w, runs: int = 3) -> list[float]:
    """Milliseconds from pressing Stop to the window showing the run as stopped."""
    w.panel.epochs_spin.setValue(1000)
    finished: list[float] = []
    w.trainer.finished.connect(lambda _p: finished.append(time.perf_counter()))
    out = []
    for _ in range(runs):
        finished.clear()
        w.trainer.start()
        wait_until(app, lambda: len(w.panel.loss_plot.series["step"]) > 20)
        t0 = time.perf_counter()
        w.panel.stop_button.click()
        wait_until(app, lambda: bool(finished))
        out.append((finished[0] - t0) * 1000)
        wait_until(app, lambda: not w.trainer.running)
    return out


def scatter_times(app, w) -> tuple[float, float, float]:
    s = w.session
    data = make_digits(60_000, seed=1)
    codes = np.random.default_rng(0).normal(size=(60_000, s.latent_dim))
    s.dataset = data
    s.codes = codes
    refit, refresh, marker = [], [], []
    vp = w.latent_view.viewport()
    for i in range(6):  # codes on a new plane: points rebuilt, view fitted, axes redrawn
        s.codes = codes * (1 + i % 2)  # (a new extent each time)
        t0 = time.perf_counter()
        s.planeChanged.emit()
        vp.repaint()
        refit.append((time.perf_counter() - t0) * 1000)
    for _ in range(5):  # new codes in the same frame (each training epoch): points rebuilt
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
    return statistics.median(refit), statistics.median(refresh), statistics.median(marker)


def cold_start() -> tuple[float, float]:
    """Seconds from a fresh process to the window with its scatter drawn: the first start
    (the built-in digits drawn and kept in an empty cache folder, the app's modules
    compiled) and later starts (the median of 3, reading both back).

    The processes cache bytecode as Python does by default, even where the environment
    says not to (PYTHONDONTWRITEBYTECODE, set on this project's machine): otherwise every
    start would compile all of the app's modules again, which no user's later
    start does. Installed packages (torch, Qt) come with their bytecode compiled.
    """
    for cache in (ROOT / "explorer").rglob("__pycache__"):  # the first start compiles
        shutil.rmtree(cache)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
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
    with tempfile.TemporaryDirectory() as cache:
        for _ in range(4):
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
                env=env | {"XDG_CACHE_HOME": cache},
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
    return runs[0], statistics.median(runs[1:])


GROUPS = ("hover", "timer", "scatter", "train", "stop", "cold_start")


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated subset of {', '.join(GROUPS)}"
    )
    only = set(ap.parse_args().only.split(","))
    app = application()
    settings = QSettings(f"/tmp/bench-ui-{os.getpid()}.ini", QSettings.Format.IniFormat)
    # a returning user's: the first-run hint would lie over the plot and take the moves
    # that land on it (which ones depends on the layout)
    settings.setValue(SHOWN_KEY, True)
    r: dict = {"benchmark": "ui"}

    def p50_p99(name: str, values: list[float]) -> None:
        r[f"{name}_p50_ms"] = round(pct(values, 50), 2)
        r[f"{name}_p99_ms"] = round(pct(values, 99), 2)

    for model in ("digits", "sprites", "z64", "vae20"):
        if not only & {"hover", "timer", "scatter", "train", "stop"}:
            break
        if model == "z64" and "hover" not in only:
            continue
        if model == "vae20" and "train" not in only:
            continue
        w = open_window(app, model, settings)
        if "hover" in only and model != "vae20":  # that window is for the training figures
            image, frame = hover_times(app, w)
            p50_p99(f"hover_{model}", image)
            p50_p99(f"frame_{model}", frame)
        if model == "digits" and "timer" in only:
            late = timer_lateness(app, w)
            r["timer_late_p99_ms"] = round(pct(late, 99), 1)
            r["timer_late_p50_ms"] = round(pct(late, 50), 1)
        if model == "digits" and "scatter" in only:
            r["scatter_refresh_ms"], r["scatter_new_codes_ms"], r["marker_repaint_ms"] = (
                round(v, 2) for v in scatter_times(app, w)
            )
        if model == "vae20" and "train" in only:
            r |= training_rates(app, w, "train", epochs=_WARMUP_EPOCHS + 3)
        if model == "digits" and "train" in only:  # reported: its short epochs are noisy
            r |= training_rates(app, w, "train_digits20k", epochs=4)
        if model == "sprites" and "stop" in only:
            r["stop_latency_ms"] = round(statistics.median(stop_latency(app, w)))
        w.session.update_info(unsaved=False)
        w.close()
    if "cold_start" in only:
        first, later = cold_start()
        r["cold_start_s"], r["cold_start_first_s"] = round(later, 2), round(first, 2)
    r["targets"] = {k: t for k, t in TARGETS.items() if k in r}
    r["failed"] = [k for k, t in r["targets"].items() if r[k] > t]
    if r.get("train_in_app_ratio", 1.0) < MIN_TRAIN_IN_APP_RATIO:
        r["failed"].append("train_in_app_ratio")
    r["targets"]["train_in_app_ratio_min"] = MIN_TRAIN_IN_APP_RATIO
    print(json.dumps(r))
    return 1 if r["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
