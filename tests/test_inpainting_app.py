"""Inpainting as a user does it: pick a data image, paint a mask, see the model fill it."""

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.corruption import apply_mask
from tests.gui import rgba


def open_tab(qtbot, window):
    view = window.inpainting_view
    window.findChild(QTabWidget, "insightTabs").setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.filled is not None, timeout=5000)
    return view


def cell_point(canvas, cell: int, row: int, col: int) -> QPoint:
    """The widget position of image pixel (row, col) in cell `cell`."""
    rect = canvas.cell_rects()[cell]
    h, w = canvas.mask.shape
    return QPoint(
        int(rect.left() + (col + 0.5) * rect.width() / w),
        int(rect.top() + (row + 0.5) * rect.height() / h),
    )


def drag(canvas, button, cell: int, row: int, cols: range) -> None:
    QTest.mousePress(canvas, button, pos=cell_point(canvas, cell, row, cols[0]))
    for c in cols:
        QTest.mouseMove(canvas, cell_point(canvas, cell, row, c))
    QTest.mouseRelease(canvas, button, pos=cell_point(canvas, cell, row, cols[-1]))


def expected_fill(window, index: int, mask: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(window.session.dataset.images[index].astype(np.float32) / 255)[None, None]
    with torch.inference_mode():
        masked = apply_mask(x, torch.from_numpy(mask)[None, None])
        model = window.session.model
        return model.decode(model.encode(masked)[0])[0, 0].numpy()


def test_painting_a_mask_hides_pixels_and_the_model_fills_them_in(qtbot, window):
    view = open_tab(qtbot, window)
    window.session.set_focus(5)  # a click on the plot's point 5 does this
    assert view.index == 5
    QTest.mouseClick(view.clear_button, Qt.MouseButton.LeftButton)
    assert not view.mask.any()
    assert np.allclose(view.filled[..., 0], expected_fill(window, 5, view.mask), atol=1e-6)
    assert "nothing hidden" in view.note.text()

    view.brush_spin.setValue(1)
    drag(view.canvas, Qt.MouseButton.LeftButton, 1, 14, range(3, 25))  # over the middle cell
    hidden = view.mask.copy()
    assert hidden[14, 3:25].all() and hidden[13:16, 3:25].all()  # a 1-pixel brush: 3 rows
    assert not hidden[:12].any() and not hidden[17:].any()
    fill = expected_fill(window, 5, hidden)
    assert np.allclose(view.filled[..., 0], fill, atol=1e-6)
    shown = rgba(view.canvas.cells[2])[..., 0]  # what the right cell draws
    assert np.array_equal(shown, np.clip(fill * 255 + 0.5, 0, 255).astype(np.uint8))
    given = rgba(view.canvas.cells[1])[..., 0]  # the middle cell: hidden pixels grey
    assert (given[hidden] == 128).all()
    assert f"{int(hidden.sum())} pixels hidden" in view.note.text()

    drag(view.canvas, Qt.MouseButton.RightButton, 0, 14, range(3, 14))  # erase on the left
    assert not view.mask[14, 3:12].any() and view.mask[14, 16:25].all()
    assert np.allclose(view.filled[..., 0], expected_fill(window, 5, view.mask), atol=1e-6)


def test_hide_a_block_and_random_images(qtbot, window):
    view = open_tab(qtbot, window)
    QTest.mouseClick(view.block_button, Qt.MouseButton.LeftButton)
    share = view.mask.mean()
    assert 0.15 < share < 0.35  # a block of about a quarter, as masked training hides
    rows, cols = np.nonzero(view.mask)
    assert view.mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()  # a block
    first = view.index
    seen = {first}
    for _ in range(3):
        QTest.mouseClick(view.random_button, Qt.MouseButton.LeftButton)
        seen.add(view.index)
    assert len(seen) > 1
    assert np.allclose(view.filled[..., 0], expected_fill(window, view.index, view.mask), atol=1e-6)
