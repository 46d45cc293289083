"""How many images one inference pass takes, so that image size cannot ask for more
memory than the machine can spare.

Each size is bounded on its own (images up to 1024×1024 pixels, a model up to its
parameter limit), but the fixed batches of encoding and evaluation (1,024 images) or of
the on-data check's reference set (5,000 images kept whole) would need hundreds of GB of
the largest images. Passes that only infer take as many images as fit in the budget one
loaded dataset may take (`files.memory_budget`), counting `_VALUES_PER_PIXEL` float32
values per input pixel for the layer outputs of a pass: generous, since the app's conv
network keeps about 16 per pixel, its MLP about 5 and its broadcast decoder its width
plus one (layers._BROADCAST_WIDTHS), and a model from elsewhere cannot be counted.
Training steps are checked separately, layer by layer (`train_checks.check_step_memory`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from explorer.core.files import memory_budget

_VALUES_PER_PIXEL = 64
_BYTES_PER_VALUE = 4  # float32


def images_per_pass(image_shape: Sequence[int], most: int) -> int:
    """Images of `image_shape` (C, H, W) one forward pass may take: at most `most`, at
    least 1."""
    per_image = _VALUES_PER_PIXEL * _BYTES_PER_VALUE * math.prod(image_shape)
    return max(1, min(most, memory_budget() // per_image))


def images_kept(image_shape: Sequence[int], most: int) -> int:
    """Float images of `image_shape` that may be kept in memory at once (a reference set
    searched whole): at most `most`, at least 1."""
    per_image = _BYTES_PER_VALUE * math.prod(image_shape)
    return max(1, min(most, memory_budget() // per_image))
