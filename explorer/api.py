"""`explore()`: the window on a model and images that a script or a notebook holds in memory.

The model and the images are checked and adapted first (core/in_memory.py), so a
mistake is one error in the caller's code, before any window opens. Then the window
opens on them and the call returns an `ExplorerWindow`, a handle to read and set what
the window shows from Python.

Who runs Qt's event loop decides whether the call blocks. In IPython or Jupyter with
the Qt integration on (`%gui qt`), or when called from a running Qt app, something
else runs it: the call returns at once and the window stays live beside the notebook.
In a Jupyter kernel without `%gui qt` the window's events are processed from the
kernel's own (asyncio) event loop while a window is open, so the call returns at once
there too. Anywhere else (a plain script, terminal IPython without `%gui qt`) nothing
would run it, so the call runs the loop itself until the window is closed, then
returns the handle.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

# torch before Qt, as in explorer/app.py (Qt's import hook slows every later import)
import torch  # isort: split

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QThread, QTimer

from explorer.app import application
from explorer.autosave import Autosave
from explorer.core.config import Adapters
from explorer.core.errors import ExplorerError
from explorer.core.in_memory import adapt_model, as_dataset
from explorer.ui.state import ModelInfo

# Qt bindings IPython may run its event loop with; only PySide6's can host the window
_OTHER_BINDINGS = ("PyQt6", "PyQt5", "PySide2")
# Seconds between two passes over Qt's events from a Jupyter kernel's loop: a mouse move
# waits at most this long to be handled (a frame at 50 Hz), and an idle window took
# about 1% of a core (offscreen, `explore` with a 1,000-image dataset).
_PUMP_S = 0.02


class ExplorerWindow:
    """A handle to a window opened by `explore`.

    `code` is the code z the window decodes (what the sliders show), `pinned` the code
    pinned by a click on the plot (or None), `selection` the images selected on the plot,
    `data_point` the index of the image in focus; setting `code`, `pinned` or `selection`
    changes the window exactly as a slider, a click or a drawn selection does. Reading
    works after the window is closed (the last values); setting does not.
    """

    def __init__(self, window, autosave: Autosave):
        self.window = window  # the MainWindow, for anything the handle does not cover
        self._autosave = autosave
        self._closed = False
        window.closed.connect(self._on_closed)

    @property
    def latent_dim(self) -> int:
        """Dimensions of the model's code."""
        return self.window.session.latent_dim

    @property
    def code(self) -> np.ndarray:
        """The code shown, (latent_dim,) float64; a copy (assign to change it)."""
        return self.window.session.z.copy()

    @code.setter
    def code(self, z: Any) -> None:
        self._check_open()
        self.window.session.set_z(_code(z))

    @property
    def pinned(self) -> np.ndarray | None:
        """The pinned code, (latent_dim,) float64, or None when the cursor moves it.

        Assign a code to pin it (the marker turns into a red star); None releases it."""
        s = self.window.session
        return s.z.copy() if s.pinned else None

    @pinned.setter
    def pinned(self, z: Any) -> None:
        self._check_open()
        s = self.window.session
        if z is not None:
            s.set_z(_code(z))
        s.set_pinned(z is not None)

    @property
    def selection(self) -> np.ndarray:
        """Indices into the images of the points selected on the plot (Ctrl+drag a lasso
        or a box), sorted, int64; empty when none. Assign indices to select those points
        (the Selection tab shows their images); [] clears."""
        return self.window.selection_view.selection.indices.copy()

    @selection.setter
    def selection(self, indices: Any) -> None:
        self._check_open()
        n = len(self.window.session.dataset)
        self.window.selection_view.selection.set(_indices(indices, n))

    @property
    def image(self) -> np.ndarray | None:
        """The decoded image on screen, float32 in [0, 1]: (H, W), or (H, W, C) in colour."""
        image = self.window.decoder_view.image
        return None if image is None else image.copy()

    @property
    def data_point(self) -> int | None:
        """Index into the images of the data point in focus (hovered or clicked last:
        the one whose posterior is drawn and shown in the Data point tab), or None."""
        return self.window.session.focus

    @property
    def codes(self) -> np.ndarray | None:
        """The images' posterior means, (N, latent_dim), once encoded (None before)."""
        codes = self.window.session.codes
        return None if codes is None else codes.copy()

    def wait_for_codes(self, timeout_s: float = 60.0) -> np.ndarray:
        """The images' posterior means, (N, latent_dim), waiting while they are encoded
        (Qt's events run meanwhile); raises TimeoutError after `timeout_s` seconds."""
        s = self.window.session
        if s.codes is None:
            loop = QEventLoop()
            s.codesChanged.connect(loop.quit)
            self.window.closed.connect(loop.quit)
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
        if s.codes is None:
            raise TimeoutError(f"the images were not encoded within {timeout_s:g} s")
        return s.codes.copy()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> bool:
        """Close the window (asking first about a model trained in it and not saved);
        True when it closed."""
        if not self._closed:
            self.window.close()
        return self._closed

    def wait(self) -> None:
        """Run Qt's event loop until the window is closed (what a blocking `explore` does)."""
        if self._closed:
            return
        loop = QEventLoop()
        self.window.closed.connect(loop.quit)
        loop.exec()

    def _on_closed(self) -> None:
        self._closed = True
        self._autosave.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the window is closed; open another with explorer.explore()")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<ExplorerWindow ({state}): latent size {self.latent_dim}, code {self.code}>"


def explore(
    model: Any,
    images: Any,
    labels: Any = None,
    factors: Any = None,
    *,
    adapt: str | Adapters = "",
    block: bool | None = None,
) -> ExplorerWindow:
    """Open the Latent Explorer window on `model` and `images`; returns its handle.

    model: a torch module with encode(x) -> (mu, logvar) (or a (B, 2d) tensor, or a
        torch.distributions Normal) and decode(z) -> images (probabilities, logits or a
        distribution; flattened or not), as a model opened from a file; or a model of
        ours (`build_model`). The window explores a copy, on the CPU.
    images: a NumPy array or torch tensor (N, H, W) or (N, C, H, W) (C = 1, 3 or 4),
        values 0..1 or 0..255; or a torch Dataset of images or (image, label) pairs.
    labels: (N,) class numbers, or None. factors: (N, K) ground-truth factor values,
        or a dict of factor name -> (N,) values, or None.
    adapt: how to read encode/decode when the probe guesses wrong, e.g.
        "input=flat,encoder=split,decoder=logits" (see README, "Bring your own VAE").
    block: True: run Qt's event loop until the window closes; False: return at once
        (something else must run the loop); None: False in a Jupyter kernel, in
        IPython with `%gui qt` or inside a running Qt app, else True.

    Raises ExplorerError (DataError, CheckpointError, ConfigError) naming the argument.
    """
    dataset = as_dataset(images, labels, factors)
    latent = adapt_model(model, dataset, adapt)
    elsewhere = _loop_runs_elsewhere()
    kernel_loop = None if elsewhere else _jupyter_kernel_loop()
    if block is None:
        block = not (elsewhere or kernel_loop is not None)
    application(own_process=False)
    from explorer.ui.main_window import MainWindow  # loads the views: after the checks

    autosave = Autosave()  # a model trained in the window is kept until saved
    window = MainWindow(autosave=autosave)
    info = ModelInfo(source=f"{type(model).__name__} (from Python)")
    window.opener.show_model(latent, info, dataset)
    handle = ExplorerWindow(window, autosave)
    window.show()
    window.raise_()
    if block:
        handle.wait()
    elif kernel_loop is not None:
        _pump_while_open(handle, kernel_loop)
    return handle


def _loop_runs_elsewhere() -> bool:
    """Whether something else runs Qt's event loop while the caller's code returns:
    IPython's Qt integration (`%gui qt`, in a Jupyter kernel or the terminal), or a Qt
    event loop running in this thread (called from a Qt app's slot)."""
    ipython = sys.modules.get("IPython")  # imported only if the caller runs IPython
    shell = ipython.get_ipython() if ipython is not None else None
    gui = getattr(shell, "active_eventloop", None) or ""
    if gui.startswith("qt"):
        if QCoreApplication.instance() is None:
            other = [b for b in _OTHER_BINDINGS if b in sys.modules]
            if other:
                raise ExplorerError(
                    f"IPython's Qt event loop runs {other[0]}, and the window needs PySide6: "
                    "restart the kernel and run %env QT_API=pyside6 before %gui qt"
                )
        return True
    return QThread.currentThread().loopLevel() > 0


def _jupyter_kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop of the Jupyter kernel this runs in, or None (not in a kernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if getattr(shell, "kernel", None) is None:  # a terminal or no IPython at all
        return None
    try:
        return asyncio.get_running_loop()  # the kernel runs cells inside its loop
    except RuntimeError:
        return None


_pumped: list[ExplorerWindow] = []  # windows whose events a kernel's loop processes


def _pump_while_open(handle: ExplorerWindow, loop: asyncio.AbstractEventLoop) -> None:
    """Process Qt's events from `loop` every `_PUMP_S` while a window of `_pumped` is open.

    Not ipykernel's own Qt loop (`%gui qt`) switched on for the user: in that loop a
    kernel misses cells sent right after each other (most runs of a notebook of quick
    cells through nbclient hung here with ipykernel 7.4; jupyter/nbclient#97). The
    kernel's asyncio loop runs whenever no cell does, as Qt's would.
    """
    starting = not _pumped
    _pumped.append(handle)
    if not starting:
        return

    def tick() -> None:
        _pumped[:] = [h for h in _pumped if not h.closed]
        # what the closed windows left to delete (deleteLater) goes now, not at exit
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        if _pumped:
            QCoreApplication.processEvents()
            loop.call_later(_PUMP_S, tick)

    loop.call_soon(tick)


def _indices(value: Any, n: int) -> np.ndarray:
    """Data indices given by the caller (array, tensor, list) as int64, each in 0..n-1."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    indices = np.asarray(value)
    if indices.size == 0:
        return np.zeros(0, np.int64)
    if indices.ndim != 1 or indices.dtype.kind not in "iu":
        raise ValueError(
            f"selection: expected a list of image indices (whole numbers), got an array of "
            f"shape {indices.shape} and type {indices.dtype}"
        )
    if indices.min() < 0 or indices.max() >= n:
        bad = indices[(indices < 0) | (indices >= n)][0]
        raise ValueError(f"selection: index {bad} is out of range for {n:,} images")
    return indices.astype(np.int64)


def _code(z: Any) -> np.ndarray:
    """A code given by the caller (array, tensor, list) as a NumPy array."""
    if isinstance(z, torch.Tensor):
        z = z.detach().cpu().float().numpy()
    try:
        return np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"code: cannot be read as numbers ({e})") from e
