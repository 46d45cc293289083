"""Models trained elsewhere, behind the interface the app uses (`LatentModel`).

People write VAEs in many small variations: an encoder returns (mu, logvar), or one
tensor of size 2d, or a torch.distributions Normal, sometimes with extra items; a
decoder returns probabilities, logits or a distribution; either may work on
flattened images. `probe` runs the user's module once on a probe batch, tells those
variations apart (or takes the user's `Adapters`), checks every shape, and returns an
`ExternalModel` that speaks the app's language. When something does not fit, the
error says which method, what it was given and what it returned.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.distributions import Bernoulli, Distribution, Independent

from explorer.core.config import (
    MAX_CHANNELS,
    MAX_IMAGE_SIDE,
    MAX_LATENT_DIM,
    Adapters,
    ExternalConfig,
)
from explorer.core.errors import CheckpointError
from explorer.core.model import LatentModel

_PROBE_PRIOR_SAMPLES = 8  # codes drawn from N(0, I) besides the probe images' means
# What running the user's code may raise and we report: anything, sys.exit and a stray
# GeneratorExit included (neither is an Exception); Ctrl-C (KeyboardInterrupt) still
# stops the program.
USER_CODE_ERRORS = (Exception, SystemExit, GeneratorExit)
_EPS = 1e-6  # probabilities are clamped this far inside (0, 1) before taking logits


def short_error(error: BaseException) -> str:
    """One line of an exception; TorchScript errors carry their whole call stack. A
    user's exception may fail to print or print megabytes: neither reaches the user."""
    try:
        text = str(error)
    except Exception:  # its __str__ is the user's code too
        text = "(its message cannot be printed)"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    return f"{type(error).__name__}: {last if len(last) <= 300 else last[:297] + '...'}"


_DESCRIBED_ITEMS = 4  # items of a returned tuple or list named in a message
_DESCRIBED_DEPTH = 3  # levels of nesting named in a message


def _describe(value: object, depth: int = 0) -> str:
    """What a user's method returned, in a few words however large or nested it is."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if len(value) > _DESCRIBED_ITEMS:
            return f"a {kind} of {len(value):,} items"
        if depth >= _DESCRIBED_DEPTH:
            return f"a {kind} of more nested items"
        return f"a {kind} of {', '.join(_describe(v, depth + 1) for v in value)}"
    return f"a {type(value).__name__}"


def _numbers(t: object, name: str, method: str) -> torch.Tensor:
    """`t` if it holds real floating-point values in memory: a tensor on torch's meta
    device has no values to read, and complex, integer or boolean outputs are not
    codes or pixel means (casting them would silently drop parts or rescale them)."""
    if not isinstance(t, torch.Tensor):
        raise CheckpointError(f"{name}: {method} returned {_describe(t)} where a tensor belongs")
    if t.is_meta:
        raise CheckpointError(
            f"{name}: {method} returned a tensor on the meta device, which holds no values"
        )
    if not t.is_floating_point():
        raise CheckpointError(
            f"{name}: {method} returned {str(t.dtype).removeprefix('torch.')} values; "
            "expected floating-point numbers"
        )
    return t


def _base(dist: Distribution) -> Distribution:
    return dist.base_dist if isinstance(dist, Independent) else dist


class ExternalModel(LatentModel):
    """A user's module with encode/decode, read through resolved `Adapters`.

    Its weights never change in the app, so `copy()` shares it: inference on one
    module from several threads is safe. The probe tried it on a few images only: when
    it fails on other batches (a larger one, say), CheckpointError names its file.
    """

    def __init__(self, inner: nn.Module, config: ExternalConfig, name: str = "the model"):
        super().__init__()
        self.inner = inner.eval()
        self.config = config
        self.name = name  # its file, for messages

    @contextlib.contextmanager
    def _user_code(self, method: str, given: torch.Tensor) -> Iterator[None]:
        """Whatever running `method` on `given` raises, as CheckpointError naming the file."""
        try:
            yield
        except CheckpointError:
            raise
        except USER_CODE_ERRORS as e:
            raise CheckpointError(
                f"{self.name}: {method} failed on {_describe(given)} ({short_error(e)})"
            ) from e

    def _dtype(self) -> torch.dtype:
        p = next(self.inner.parameters(), None)
        return p.dtype if p is not None and p.is_floating_point() else torch.float32

    def encode(
        self, x: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) in [0, 1] -> mu, logvar: (B, d), float32 (y is not used)."""
        with self._user_code("encode", x):
            x = x.to(self._dtype())
            if self.config.adapters.input == "flat":
                x = x.flatten(1)
            mu, logvar = _read_posterior(self.inner.encode(x), self.config.adapters.encoder)
            mu, logvar = (_numbers(t, self.name, "encode").flatten(1).float() for t in (mu, logvar))
        expected = (len(x), self.config.latent_dim)
        if mu.shape != expected or logvar.shape != expected:
            raise CheckpointError(
                f"{self.name}: encode gave mu {tuple(mu.shape)} and logvar "
                f"{tuple(logvar.shape)} for {len(x)} images; the probe found latent size "
                f"{self.config.latent_dim}"
            )
        return mu, logvar

    def _decoded(self, z: torch.Tensor) -> torch.Tensor | Distribution:
        out = self.inner.decode(z.to(self._dtype()))
        return out[0] if isinstance(out, (tuple, list)) else out

    def _as_images(self, t: torch.Tensor) -> torch.Tensor:
        return _numbers(t, self.name, "decode").reshape(len(t), *self.config.image_shape).float()

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, d) -> (B, C, H, W) Bernoulli logits (what the metrics score)."""
        with self._user_code("decode", z):
            out, kind = self._decoded(z), self.config.adapters.decoder
            if kind == "logits":
                return self._as_images(out)
            if kind == "distribution" and isinstance(_base(out), Bernoulli):
                return self._as_images(_base(out).logits)
            mean = out.mean if kind == "distribution" else out
            return torch.logit(self._as_images(mean).clamp(_EPS, 1 - _EPS))

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, d) -> (B, C, H, W) mean images, clamped to [0, 1] for display."""
        with self._user_code("decode", z):
            out, kind = self._decoded(z), self.config.adapters.decoder
            if kind == "logits":
                return torch.sigmoid(self._as_images(out))
            mean = out.mean if kind == "distribution" else out
            return self._as_images(mean).clamp(0.0, 1.0)

    def copy(self) -> ExternalModel:
        return self.eval()


def _read_posterior(out: object, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    if kind == "distribution":
        return out.mean, 2.0 * torch.log(out.stddev)
    if kind == "pair":
        return out[0], out[1]
    return out.flatten(1).chunk(2, dim=1)


def _guess_encoder(out: object, batch: int) -> str | None:
    """Which `Adapters.encoder` reads `out`, or None."""
    if isinstance(out, Distribution):
        return "distribution"
    if (
        isinstance(out, (tuple, list))
        and len(out) >= 2
        and all(isinstance(t, torch.Tensor) for t in out[:2])
        and out[0].shape == out[1].shape
        and len(out[0]) == batch
    ):
        return "pair"
    if isinstance(out, torch.Tensor) and out.ndim >= 2 and len(out) == batch:
        return "split" if out[0].numel() % 2 == 0 else None
    return None


def _own_image_shape(value: object, name: str) -> tuple[int, int, int]:
    """A model's `image_shape` attribute as (C, H, W): whole numbers only (28.9 is no
    size to round), within what a model of ours may take, since probe images of this
    shape are made when no data is open."""
    shape = list(value) if isinstance(value, (tuple, list, torch.Size)) else None
    if (
        shape is None
        or len(shape) not in (2, 3)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
    ):
        shown = _describe(value) if shape is None or len(shape) > 3 else repr(value)
        raise CheckpointError(
            f"{name}: its image_shape attribute is {shown}, not (channels, height, width) "
            "in whole numbers"
        )
    c, h, w = (1, *shape) if len(shape) == 2 else shape
    if not (1 <= c <= MAX_CHANNELS and min(h, w) >= 1 and max(h, w) <= MAX_IMAGE_SIDE):
        raise CheckpointError(
            f"{name}: its image_shape attribute is {(c, h, w)}; a model takes 1 to "
            f"{MAX_CHANNELS} channels of at most {MAX_IMAGE_SIDE}×{MAX_IMAGE_SIDE} pixels"
        )
    return c, h, w


def _image_shape(inner: nn.Module, data_shape: Sequence[int] | None, name: str) -> tuple:
    """The model's own `image_shape` attribute (checked against the data's), else the data's."""
    own = getattr(inner, "image_shape", None)
    if own is not None:
        own = _own_image_shape(own, name)
    data = tuple(data_shape) if data_shape is not None else None
    if own is not None and data is not None and own != data:
        raise CheckpointError(
            f"{name}: the model takes images of shape {own} (channels, height, width) "
            f"but the dataset's images are {data}. Open data of that shape."
        )
    if own is None and data is None:
        raise CheckpointError(
            f"{name}: the image size is unknown: open a dataset first, or give the model "
            "an image_shape attribute (channels, height, width)"
        )
    return own or data


def probe(
    inner: nn.Module,
    name: str,
    described_as: str,
    data_shape: Sequence[int] | None = None,
    probe_images: torch.Tensor | None = None,
    adapters: Adapters | None = None,
) -> ExternalModel:
    """Check `inner`'s encode/decode on a probe batch and wrap it for the app.

    name: the file, for messages; described_as: what the model is ("TorchScript").
    data_shape: (C, H, W) of the open dataset, if any; probe_images: (B, C, H, W) in
    [0, 1] (random images when None). Raises CheckpointError naming `name`.
    """
    adapters = (adapters or Adapters()).validate()
    for method in ("encode", "decode"):
        if not callable(getattr(inner, method, None)):
            scripted = isinstance(inner, torch.jit.ScriptModule)
            raise CheckpointError(
                f"{name}: the model has no {method} method. Latent Explorer needs "
                "encode(x) -> (mu, logvar) and decode(z) -> x"
                + (" (mark both @torch.jit.export before scripting)" if scripted else "")
            )
    shape = _image_shape(inner, data_shape, name)
    inner.eval()
    if probe_images is None:
        probe_images = torch.rand((4, *shape), generator=torch.Generator().manual_seed(0))
    x = probe_images[:8].float()
    batch = len(x)
    layouts = ("image", "flat") if adapters.input == "auto" else (adapters.input,)
    failures = []
    with torch.inference_mode():
        for layout in layouts:
            given = x if layout == "image" else x.flatten(1)
            try:
                out = inner.encode(given)
                break
            except USER_CODE_ERRORS as e:
                failures.append(f"given {_describe(given)}: {short_error(e)}")
        else:
            raise CheckpointError(
                f"{name}: encode failed on a probe batch of the data's images "
                f"({'; '.join(failures)}). Is the dataset the one the model was trained on?"
            )
        encoder = adapters.encoder if adapters.encoder != "auto" else _guess_encoder(out, batch)
        if encoder is None:
            raise CheckpointError(
                f"{name}: encode returned {_describe(out)}; expected (mu, logvar), one tensor "
                "of size 2·latent to split into the two, or a torch.distributions Normal"
            )
        try:
            mu, logvar = _read_posterior(out, encoder)
        except USER_CODE_ERRORS as e:
            raise CheckpointError(
                f"{name}: encode returned {_describe(out)}, which cannot be read as "
                f"'{encoder}' ({short_error(e)})"
            ) from None
        mu, logvar = (_numbers(t, name, "encode").flatten(1).float() for t in (mu, logvar))
        d = mu.shape[1]
        if mu.shape != logvar.shape or len(mu) != batch:
            raise CheckpointError(
                f"{name}: encode gave mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} "
                f"for {batch} images; both must be ({batch}, latent size)"
            )
        own_d = getattr(inner, "latent_dim", None)
        # Compared as a whole number only: "2" would read as 2 in the message, and a
        # tensor has no single truth value to compare by.
        if own_d is not None and (type(own_d) is not int or own_d != d):
            shown = repr(own_d) if isinstance(own_d, (int, float, str)) else _describe(own_d)
            raise CheckpointError(
                f"{name}: its latent_dim attribute says {shown[:40]} but encode returns {d} values"
            )
        if not 1 <= d <= MAX_LATENT_DIM:
            raise CheckpointError(
                f"{name}: latent size {d}; Latent Explorer explores 1 to {MAX_LATENT_DIM}"
            )
        if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all()):
            raise CheckpointError(f"{name}: encode returned NaN or infinite values")
        z = torch.cat(
            [mu, torch.randn(_PROBE_PRIOR_SAMPLES, d, generator=torch.Generator().manual_seed(1))]
        )
        decoder = _check_decoder(inner, z, shape, adapters.decoder, name)
    config = ExternalConfig(
        image_shape=shape,
        latent_dim=d,
        architecture=described_as,
        adapters=Adapters(input=layout, encoder=encoder, decoder=decoder),
    )
    return ExternalModel(inner, config, name)


def _check_decoder(inner: nn.Module, z: torch.Tensor, shape: tuple, kind: str, name: str) -> str:
    """Decode the probe codes z: (B, d); the resolved `Adapters.decoder`."""
    try:
        out = inner.decode(z)
    except USER_CODE_ERRORS as e:
        raise CheckpointError(
            f"{name}: decode failed on codes of {_describe(z)}: {short_error(e)}"
        ) from None
    first = out[0] if isinstance(out, (tuple, list)) and out else out
    is_dist = isinstance(first, Distribution)
    if not (is_dist or isinstance(first, torch.Tensor)):
        raise CheckpointError(
            f"{name}: decode returned {_describe(out)}; expected images (flattened or not) "
            "or a torch.distributions object"
        )
    if kind == "auto" and is_dist:
        kind = "distribution"
    if is_dist != (kind == "distribution"):
        raise CheckpointError(
            f"{name}: decode returned {_describe(first)}, which cannot be read as '{kind}'"
        )
    values = _numbers(first.mean if is_dist else first, name, "decode")
    per_image = math.prod(shape)
    if len(values) != len(z) or values[0].numel() != per_image:
        raise CheckpointError(
            f"{name}: decode returned {_describe(values)} for {len(z)} codes; images of the "
            f"data are {shape} = {per_image} values each"
        )
    if not torch.isfinite(values).all():
        raise CheckpointError(f"{name}: decode returned NaN or infinite values")
    if kind == "auto":  # probabilities never leave [0, 1]; logits of real images do
        inside = bool(((values >= 0) & (values <= 1)).all())
        kind = "probabilities" if inside else "logits"
    return kind
