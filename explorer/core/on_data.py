"""Are a model's samples on the data? The fraction of prior samples that decode to
something as close to a training image as the data's own codes decode to.

A VAE promises that any code drawn from its prior decodes to a plausible image; an
autoencoder promises nothing of the kind: the gaps between its codes decode to
whatever. This measures the promise. Draw codes from the prior, decode their mean
images, and find each one's nearest neighbour (Euclidean, pixels in [0, 1]) among
`reference` training images. The yardstick is the data's own distance, seen through
the same decoder: the median distance from the reconstructions of held-out images
(decoded from their posterior means) to their nearest reference image. A sample is
"on the data" when it is no farther than that, so a model whose prior samples decode
like its reconstructions scores about 0.5, and one whose samples fall in gaps
scores near 0. (Measured against the raw images instead, every decoded mean is
blurrier than any real image and nearly every model scores 0: the yardstick would
grade the decoder's blur, not the latent space.)

The prior is N(0, I) for the VAE kinds and for PCA (whose codes are whitened, so that
is exactly the Gaussian PCA fits). An autoencoder has no prior: its codes are drawn
from a Gaussian fitted to the codes of the data (their mean and covariance), the
most generous stand-in. A conditional VAE's samples take classes in the data's
proportions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.code_spans import codes_gaussian
from explorer.core.kind_table import KIND_TABLE
from explorer.core.model import LatentModel
from explorer.core.pass_size import images_kept, images_per_pass

_CHUNK = 512  # samples decoded and compared at a time
# One image held out for the yardstick and two references (an autoencoder's fitted
# Gaussian needs a covariance, which one code does not have).
ON_DATA_MIN_IMAGES = 3


@dataclass(frozen=True)
class OnData:
    fraction: float  # share of prior samples closer to the data than `threshold`
    threshold: float  # median nearest-neighbour distance of held-out images' reconstructions
    samples: int  # prior samples drawn
    reference: int  # training images they are compared against
    prior: str  # what the codes were drawn from, in words


def _nearest(a: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Distance from each row of a: (n, D) to its nearest row of ref: (m, D) -> (n,)."""
    return torch.cat(
        [torch.cdist(a[i : i + _CHUNK], ref).min(1).values for i in range(0, len(a), _CHUNK)]
    )


def _in_passes(fn, x: torch.Tensor, y: torch.Tensor | None, size: int) -> torch.Tensor:
    """fn(x, y) over rows of x: (n, ...) and y: (n,) or None, `size` rows a pass; the
    results concatenated."""
    return torch.cat(
        [
            fn(x[i : i + size], None if y is None else y[i : i + size])
            for i in range(0, len(x), size)
        ]
    )


def _codes_gaussian(
    model: LatentModel, ref: torch.Tensor, ref_labels, n: int, gen, size: int
) -> torch.Tensor:
    """n codes from the Gaussian with the mean and covariance of the reference codes."""
    mu = _in_passes(lambda x, y: model.encode(x, y)[0], ref, ref_labels, size)
    centre, chol = (torch.from_numpy(a) for a in codes_gaussian(mu.double().cpu().numpy()))
    eps = torch.randn((n, mu.shape[1]), generator=gen, dtype=centre.dtype)
    return (centre + eps @ chol.T).float().to(mu.device)


@torch.inference_mode()
def on_data(
    model: LatentModel,
    images: torch.Tensor,
    labels: torch.Tensor | None = None,
    samples: int = 1000,
    reference: int = 5000,
    seed: int = 0,
) -> OnData:
    """Score `model` against uint8 images (N, C, H, W) (labels (N,) for a cvae).

    At most half the images (and at most `samples`) are held out for the yardstick;
    up to `reference` of the rest are the neighbours. Runs on the model's device.
    Needs ON_DATA_MIN_IMAGES images: ValueError with fewer. Large images are taken a
    few at a time, and fewer references kept, within the memory budget (`pass_size`).
    """
    if len(images) < ON_DATA_MIN_IMAGES:
        raise ValueError(f"on_data needs {ON_DATA_MIN_IMAGES} images or more, got {len(images)}")
    was_training = model.training
    model.eval()
    device = model.device
    gen = torch.Generator().manual_seed(seed)
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(images)))
    n_held = min(samples, len(images) // 2)
    shape = images.shape[1:]
    size = images_per_pass(shape, _CHUNK)
    # the references are searched whole, beside one pass's decoded images
    reference = images_kept(shape, reference) if reference else reference
    held_idx, ref_idx = order[:n_held], order[n_held : n_held + reference]
    ref = images[ref_idx].to(device).float() / 255.0
    ref_labels = None if labels is None else labels[ref_idx].to(device)
    flat_ref = ref.flatten(1)

    def reconstruction_distance(idx: torch.Tensor, _) -> torch.Tensor:
        """Held-out images `idx`, read as floats a pass at a time: their reconstructions'
        distance to the nearest reference."""
        x = images[idx].to(device).float() / 255.0
        y = None if labels is None else labels[idx].to(device)
        return _nearest(model.decode(model.encode(x, y)[0], y).flatten(1).float(), flat_ref)

    threshold = float(_in_passes(reconstruction_distance, held_idx, None, size).median())
    d = model.config.latent_dim
    if not KIND_TABLE[model.kind].prior:
        z = _codes_gaussian(model, ref, ref_labels, samples, gen, size)
        prior = "a Gaussian fitted to the codes of the data (an autoencoder has no prior)"
    else:
        z = torch.randn((samples, d), generator=gen).to(device)
        prior = "the prior N(0, I)"
    y = None
    if ref_labels is not None:
        y = ref_labels[torch.randint(len(ref_labels), (samples,), generator=gen).to(device)]
        prior += ", classes in the data's proportions"

    def sample_distance(z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return _nearest(model.decode(z, y).flatten(1).float(), flat_ref)

    fraction = float((_in_passes(sample_distance, z, y, size) <= threshold).float().mean())
    model.train(was_training)
    return OnData(fraction, threshold, samples, len(ref_idx), prior)
