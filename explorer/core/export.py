"""Our models as TorchScript, in the form the app opens from anyone (core/external.py).

The file has encode(x: (B, C, H, W) in [0, 1]) -> (mu, logvar), decode(z: (B, d)) ->
images in [0, 1], and the attributes latent_dim and image_shape, so it runs without
this package: `m = torch.jit.load(path); m.decode(torch.zeros(1, m.latent_dim))`.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from torch import nn

from explorer.core.destination import check_destination
from explorer.core.errors import CheckpointError, ExplorerError
from explorer.core.external_files import ExternalSource, open_external, torchscript_quietly
from explorer.core.files import atomic_write
from explorer.core.kind_table import KIND_TABLE, kinds_where
from explorer.core.model import VAE


class TorchScriptVAE(nn.Module):
    """A VAE's networks with the methods TorchScript keeps (forward decodes the mean code)."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.encoder = vae.encoder
        self.decoder = vae.decoder
        self.latent_dim = vae.config.latent_dim
        self.image_shape = list(vae.config.image_shape)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction of x from its posterior mean."""
        return self.decode(self.encode(x)[0])


def export_torchscript(model: VAE, path: str | Path, source: Path | None = None) -> Path:
    """Write `model` as a TorchScript module; CheckpointError names the file.

    The module is read back from its temporary file and must decode as `model` does
    before it takes `path`'s name: a failed export leaves no file behind, and any
    earlier file at `path` as it was. `source`: the checkpoint `model` came from, never
    overwritten.
    """
    path = Path(path)
    if not KIND_TABLE[model.kind].exportable:
        exportable = kinds_where(lambda k: k.exportable)
        raise CheckpointError(
            f"{path}: TorchScript export writes VAEs ({exportable}) in the form "
            f"any VAE tool reads; this model is a {model.kind}"
        )
    check_destination(path, CheckpointError, inputs=[source] if source else [])
    wrapper = TorchScriptVAE(model.copy())
    with torchscript_quietly():
        scripted = torch.jit.script(wrapper)
        try:
            # Serialised in memory, written by Python: torch's own file writer, failing on
            # a full disk, throws from a C++ destructor and aborts the process.
            buffer = io.BytesIO()
            torch.jit.save(scripted, buffer)
            with atomic_write(path) as tmp:
                Path(tmp).write_bytes(buffer.getbuffer())
                _check_written(Path(tmp), model, path)
        except (OSError, RuntimeError) as e:
            raise CheckpointError(f"{path}: could not write the TorchScript module ({e})") from e
    return path


def _check_written(tmp: Path, model: VAE, path: Path) -> None:
    """Read `tmp` back as any user would (the probe of a model from elsewhere), and
    check that it decodes as `model` does; CheckpointError naming `path` if not."""
    try:
        reopened = open_external(ExternalSource(str(tmp)))
    except ExplorerError as e:
        raise CheckpointError(
            f"{path}: not written: read back, {str(e).removeprefix(f'{tmp}: ')}"
        ) from e
    z = torch.randn(16, model.config.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        if not torch.equal(reopened.decode(z), model.decode(z)):
            raise CheckpointError(
                f"{path}: not written: read back, it does not decode as the model"
            )
