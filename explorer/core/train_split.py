"""Which images a run trains on and which score it: the seeded training / validation
split (`split_indices`, `train_count`), the labels an M2 is told (`labelled_images`),
and the split as the training loop holds it, placed on the device (`TrainSplit`).

The split depends only on the dataset's size, `TrainConfig.val_fraction` and the seed,
so a checkpoint's training config says which images were held out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.config import TrainConfig
from explorer.core.data import Dataset
from explorer.core.data.packed import rows_of
from explorer.core.kind_table import KIND_TABLE
from explorer.core.metrics import dataset_labels
from explorer.core.model import LatentModel, images_to_tensor
from explorer.core.semi_supervised import UNKNOWN, classify_weight, labelled_mask

MAX_EVAL_IMAGES = 10_000  # validation images per epoch, bounded so epochs stay quick


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) index split; tiny datasets keep everything for training."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = n - train_count(n, val_fraction)
    return order[n_val:], order[:n_val]


def labelled_images(labels: np.ndarray, config: TrainConfig) -> np.ndarray:
    """The indices of the images (into `labels`, (N,)) whose label an M2 trained with
    `config` is told: `config.labelled` of each class of the training split (at least
    one of each), chosen by `config.seed`. The checkpoint's training config says which."""
    train_idx, _ = split_indices(len(labels), config.val_fraction, config.seed)
    return train_idx[labelled_mask(labels[train_idx], config.labelled, config.seed)]


def train_count(n: int, val_fraction: float) -> int:
    """How many of `n` images `split_indices` keeps for training."""
    return n - (round(n * val_fraction) if n >= 10 else 0)


@dataclass(frozen=True)
class TrainSplit:
    """The training images on the device, and the validation images that score each epoch."""

    images: torch.Tensor  # (n_train, ...) uint8, or packed binary rows, on the device
    labels: torch.Tensor | None  # (n_train,) classes on the device, for a conditional model
    val_images: torch.Tensor  # (n_val, ...) on the CPU, at most MAX_EVAL_IMAGES
    val_labels: torch.Tensor | None  # (n_val,)
    classify: float = 0.0  # M2: weight of a labelled image's cross-entropy (Weights.classify)

    @classmethod
    def place(
        cls, model: LatentModel, dataset: Dataset, config: TrainConfig, device: torch.device
    ) -> TrainSplit:
        train_idx, _ = split_indices(len(dataset), config.val_fraction, config.seed)
        all_images = images_to_tensor(dataset.images)  # packed binary images stay packed
        all_labels = dataset_labels(model, dataset)
        val_images, val_labels = validation_split(model, dataset, config)
        labels = None if all_labels is None else all_labels[torch.from_numpy(train_idx)]
        classify = 0.0
        if labels is not None and KIND_TABLE[model.kind].semi_supervised:
            # M2 is told the labels of a share only; the validation labels stay, held out
            told = torch.from_numpy(labelled_mask(labels.numpy(), config.labelled, config.seed))
            labels = torch.where(told, labels, UNKNOWN)
            classify = classify_weight(config.alpha, len(train_idx), int(told.sum()))
        return cls(
            images=rows_of(all_images, torch.from_numpy(train_idx)).to(device),
            labels=None if labels is None else labels.to(device),
            val_images=val_images,
            val_labels=val_labels,
            classify=classify,
        )


def validation_split(
    model: LatentModel, dataset: Dataset, config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The images (N, ...) that score a run's epochs, at most MAX_EVAL_IMAGES of them, on
    the CPU, and their labels (N,) where the model is told the class (all of them: M2's
    stay held out from training, not from scoring)."""
    train_idx, val_idx = split_indices(len(dataset), config.val_fraction, config.seed)
    eval_idx = torch.from_numpy((val_idx if len(val_idx) else train_idx)[:MAX_EVAL_IMAGES])
    labels = dataset_labels(model, dataset)
    return images_to_tensor(dataset.images)[eval_idx], None if labels is None else labels[eval_idx]
