"""Models and images a Python caller holds in memory, checked and put in the app's containers.

`as_dataset` turns a NumPy array, a torch tensor or a torch `Dataset` of images (with
optional labels and ground-truth factors) into a `Dataset`; `adapt_model` turns a torch
module with `encode`/`decode` into a model the app can explore, through the same probe
as a model opened from a file (core/external.py). What the caller passed is checked
before memory is spent on it, and every refusal is one line that starts with the
argument's name ("images: ...", "labels: ...", "factors: ...", "model: ...").
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset as TorchDataset

from explorer.core.config import Adapters
from explorer.core.data.convert import to_uint8_images
from explorer.core.data.dataset import MAX_FACTORS, Dataset, check_labels
from explorer.core.errors import CheckpointError, DataError
from explorer.core.external import USER_CODE_ERRORS, probe, short_error
from explorer.core.files import check_memory
from explorer.core.metrics import dataset_labels
from explorer.core.model import LatentModel, images_to_tensor

NAME = "in-memory data"  # the dataset's name in the window
_CHANNELS = (1, 3, 4)  # grey, RGB, RGBA: what the container holds
_PROBE_IMAGES = 8  # images of the data a module is first tried on


def as_dataset(images: Any, labels: Any = None, factors: Any = None, name: str = NAME) -> Dataset:
    """A `Dataset` of `images`, checked; raises DataError naming the argument.

    images: a NumPy array or torch tensor (N, H, W) or (N, C, H, W) with C = 1, 3 or 4,
        values 0..1 (floats) or 0..255; or a torch Dataset (with a length) whose items
        are an image (H, W) / (C, H, W) or an (image, label) pair.
    labels: (N,) whole numbers ≥ 0 (class indices), or None.
    factors: (N, K) whole numbers ≥ 0 (ground-truth factor values), or a mapping from
        a factor's name to its (N,) values, or None.
    """
    if isinstance(images, TorchDataset):
        array, found = _from_torch_dataset(images)
        if found is not None and labels is not None:
            raise DataError(
                "labels: given twice (the Dataset's items are (image, label) pairs); "
                "pass labels=None"
            )
        labels = found if labels is None else labels
    else:
        array = _array(images, "images")
    dataset = Dataset(images=_images(array), name=name)
    n = len(dataset)
    if labels is not None:
        dataset.labels = _labels(labels, n)
    if factors is not None:
        dataset.factors, dataset.factor_names = _factors(factors, n)
        dataset.factor_sizes = [int(v) + 1 for v in dataset.factors.max(0)]
    return dataset


def adapt_model(model: Any, dataset: Dataset, adapt: str | Adapters = "") -> LatentModel:
    """The caller's `model`, as a copy on the CPU the app can explore on `dataset`.

    A model of ours (`build_model`) is used as it is; any other torch module with
    `encode` and `decode` is probed on a few of the images, like a model opened from a
    file, and read through the adapters found (or those given in `adapt`, as
    "encoder=split,decoder=logits"). The window decodes in background threads and keeps
    its model on the CPU in eval mode, so it gets a copy: the caller's module keeps its
    device, its mode and the weights it goes on training. Raises ExplorerError naming
    `model` when it does not fit the data.
    """
    if isinstance(model, LatentModel):
        have, want = tuple(model.config.image_shape), dataset.image_shape
        if have != want:
            raise CheckpointError(
                f"model: takes images of shape {have} (channels, height, width) but the "
                f"images are {want}"
            )
        dataset_labels(model, dataset)  # a conditional model needs the data's labels
        return model.copy()
    if not isinstance(model, nn.Module):
        raise CheckpointError(
            f"model: expected a torch nn.Module with encode(x) and decode(z), "
            f"got a {type(model).__name__}"
        )
    adapters = Adapters.parse(adapt) if isinstance(adapt, str) else adapt
    try:
        inner = copy.deepcopy(model).to("cpu")
    except USER_CODE_ERRORS as e:
        raise CheckpointError(f"model: cannot be copied for the window ({short_error(e)})") from e
    shown = images_to_tensor(dataset.images[:_PROBE_IMAGES]).float() / 255
    return probe(inner, "model", type(model).__name__, dataset.image_shape, shown, adapters)


def _array(value: Any, arg: str) -> np.ndarray:
    """`value` (a NumPy array or a torch tensor) as a NumPy array on the CPU."""
    if isinstance(value, torch.Tensor):
        if value.is_meta:
            raise DataError(f"{arg}: a tensor on the meta device, which holds no values")
        if value.is_complex():
            raise DataError(f"{arg}: complex values ({value.dtype})")
        if value.device.type != "cpu":
            check_memory(value.nbytes, arg, f"a copy of the {value.device} tensor", DataError)
        value = value.detach().cpu()
        # NumPy has no bfloat16; half precision converts the same way, exactly
        if value.dtype in (torch.bfloat16, torch.float16):
            value = value.float()
        return value.numpy()
    if isinstance(value, np.ndarray):
        return value
    raise DataError(
        f"{arg}: expected a NumPy array, a torch tensor"
        + (" or a torch Dataset" if arg == "images" else "")
        + f", got a {type(value).__name__}"
    )


def _images(array: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, C, H, W) images -> the container's uint8 (N, H, W[, C])."""
    shape = array.shape
    if array.ndim not in (3, 4):
        raise DataError(
            f"images: an array of shape {shape}; expected (N, H, W) or (N, C, H, W)"
            + (" (reshape flattened images first)" if array.ndim == 2 else "")
        )
    if len(array) == 0:
        raise DataError(f"images: no images (shape {shape})")
    if array.ndim == 4 and shape[1] not in _CHANNELS:
        hint = "; channels last? pass images.transpose(0, 3, 1, 2)" if shape[3] in _CHANNELS else ""
        raise DataError(
            f"images: shape {shape} read as (N, C, H, W) has {shape[1]} channels; "
            f"1, 3 or 4 expected{hint}"
        )
    if min(shape[-2:]) < 2:
        raise DataError(f"images: {shape[-2]}×{shape[-1]} pixels; at least 2×2 expected")
    # converting non-bytes takes a float copy of the array and a rounded one beside it
    need = math.prod(shape) * (1 if array.dtype == np.uint8 else 1 + 2 * array.itemsize)
    check_memory(need, "images", f"{shape[0]:,} images of {shape[1:]}", DataError)
    if array.ndim == 4:
        array = np.moveaxis(array, 1, 3)
    return to_uint8_images(array, "images")


def _from_torch_dataset(data: TorchDataset) -> tuple[np.ndarray, np.ndarray | None]:
    """Every item of a map-style torch Dataset: images (N, ...) and labels (N,) or None."""
    try:
        n = len(data)
    except TypeError:
        raise DataError(
            f"images: a {type(data).__name__} has no length (an IterableDataset?); "
            "pass a map-style Dataset or an array"
        ) from None
    except ValueError as e:  # (len() of a negative __len__)
        raise DataError(f"images: the {type(data).__name__}'s length: {e}") from None
    if n == 0:
        raise DataError("images: the Dataset is empty")
    first, label = _item(data, 0)
    if first.ndim not in (2, 3):
        raise DataError(
            f"images: item 0 of the Dataset is an image of shape {first.shape}; "
            "expected (H, W) or (C, H, W)"
        )
    # bytes stay bytes; anything else is gathered as float32 and scaled once, for all
    dtype = np.uint8 if first.dtype == np.uint8 else np.float32
    per_image = first.size * np.dtype(dtype).itemsize
    check_memory(n * per_image, "images", f"{n:,} images of {first.shape}", DataError)
    images = np.empty((n, *first.shape), dtype)
    labels = None if label is None else np.empty(n, np.float64)
    for i in range(n):
        image, y = (first, label) if i == 0 else _item(data, i)
        if image.shape != first.shape:
            raise DataError(
                f"images: item {i} of the Dataset has shape {image.shape}, item 0 {first.shape}"
            )
        if (y is None) != (label is None):
            raise DataError(
                f"images: item {i} of the Dataset "
                + ("has no label, item 0 has one" if y is None else "has a label, item 0 none")
            )
        images[i] = image
        if labels is not None:
            labels[i] = y
    return images, labels


def _item(data: TorchDataset, i: int) -> tuple[np.ndarray, float | None]:
    """Item `i` of a torch Dataset as (image, label or None)."""
    try:
        item = data[i]
    except USER_CODE_ERRORS as e:
        raise DataError(f"images: reading item {i} of the Dataset failed ({short_error(e)})") from e
    label = None
    if isinstance(item, (tuple, list)):
        if len(item) != 2:
            raise DataError(
                f"images: item {i} of the Dataset is a {type(item).__name__} of {len(item)} "
                "items; expected an image or (image, label)"
            )
        item, label = item
        label = _label_value(label, i)
    if not isinstance(item, (torch.Tensor, np.ndarray)):
        raise DataError(
            f"images: item {i} of the Dataset is a {type(item).__name__}; expected an image "
            "(a tensor or an array; a PIL image needs transforms.ToTensor()) or (image, label)"
        )
    image = _array(item, "images")
    if image.dtype.kind not in "biuf":
        raise DataError(f"images: item {i} of the Dataset holds {image.dtype} values")
    return image, label


def _label_value(label: Any, i: int) -> float:
    """One item's label as a number (checked as a class index with the others)."""
    if isinstance(label, (torch.Tensor, np.ndarray)) and label.reshape(-1).shape == (1,):
        label = label.item()
    if isinstance(label, bool) or not isinstance(label, (int, float, np.integer, np.floating)):
        raise DataError(
            f"labels: item {i} of the Dataset has a label of type {type(label).__name__}; "
            "expected a class number"
        )
    return float(label)


def _values(value: Any, arg: str) -> np.ndarray:
    """An array-like argument (array, tensor, list) as a NumPy array of numbers."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = _array(value, arg)
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as e:  # ragged lists
            raise DataError(f"{arg}: cannot be read as an array ({e})") from e
    if array.dtype.kind not in "biuf":
        raise DataError(f"{arg}: expected numbers, got {array.dtype} values")
    return array


def _labels(value: Any, n: int) -> np.ndarray:
    labels = _values(value, "labels")
    if labels.shape != (n,):
        raise DataError(f"labels: shape {labels.shape} for {n:,} images; expected ({n:,},)")
    return check_labels(labels, "labels")


def _factors(value: Any, n: int) -> tuple[np.ndarray, list[str]]:
    """(N, K) int64 factor values and the factors' names."""
    if isinstance(value, Mapping):
        names = [str(k) for k in value]
        columns = [_values(v, f"factors[{k!r}]") for k, v in value.items()]
        for k, column in zip(value, columns, strict=True):
            if column.shape != (n,):
                raise DataError(
                    f"factors[{k!r}]: shape {column.shape} for {n:,} images; expected ({n:,},)"
                )
        array = np.stack(columns, axis=1) if columns else np.zeros((n, 0))
    else:
        array = _values(value, "factors")
        if array.ndim != 2 or len(array) != n:
            raise DataError(
                f"factors: shape {array.shape} for {n:,} images; expected ({n:,}, K), "
                "one column per factor"
            )
        names = [f"factor {k}" for k in range(array.shape[1])]
    if not 1 <= array.shape[1] <= MAX_FACTORS:
        raise DataError(f"factors: {array.shape[1]} factors; 1 to {MAX_FACTORS} expected")
    if array.dtype.kind == "f" and not (
        np.isfinite(array).all() and np.all(array == np.round(array))
    ):
        raise DataError(
            "factors: values must be whole numbers (the index of each factor's value), "
            "found NaN, infinite or fractional values"
        )
    if array.min() < 0:
        raise DataError(f"factors: values must be ≥ 0, found {array.min():g}")
    return array.astype(np.int64), names
