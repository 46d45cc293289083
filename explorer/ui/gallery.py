"""A gallery of data images (the selection's): thousands of thumbnails in one list view.

The view is a QListView in icon mode over a list model of data indices, with items of one
size: Qt lays out and paints only the cells in sight, and a thumbnail is made only when
its cell is first painted (then kept in a bounded cache), so ten thousand selected images
cost ten thousand integers, not ten thousand widgets or pixmaps. The cursor over a
thumbnail says which data point it is (`hovered`), so the plot can mark where it sits.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QListView

from explorer.core.data import Dataset
from explorer.ui.qimage import to_qimage

THUMB_PX = 48  # a thumbnail's side: an MNIST digit at about twice its pixels
_CACHED = 2000  # thumbnails kept: a few screens' worth


class GalleryModel(QAbstractListModel):
    """Data images `indices` of a dataset, each shown as a thumbnail (made when asked)."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.indices = np.zeros(0, np.int64)
        self._thumbs: OrderedDict[int, QPixmap] = OrderedDict()  # data index -> thumbnail

    def show(self, dataset: Dataset | None, indices: np.ndarray) -> None:
        self.beginResetModel()
        if dataset is not self.dataset:
            self._thumbs.clear()
        self.dataset, self.indices = dataset, np.asarray(indices, np.int64)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's API)
        return 0 if parent.isValid() or self.dataset is None else len(self.indices)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        i = int(self.indices[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(i)
        if role == Qt.ItemDataRole.ToolTipRole:
            labels, names = self.dataset.labels, self.dataset.class_names
            if labels is None:
                return f"image {i}"
            label = int(labels[i])
            name = names[label] if names and 0 <= label < len(names) else str(label)
            return f"image {i} · {name}"
        if role == Qt.ItemDataRole.UserRole:
            return i
        return None

    def thumbnail(self, i: int) -> QPixmap:
        """Data image i at THUMB_PX (crisp pixels), made once and kept a while."""
        if i in self._thumbs:
            self._thumbs.move_to_end(i)
            return self._thumbs[i]
        image, _ = to_qimage(self.dataset.images[i] / 255.0)
        thumb = QPixmap.fromImage(
            image.scaled(
                THUMB_PX,
                THUMB_PX,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )
        self._thumbs[i] = thumb
        if len(self._thumbs) > _CACHED:
            self._thumbs.popitem(last=False)
        return thumb


class Gallery(QListView):
    hovered = Signal(int)  # the data index under the cursor; -1 when it leaves the images

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("selectionGallery")
        self.gallery = GalleryModel(self)
        self.setModel(self.gallery)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.setGridSize(QSize(THUMB_PX + 6, THUMB_PX + 6))
        self.setUniformItemSizes(True)  # what lets Qt lay out thousands without asking each
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSelectionMode(QListView.SelectionMode.NoSelection)
        self.setMouseTracking(True)
        self.entered.connect(self._entered)
        self.viewportEntered.connect(lambda: self.hovered.emit(-1))  # between the images
        self.viewport().installEventFilter(self)

    def _entered(self, index: QModelIndex) -> None:
        self.hovered.emit(int(index.data(Qt.ItemDataRole.UserRole)))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self.hovered.emit(-1)
        return False

    def cell_of(self, row: int) -> QRect:
        """Where the thumbnail at `row` is drawn (viewport coordinates)."""
        return self.visualRect(self.gallery.index(row))
