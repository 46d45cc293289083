"""The networks' building blocks that are more than a torch layer: the MLP and the
spatial broadcast decoder (core/model.py puts them together into the app's networks)."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

# The broadcast decoder's per-pixel hidden widths. Each pixel runs this small MLP on z
# and its coordinates, so a pass keeps about width values per pixel (a training step
# about three times that: _PixelInputs.step_copies): one layer already draws a convex
# shape (its output sums half-planes).
_BROADCAST_WIDTHS = (32,)


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _PixelInputs(nn.Module):
    """The broadcast decoder's first layer, relu(A·z + B·(u, v) + b) for every pixel:
    (B, in_dim) -> (B, h·w, width). A·z is computed once per image and B·(u, v) once
    per pass, so the layer costs one add per value. One module, so that the memory
    checks (kinds.activations_per_image hooks every leaf module) count its output: the
    largest tensor of the decoder."""

    # A training step holds three tensors of this output's size at once: the output kept
    # for the backward pass, the gradient arriving at it and relu's gradient passed on.
    # Nothing else in the network comes near its size, so the step's memory check
    # (kinds.activations_per_image) counts it three times; measured, a step's peak is
    # then within 10% of the check's estimate, as for the mlp and the conv network.
    step_copies = 3

    def __init__(self, in_dim: int, width: int, h: int, w: int):
        super().__init__()
        from_z, from_xy = nn.Linear(in_dim, width), nn.Linear(2, width, bias=False)
        self.z_weight, self.bias, self.xy_weight = from_z.weight, from_z.bias, from_xy.weight
        v, u = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        self.register_buffer("grid", torch.stack([u, v], -1).reshape(h * w, 2), persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        per_image = F.linear(z, self.z_weight, self.bias)[:, None, :]
        # in place: the backward pass needs relu's output only, not the sum
        return (per_image + F.linear(self.grid, self.xy_weight)).relu_()


class BroadcastDecoder(nn.Module):
    """The spatial broadcast decoder (Watters et al. 2019), as 1×1 convolutions: every
    pixel is decoded by one small MLP from z (tiled over the image) and the pixel's own
    coordinates in [-1, 1].

    Why: position is then the easiest thing to write linearly. A first-layer unit is a
    half-plane of the image whose offset z moves, so a dimension linear in x (and one in
    y) draws the sprite anywhere; a deconvolution learns each position's pixels instead,
    and folds x and y into several dimensions (docs/performance.md, "Disentangling position").

    (B, in_dim) -> (B, c, h, w) logits.
    """

    def __init__(self, in_dim: int, image_shape: tuple[int, int, int]):
        super().__init__()
        c, h, w = image_shape
        first, *rest = _BROADCAST_WIDTHS
        self.shape = (c, h, w)
        self.inputs = _PixelInputs(in_dim, first, h, w)
        self.pixel = mlp([first, *rest, c])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        c, h, w = self.shape
        out = self.pixel(self.inputs(z))  # (B, h·w, c)
        return out.transpose(1, 2).reshape(len(z), c, h, w)
