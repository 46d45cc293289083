"""Plot items drawn from cached pixmaps: for what rarely changes under what often does.

A plot repaints every item that overlaps a changed area; a legend over a moving marker
or a growing curve was redrawn each time, its text laid out anew (a legend of ten
classes is a visible share of a full repaint of the latent plot). Cached, an item is a
pixmap blit until it changes itself. `scripts/bench_ui.py --only hover` times the frames.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem


def cache_pixmaps(*items: QGraphicsItem) -> None:
    """Cache each item and everything inside it (Qt caches an item's own painting, not
    its children's: a legend's labels are text items within label items)."""
    for item in items:
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        cache_pixmaps(*item.childItems())
