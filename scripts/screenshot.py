"""Render the main window to a PNG, as a user would see it after a moment of hovering.

    python scripts/screenshot.py docs/screenshot.png [--checkpoint M | --sweep F] [--dataset D]
        [--factory F [--factory-args JSON]] [--adapt A] [--dialog PNG] [--pin X Y]
        [--manifold N] [--prior-spacing] [--tab TAB] [--compare B] [--sort-by-kl]
        [--ellipses N] [--size W H] [--dark]

Runs offscreen (no display needed): opens the window, waits for the scatter, moves the
cursor to a plot point (or pins it) so the decoded image and sliders show a real code.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QTabWidget  # noqa: E402

from explorer.app import application, build_main_window  # noqa: E402
from explorer.external_options import add_external_options, external_source  # noqa: E402
from explorer.ui.first_run_hint import SHOWN_KEY  # noqa: E402

ERRORS: list[str] = []  # what the window reported; any ends the script


def wait(app, condition, timeout_s: float = 60.0) -> None:
    """Run the event loop until `condition()` holds."""
    loop = QEventLoop()
    timer = QTimer(interval=20)
    timer.timeout.connect(lambda: (condition() or ERRORS) and loop.quit())
    timer.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    timer.stop()
    if ERRORS:
        raise SystemExit(f"the window reported: {ERRORS[0]}")
    if not condition():
        raise SystemExit("timed out waiting for the window to load")


TABS = [
    "traversals",
    "kl",
    "interpolation",
    "data-point",
    "factors",
    "inpainting",
    "classes",
    "compare",
]  # in the order of the window's tabs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--sweep", type=Path, help="a β sweep folder to open")
    ap.add_argument("--dataset")
    add_external_options(ap)
    ap.add_argument("--dialog", type=Path, help="also render the external-model dialog here")
    ap.add_argument(
        "--pin",
        nargs=2,
        type=float,
        metavar=("X", "Y"),
        help="plane point to pin (default: a point of the data)",
    )
    ap.add_argument(
        "--size", nargs=2, type=int, default=(1366, 705), help="default: a 1366×768 laptop's"
    )
    ap.add_argument("--dark", action="store_true", help="as on a desktop in its dark scheme")
    ap.add_argument("--manifold", type=int, metavar="N", help="show an N×N manifold map")
    ap.add_argument("--prior-spacing", action="store_true", help="the map at prior quantiles")
    ap.add_argument("--tab", choices=TABS, default="traversals")
    ap.add_argument("--compare", type=Path, help="with --tab compare: the checkpoint for B")
    ap.add_argument("--sort-by-kl", action="store_true")
    ap.add_argument("--ellipses", type=int, default=0, metavar="N", help="1σ ellipses of N points")
    args = ap.parse_args()
    app = application()
    if args.dark:  # what Qt reports when the desktop switches to its dark scheme
        app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    scratch = tempfile.TemporaryDirectory()  # window settings must not touch the user's
    settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(SHOWN_KEY, True)  # a returning user's: no first-run hint over the plot
    external = args.checkpoint and external_source(args.checkpoint, args)
    window = build_main_window(args.checkpoint, args.dataset, settings=settings, external=external)
    window.errorShown.connect(ERRORS.append)
    if args.sweep:
        window.open_sweep(args.sweep)
    window.resize(*args.size)
    window.show()
    wait(
        app,
        lambda: (
            window.session.codes is not None
            and len(window.session.codes) == len(window.session.dataset)
        ),
    )
    s = window.session
    if args.pin:
        s.set_pinned(True, np.array(args.pin))
    else:  # inspect a data point, as a click on it does
        s.set_focus(7)
        s.set_z(s.codes[7].astype(float))
        s.set_pinned(True)
    wait(app, lambda: window.decoder_view.image is not None, 5)
    tabs = window.findChild(QTabWidget, "insightTabs")
    tabs.setCurrentIndex(TABS.index(args.tab))
    if args.tab == "data-point":
        wait(app, lambda: window.data_point_view.result is not None)
    if args.tab == "factors":
        wait(app, lambda: window.factors_view.result is not None)
    if args.tab == "inpainting":
        wait(app, lambda: window.inpainting_view.filled is not None)
    if args.tab == "compare" and args.compare:
        window.compare_view.open_model(args.compare)
        wait(app, lambda: window.compare_view.picture is not None)
        wait(app, lambda: None not in window.compare_view.reports.values())
    if args.tab == "classes":
        wait(app, lambda: window.class_grid.picture is not None)
    if args.ellipses:
        window.data_point_view.subset_spin.setValue(args.ellipses)
        window.data_point_view.subset_check.setChecked(True)
    if args.tab == "interpolation":  # between two images of different classes
        labels = s.dataset.labels
        a, b = int(np.flatnonzero(labels == 0)[0]), int(np.flatnonzero(labels == 1)[0])
        for i in (a, b):
            window.interpolation_view.pick(s.codes[i].astype(float))
        wait(app, lambda: window.interpolation_view.result is not None)
    window.sliders.sort_check.setChecked(args.sort_by_kl)
    if args.tab == "traversals":  # around the code shown, not an earlier one
        wait(
            app,
            lambda: (
                window.traversal_view.result is not None
                and np.allclose(window.traversal_view.result.z, s.z)
            ),
        )
    if args.manifold:
        manifold = window.plane_bar.manifold
        manifold.size_spin.setValue(args.manifold)
        manifold.spacing_combo.setCurrentIndex(1 if args.prior_spacing else 0)
        manifold.check.setChecked(True)
        wait(app, lambda: manifold.result is not None)
    app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    if args.dialog:
        dialog = window.opener.ask_open_external()
        app.processEvents()
        dialog.grab().save(str(args.dialog))
        dialog.reject()
    window.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
