"""Corrupted inputs for denoising and masked training, and for inpainting.

Masked pixels are set to grey (FILL): neither ink nor background, so a model trained
on masked inputs can tell "unknown" from "blank", and the inpainting panel hides a
region from any model the same way.
"""

from __future__ import annotations

import torch

from explorer.core.model import LatentModel

FILL = 0.5  # the value of a masked pixel, in [0, 1]


def block_masks(
    n: int,
    height: int,
    width: int,
    share: float,
    device=None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """n random axis-aligned blocks, each covering about `share` of the image: (n, 1, H, W)
    bool, True where hidden. Aspect ratios vary from 1:2 to 2:1; positions are uniform.
    Drawn from `generator` (default: torch's global one), on `generator`'s device."""
    area = share * height * width
    draws = torch.rand((3, n), generator=generator, device=device)
    aspect = torch.exp((draws[0] - 0.5) * 1.38)  # h / w in [½, 2]
    bh = (area * aspect).sqrt().round().clamp(1, height)
    bw = (area / bh).round().clamp(1, width)
    top = (draws[1] * (height - bh + 1)).floor()
    left = (draws[2] * (width - bw + 1)).floor()
    rows = torch.arange(height, device=device).view(1, height, 1)
    cols = torch.arange(width, device=device).view(1, 1, width)
    inside_rows = (rows >= top.view(-1, 1, 1)) & (rows < (top + bh).view(-1, 1, 1))
    inside_cols = (cols >= left.view(-1, 1, 1)) & (cols < (left + bw).view(-1, 1, 1))
    return (inside_rows & inside_cols).unsqueeze(1)


def apply_mask(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """x: (B, C, H, W) in [0, 1] with the pixels where mask (B or 1, 1, H, W) is True greyed."""
    return x.masked_fill(mask, FILL)


def corrupt(x: torch.Tensor, kind: str, level: float) -> torch.Tensor:
    """A corrupted copy of the batch x: (B, C, H, W) in [0, 1] (TrainConfig.corruption).

    "mask": one random block per image, covering `level` of it, greyed out.
    "noise": a share `level` of the pixels replaced by uniform noise.
    Half the images (at random) stay whole, so the model still learns complete images:
    on digits (8-D VAE) that fills a hidden block as well as corrupting every image
    does, for 8 nats of clean-image ELBO instead of 27. Draws from torch's global
    generator (seeded by the training loop).
    """
    if kind == "none":
        return x
    if kind == "mask":
        hidden = apply_mask(x, block_masks(len(x), x.shape[2], x.shape[3], level, x.device))
    else:
        hit = torch.rand((len(x), 1, *x.shape[2:]), device=x.device) < level
        hidden = torch.where(hit, torch.rand_like(x), x)
    whole = torch.rand((len(x), 1, 1, 1), device=x.device) < 0.5
    return torch.where(whole, x, hidden)


@torch.inference_mode()
def fill_in(
    model: LatentModel, image: torch.Tensor, mask: torch.Tensor, label: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide the pixels of image (C, H, W) in [0, 1] where mask (H, W) is True, and let
    `model` reconstruct it from its posterior mean: (masked input, reconstruction), each
    (C, H, W). A conditional model is told the image's class `label`."""
    masked = apply_mask(image[None], mask[None, None])
    y = None if label is None else torch.tensor([label])
    mu, _ = model.encode(masked.to(model.device), y)
    return masked[0], model.decode(mu, y)[0].float().cpu()


def hidden_error(image: torch.Tensor, guess: torch.Tensor, mask: torch.Tensor) -> float:
    """Σ (image - guess)² over the hidden pixels (all channels): how well they were filled."""
    return float(((image - guess).square() * mask).sum())
