"""`explorer.explore` in this process: the window opened on a module and images held in
memory, driven through the handle it returns (code, pinned point, data point, close) and
by the mouse; and when the call returns at once (IPython's `%gui qt`, a Jupyter kernel)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QSlider
from torch import nn

import explorer
from explorer.app import application
from explorer.ui.first_run_hint import SHOWN_KEY
from explorer.ui.selection_tool import Shape
from explorer.ui.sliders import to_positions
from tests.conftest import settle
from tests.gui import shown_pixels
from tests.test_data_point import loneliest_point, pixel_of
from tests.test_selection_app import CTRL, box_corners, drag, in_box

PINNED_RED = "#d62728"  # the pinned marker's colour


class ConvVAE(nn.Module):
    """Images in as (B, 1, 8, 8); (mu, logvar) out; probabilities out of decode."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
        self.dec = nn.Sequential(nn.Linear(2, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))

    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(3 * z)


@pytest.fixture
def opened(qtbot, blobs):
    """explore(block=False) on a ConvVAE and the blobs' images, its codes encoded."""
    application(own_process=False)
    QSettings().setValue(SHOWN_KEY, True)  # no first-run hint over the plot
    module = ConvVAE()
    handle = explorer.explore(module, blobs.images, blobs.labels, block=False)
    qtbot.addWidget(handle.window)
    qtbot.waitExposed(handle.window)
    handle.wait_for_codes(timeout_s=20)
    settle(handle.window.latent_view)
    yield handle, module
    handle.close()


@pytest.fixture
def ipython(tmp_path, monkeypatch):
    """A running IPython shell (what `get_ipython()` returns), gone afterwards with
    what it set up in this process; no history, and its folder a temporary one."""
    import builtins
    import sys

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    prompts = {name: getattr(sys, name, None) for name in ("ps1", "ps2")}
    names = set(vars(builtins))
    config = Config()
    config.HistoryManager.enabled = False
    yield InteractiveShell.instance(config=config)
    InteractiveShell.clear_instance()
    for name in set(vars(builtins)) - names:  # display, __IPYTHON__
        delattr(builtins, name)
    for name, prompt in prompts.items():
        if prompt is not None:
            setattr(sys, name, prompt)
        elif hasattr(sys, name):
            delattr(sys, name)


def _decoded(module, z) -> np.ndarray:
    with torch.no_grad():
        return module.decode(torch.as_tensor(z, dtype=torch.float32)[None])[0, 0].numpy()


def test_setting_the_code_moves_the_window_as_a_slider_does(opened):
    handle, module = opened
    w = handle.window
    assert w.windowTitle() == "Latent Explorer — ConvVAE (from Python)"
    before = shown_pixels(w.decoder_view)
    handle.code = np.array([1.5, -0.75])
    assert handle.code.tolist() == [1.5, -0.75]
    shown = shown_pixels(w.decoder_view)
    assert np.abs(shown - before).max() > 20  # grey levels on screen changed
    assert np.abs(shown - np.rint(_decoded(module, [1.5, -0.75]) * 255)).max() <= 1
    assert np.allclose(handle.image, _decoded(module, [1.5, -0.75]), atol=1e-6)
    sliders = [w.findChild(QSlider, f"latentSlider{i}") for i in range(2)]
    assert [s.value() for s in sliders] == to_positions(np.array([1.5, -0.75]), w.session.spans)
    # a torch tensor works too; a wrong shape or NaN is refused and the window keeps its code
    handle.code = torch.tensor([0.5, 0.5])
    assert handle.code.tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match=r"code of shape \(3,\) for a model of latent size 2"):
        handle.code = [1, 2, 3]
    with pytest.raises(ValueError, match="NaN or infinite"):
        handle.code = [np.nan, 0]
    assert handle.code.tolist() == [0.5, 0.5]
    assert np.allclose(handle.image, _decoded(module, [0.5, 0.5]), atol=1e-6)


def test_a_click_on_a_data_point_is_read_back_as_the_pinned_point(qtbot, opened):
    handle, module = opened
    w = handle.window
    i = loneliest_point(w)
    pos = pixel_of(w, w.session.codes[i])
    assert handle.pinned is None and handle.codes.shape == (64, 2)
    with qtbot.waitSignal(w.session.pinnedChanged, timeout=5000):
        QTest.mouseClick(w.latent_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert handle.data_point == i
    x = torch.as_tensor(w.session.dataset.images[i], dtype=torch.float32)[None, None] / 255
    with torch.no_grad():
        mu = module.encode(x)[0][0].numpy()
    assert np.allclose(handle.pinned, mu, atol=1e-6)  # the image's own code, from the module
    # pinning from Python: the marker turns into the star, and None releases it
    handle.pinned = [-1.0, 2.0]
    assert w.latent_view.marker.pen().color().name() == PINNED_RED
    assert handle.pinned.tolist() == [-1.0, 2.0] == handle.code.tolist()
    handle.pinned = None
    assert handle.pinned is None and w.latent_view.marker.pen().color().name() != PINNED_RED


def test_the_selection_drawn_on_the_plot_is_read_back_and_set(qtbot, opened):
    handle, _ = opened
    w = handle.window
    assert handle.selection.tolist() == []
    corners = box_corners(w.latent_view, 0.1, 0.1, 0.7, 0.8)
    QTest.mouseClick(w.selection_view.shape_buttons[Shape.BOX], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(w.selection_view.selection.changed, timeout=5000):
        drag(w.latent_view, corners, CTRL)
    want = in_box(w, corners)
    assert len(want) > 0 and handle.selection.tolist() == want.tolist()
    handle.selection = [5, 3, 3, 60]
    assert handle.selection.tolist() == [3, 5, 60]
    assert w.selection_view.note.text() == "3 selected"
    with pytest.raises(ValueError, match="selection: index 64 is out of range for 64 images"):
        handle.selection = [1, 64]
    with pytest.raises(ValueError, match="selection: expected a list of image indices"):
        handle.selection = [0.5]
    assert handle.selection.tolist() == [3, 5, 60]
    handle.selection = []
    assert handle.selection.tolist() == [] and w.selection_view.note.text() != "0 selected"


def test_closing_keeps_what_was_shown_readable(opened):
    handle, _ = opened
    handle.code = [0.25, 0.5]
    assert handle.close() and handle.closed and not handle.window.isVisible()
    assert handle.code.tolist() == [0.25, 0.5]
    with pytest.raises(RuntimeError, match="the window is closed"):
        handle.code = [0, 0]
    handle.wait()  # returns at once: nothing to wait for


def test_with_ipythons_qt_loop_on_the_call_returns_at_once(qtbot, blobs, ipython):
    """`%gui qt` in IPython: the shell runs Qt's loop, explore only opens the window."""
    ipython.active_eventloop = "qt"
    handle = explorer.explore(ConvVAE(), blobs.images)  # no block=: it decides
    qtbot.addWidget(handle.window)
    assert not handle.closed and handle.window.isVisible()
    handle.code = [1, 1]
    handle.close()


def test_in_a_jupyter_kernel_its_loop_runs_the_window(qtbot, blobs, ipython):
    """A kernel without `%gui qt`: the call returns at once and the kernel's asyncio
    loop processes the window's events (the codes, encoded in a worker thread, arrive
    only through them) while no cell runs."""
    ipython.kernel = object()  # what a Jupyter kernel's shell has and a terminal's has not

    async def idle_kernel():
        handle = explorer.explore(ConvVAE(), blobs.images)
        qtbot.addWidget(handle.window)
        arrived = asyncio.Event()
        handle.window.session.codesChanged.connect(arrived.set)
        await asyncio.wait_for(arrived.wait(), timeout=20)
        return handle

    handle = asyncio.run(idle_kernel())
    assert handle.codes.shape == (64, 2)
    handle.close()


def test_a_mistake_is_raised_before_any_window_opens(qtbot, blobs):
    from PySide6.QtWidgets import QApplication, QMainWindow

    application(own_process=False)
    before = {w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)}
    with pytest.raises(explorer.DataError, match=r"labels: shape \(3,\) for 64 images"):
        explorer.explore(ConvVAE(), blobs.images, labels=[0, 1, 2])
    with pytest.raises(explorer.CheckpointError, match=r"^model: encode failed"):
        explorer.explore(ConvVAE(), np.zeros((4, 9, 9)))
    after = {w for w in QApplication.topLevelWidgets() if isinstance(w, QMainWindow)}
    assert after == before
