"""Inpainting (`inpaintingCanvas`): hide part of a data image and watch the model fill it.

Three cells side by side: the data image (the hidden part tinted red), what the model
is given (hidden pixels grey, as in masked training: see core/corruption.py), and the
model's reconstruction of that. Drag with the left button over any cell to hide
pixels, with the right button to show them again. The note scores the fill-in: the
squared error over the hidden pixels, beside that of the model's reconstruction of the
whole image, so the cost of the missing part is plain. A model trained with masked
inputs (Corrupt inputs: masked block) fills in far better than one that was not.

The image is the data point last clicked on the plot (or a random one). One encode and
decode per brush stroke runs on the GUI thread: a single forward pass, as cheap as a
hover's decode.
"""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from explorer.core.corruption import block_masks, fill_in, hidden_error
from explorer.core.figures import tile
from explorer.ui.lazy_view import LazyView
from explorer.ui.picture_canvas import BACKGROUND
from explorer.ui.qimage import to_qimage
from explorer.ui.state import Session
from explorer.ui.theme import hint_label

CELLS = ("data", "the model sees", "its reconstruction")
_GAP = 0.06  # between cells, as a share of a cell's width
_TINT = QColor(230, 60, 60, 110)  # hidden pixels over the data image
_HOW_TO = (
    "Drag over an image to hide pixels (right button: show them again); the model fills "
    "them in on the right. Click a point of the plot to use its image."
)


class MaskCanvas(QWidget):
    """Draws the cells and turns drags into mask edits."""

    painted = Signal()  # the mask changed under the mouse

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("inpaintingCanvas")
        self.setMinimumHeight(120)
        self.cells: list[QImage] = []
        self.mask: np.ndarray | None = None  # (H, W) bool, True = hidden
        self.brush = 2  # radius in image pixels
        self._painting: bool | None = None  # True: hiding, False: showing, None: no drag

    def set_cells(self, images: list[np.ndarray], mask: np.ndarray) -> None:
        """images: (H, W) or (H, W, C) in [0, 1], one per cell; mask (H, W)."""
        self.cells = [to_qimage(img)[0] for img in images]
        self.mask = mask
        self.update()

    def cell_rects(self) -> list[QRectF]:
        if self.mask is None:
            return []
        h, w = self.mask.shape
        n = len(CELLS)
        scale = min(self.width() / (w * (n + (n - 1) * _GAP)), (self.height() - 16) / h)
        gap = _GAP * w * scale
        left = (self.width() - n * w * scale - (n - 1) * gap) / 2
        return [QRectF(left + i * (w * scale + gap), 16, w * scale, h * scale) for i in range(n)]

    def pixel_at(self, pos: QPointF) -> tuple[int, int] | None:
        """The image pixel (row, column) under a widget position, in any cell."""
        h, w = self.mask.shape if self.mask is not None else (0, 0)
        for rect in self.cell_rects():
            if rect.contains(pos):
                col = int((pos.x() - rect.left()) / rect.width() * w)
                row = int((pos.y() - rect.top()) / rect.height() * h)
                return min(row, h - 1), min(col, w - 1)
        return None

    def _paint_at(self, pos: QPointF) -> None:
        at = self.pixel_at(pos)
        if at is None or self._painting is None:
            return
        h, w = self.mask.shape
        rows, cols = np.ogrid[:h, :w]
        disc = (rows - at[0]) ** 2 + (cols - at[1]) ** 2 <= self.brush**2
        before = self.mask.copy()
        self.mask[disc] = self._painting
        if not np.array_equal(before, self.mask):
            self.painted.emit()

    def mousePressEvent(self, event) -> None:
        if self.mask is None:
            return
        self._painting = event.button() == Qt.MouseButton.LeftButton
        self._paint_at(event.position())

    def mouseMoveEvent(self, event) -> None:
        self._paint_at(event.position())

    def mouseReleaseEvent(self, event) -> None:
        self._painting = None

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(BACKGROUND))
        rects = self.cell_rects()
        painter.setPen(QColor("#e8eaed"))
        for rect, image, title in zip(rects, self.cells, CELLS, strict=False):
            painter.drawImage(rect, image)
            painter.drawText(
                QRectF(rect.left(), 0, rect.width(), 14), Qt.AlignmentFlag.AlignCenter, title
            )
        if rects and self.mask is not None and self.mask.any():
            h, w = self.mask.shape
            first = rects[0]
            px, py = first.width() / w, first.height() / h
            for r, c in zip(*np.nonzero(self.mask), strict=True):
                painter.fillRect(QRectF(first.left() + c * px, first.top() + r * py, px, py), _TINT)
        painter.end()


class InpaintingView(LazyView):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.index: int | None = None  # the data image shown
        self.mask: np.ndarray | None = None  # (H, W) bool, True = hidden
        self.filled: np.ndarray | None = None  # (H, W, C) the model's reconstruction
        self.picture: np.ndarray | None = None  # the CELLS side by side, as exported
        self.canvas = MaskCanvas()
        self.random_button = QPushButton("Random image", objectName="randomImageButton")
        self.block_button = QPushButton("Hide a block", objectName="hideBlockButton")
        self.block_button.setToolTip("Hide a random block, as masked training does")
        self.clear_button = QPushButton("Show all", objectName="clearMaskButton")
        self.brush_spin = QSpinBox(objectName="brushSpin", minimum=0, maximum=16, value=2)
        self.brush_spin.setPrefix("brush ")
        self.brush_spin.setToolTip("Radius of the brush, in image pixels")
        bar = QHBoxLayout()
        for w in (self.random_button, self.block_button, self.clear_button, self.brush_spin):
            bar.addWidget(w)
        bar.addStretch(1)
        self.note = hint_label(QLabel(_HOW_TO))
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.canvas, 1)
        self._rng = np.random.default_rng(0)  # random images
        self._blocks = torch.Generator().manual_seed(0)  # random blocks
        self._whole: tuple[tuple, torch.Tensor] | None = None  # (image, model) -> unmasked recon
        self.random_button.clicked.connect(self.random_image)
        self.block_button.clicked.connect(self.hide_block)
        self.clear_button.clicked.connect(self.clear_mask)
        self.brush_spin.valueChanged.connect(lambda r: setattr(self.canvas, "brush", r))
        self.canvas.painted.connect(self.request)
        session.focusChanged.connect(self._follow_focus)
        session.datasetChanged.connect(self._dataset_changed)
        # a new model, new weights or another class; the code z is not what it shows
        session.decoderChanged.connect(self.request)

    # -- choosing the image and the mask -------------------------------------------------
    def show_image(self, index: int) -> None:
        """Inpaint data image `index`; the mask stays (a new one for a new image size)."""
        self._choose(index)
        self.request()

    def _choose(self, index: int) -> None:
        self.index = index
        h, w = self.session.dataset.image_shape[1:]
        if self.mask is None or self.mask.shape != (h, w):
            self.mask = np.zeros((h, w), bool)
            self.mask[h // 4 : h // 2, :] = True  # a first band hidden, to show the idea

    def random_image(self) -> None:
        if self.session.dataset is not None:
            self.show_image(int(self._rng.integers(len(self.session.dataset))))

    def hide_block(self) -> None:
        if self.mask is not None:
            h, w = self.mask.shape
            self.mask[:] = block_masks(1, h, w, 0.25, generator=self._blocks)[0, 0].numpy()
            self.request()

    def clear_mask(self) -> None:
        if self.mask is not None:
            self.mask[:] = False
            self.request()

    def _follow_focus(self) -> None:
        if self.session.focus is not None:
            self.show_image(self.session.focus)

    def _dataset_changed(self) -> None:
        self.index = None
        self.filled = self.picture = None
        self.canvas.set_cells([], np.zeros((0, 0), bool))
        self.canvas.mask = None
        self.note.setText(_HOW_TO)

    # -- the fill-in ---------------------------------------------------------------------
    def request(self) -> None:
        s = self.session
        ready = (
            s.model is not None
            and s.dataset is not None
            and tuple(s.model.config.image_shape) == s.dataset.image_shape
        )
        if not ready or self.hidden_now():
            return
        if self.index is None:  # first shown: a random image
            self._choose(int(self._rng.integers(len(s.dataset))))
        raw = s.dataset.images[self.index].astype(np.float32) / 255.0
        image = torch.from_numpy(raw[..., None] if raw.ndim == 2 else raw).permute(2, 0, 1)
        label = int(s.dataset.labels[self.index]) if s.model.conditional else None
        mask = torch.from_numpy(self.mask)
        masked, filled = fill_in(s.model, image, mask, label)
        key = (self.index, s.model_version, id(s.dataset))
        if self._whole is None or self._whole[0] != key:  # once per image and model
            self._whole = (key, fill_in(s.model, image, torch.zeros_like(mask), label)[1])
        whole = self._whole[1]
        self.filled = filled.permute(1, 2, 0).numpy()
        cells = [t.permute(1, 2, 0).numpy() for t in (image, masked, filled)]
        self.canvas.set_cells(cells, self.mask)
        self.picture = tile(np.stack(cells), 1, len(cells), gap=1, fill=0.3)
        hidden = int(self.mask.sum())
        if hidden == 0:
            self.note.setText(f"Data point #{self.index:,}: nothing hidden. {_HOW_TO}")
            return
        self.note.setText(
            f"Data point #{self.index:,}: {hidden} pixels hidden. Squared error over them "
            f"{hidden_error(image, filled, mask):.2f}; with nothing hidden the model's "
            f"reconstruction misses them by {hidden_error(image, whole, mask):.2f}."
        )

    def showEvent(self, event) -> None:
        self._stale = self._stale or self.filled is None  # the first showing fills in
        super().showEvent(event)
