"""Application set-up: the QApplication, the fully wired main window, and main()."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

# torch loads before Qt. Once PySide6 is loaded it hooks every later import: its
# `__feature__` support reads each new module's source file to look for "PySide6", and
# torch has about a thousand modules, so importing it after Qt slows every start (and keeps
# their source in memory, in linecache). Guarded by tests/test_no_qt_in_core.py; the start
# time by `scripts/bench_ui.py --only cold_start`.
import torch  # isort: split

import pyqtgraph as pg
from PySide6.QtGui import QPixmapCache
from PySide6.QtWidgets import QApplication, QMessageBox
from threadpoolctl import threadpool_limits

from explorer import __version__
from explorer.autosave import Autosave
from explorer.external_options import add_external_options, external_source
from explorer.logs import LOGGER, setup_logging
from explorer.system_libs import xcb_problem
from explorer.ui.theme import follow_system_scheme

if TYPE_CHECKING:
    from explorer.core.external_files import ExternalSource

log = logging.getLogger(LOGGER)

DESKTOP_NAME = "latent-explorer"


def application(own_process: bool = True) -> QApplication:
    """The process's QApplication, created once with the app's names and plot defaults.

    `own_process`: the app runs the process, so it tunes torch's and BLAS's thread counts
    for its GUI thread (below); False when it is a guest in the caller's process
    (`explorer.explore` from a script or a notebook), whose thread counts are the caller's.
    """
    # Qt's raster engine splits every large fill (96+ spans) across a pool of threads and
    # waits for them. Beside training, which keeps both cores busy, the GUI thread then
    # waits for pool threads to be scheduled while they take CPU from training: both the
    # window's training speed and a full scatter refresh are slower with the pool
    # (`scripts/bench_ui.py --only train,scatter`). Read when Qt first paints.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    # argv[0] names the window to X11 (WM_CLASS), and taskbars group by it: run as
    # `python -m explorer` it was "__main__.py"
    app = QApplication.instance() or QApplication([DESKTOP_NAME])
    app.setApplicationName("Latent Explorer")
    app.setDesktopFileName(DESKTOP_NAME)  # Wayland's app id; latent-explorer.desktop
    app.setOrganizationName("LatentExplorer")
    app.setApplicationVersion(__version__)
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    follow_system_scheme(app)  # light or dark, as the desktop is, switching live
    # The plots cache their points, gridded axes and legends as pixmaps, each up to the
    # size of a plot (megabytes on a 4K screen). Qt's default 10 MB pixmap cache evicts
    # them, and every marker move then redraws the points and the grid
    # (`scripts/bench_ui.py --only hover`, the whole frame).
    QPixmapCache.setCacheLimit(256 * 1024)  # KB; memory is taken only as pixmaps are kept
    if not own_process:
        return app
    # The GUI thread decodes one image at a time, which a team of threads cannot speed
    # up; and a second OpenMP thread team in the process (the GUI thread's beside the
    # training thread's) halved the training thread's speed here. Worker
    # threads go back to torch's default count (training.DEFAULT_THREADS, read first).
    from explorer.core import training  # noqa: F401

    torch.set_num_threads(1)
    # NumPy's OpenBLAS keeps a worker thread that busy-waits after every call it helps
    # with. The app's products are small (codes onto the plane, the principal plane of
    # each epoch's codes), and while training runs that spinning takes CPU from the
    # training threads (`scripts/bench_ui.py --only train`). One BLAS thread
    # (process-wide; torch's MKL is not affected).
    threadpool_limits(1, user_api="blas")
    return app


def build_main_window(
    checkpoint: str | Path | None = None,
    dataset: str | Path | None = None,
    settings=None,
    autosave: Autosave | None = None,
    external: ExternalSource | None = None,
    follow: str | Path | None = None,
):
    """The main window, wired and loaded, without entering the event loop.

    With no checkpoint the bundled digits model opens on the built-in digits; a folder in
    its place is opened as a dropped one is (a sweep, a run being followed, images); a dataset
    whose images it cannot decode gets a new, untrained model of its shape. A model
    trained `external`ly opens with `dataset` (the built-in digits by default). Datasets
    load and encode in the background: the window is usable at once and the scatter
    appears when its codes arrive (`window.session.codesChanged`). With an `autosave`
    slot, trained models are kept there until saved, and one left by an earlier run
    (never saved) is offered for restoring. With `follow`, the window follows the
    training run written into that folder (`train --run-dir`) from its first epoch.
    """
    application()
    from explorer.ui.main_window import MainWindow

    window = MainWindow(settings=settings, autosave=autosave)
    if follow is not None:
        if not window.follower.follow(follow):
            window.open_bundled("digits")  # it said why, naming the folder
    elif external is not None:
        window.opener.open_external(external, dataset or "digits")
    elif checkpoint is not None and Path(checkpoint).is_dir():
        # a sweep, a run or images: opened as a folder dropped on the window is, over
        # the bundled model (which stays if the folder cannot be opened, said why)
        window.open_bundled("digits")
        window.open_path(Path(checkpoint))
    elif checkpoint is None or not window.open_checkpoint(checkpoint):
        window.open_bundled("digits")  # a checkpoint that failed said why, naming the file
    if dataset is not None and external is None:
        # asked for by name: a new model if the bundled one cannot fit
        window.open_dataset(dataset, new_model_if_needed=True)
    window.saver.offer_restore(window.opener)
    return window


def _excepthook(window):
    def hook(kind, value, tb):
        detail = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(detail)
        log.error("unexpected error\n%s", detail)
        if window is not None:
            window.show_error("Unexpected error", f"{kind.__name__}: {value}\n\n{detail}")

    return hook


def _from_elsewhere(path: Path | None, args: argparse.Namespace) -> ExternalSource | None:
    """How to open the model at `path` when it is from elsewhere; None for none, one of
    ours, or a folder (`build_main_window` opens that) unless a factory is named."""
    if path is None or (path.is_dir() and not (args.factory or args.adapt)):
        return None
    return external_source(path, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m explorer app", description="Open the Latent Explorer window."
    )
    parser.add_argument(
        "checkpoint",
        nargs="?",
        type=Path,
        help="a .safetensors checkpoint, a model trained elsewhere (TorchScript, weights), "
        "or a folder: a sweep, a train --run-dir run, images",
    )
    parser.add_argument("--dataset", help="built-in name or a dataset file/folder to open")
    parser.add_argument(
        "--follow", type=Path, metavar="DIR", help="follow the run a train --run-dir writes there"
    )
    add_external_options(parser)
    args = parser.parse_args(list(argv or []))
    if args.follow is not None and (args.checkpoint or args.dataset):
        parser.error("--follow shows the run's own model and data; open other files later")
    setup_logging()
    problem = xcb_problem()
    if problem:  # Qt would abort the process, suggesting a reinstall
        log.error("%s", problem)
        print(problem, file=sys.stderr)
        return 1
    app = application()
    autosave = Autosave()
    try:
        external = _from_elsewhere(args.checkpoint, args)
        window = build_main_window(
            args.checkpoint, args.dataset, autosave=autosave, external=external, follow=args.follow
        )
    except Exception as e:
        QMessageBox.critical(None, "Latent Explorer", f"Cannot start: {e}")
        return 1
    sys.excepthook = _excepthook(window)
    window.show()
    try:
        code = app.exec()
    finally:
        autosave.close()
    from explorer.ui.workers import running_tasks

    stuck = running_tasks()
    if stuck:
        # Left behind by closing (a factory that never returned): the interpreter's own
        # exit would tear Qt and torch down under them; end the process here instead.
        log.warning("exiting with background task(s) still running: %s", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
