"""The table of model kinds: what each is called and every property the code asks of it.

Whether β is a setting of a kind, whether it needs labels, whether it is trained by
gradient steps or fitted in closed form, whether it has a KL term: each question is
a field of the kind's row here, never a comparison of kind names elsewhere. The rows'
order is the order the panel and `--help` offer them, the order the argument for the
VAE runs (core/kinds.py tells it).

Adding a kind touches two files:

1. this table: one `Kind` row, with a name (as `--kind` and checkpoints spell it), a
   title for the panel, a noun for messages, one sentence about it, and its properties
   (the defaults are a VAE's). The CLI's `--kind` choices and help, the panel's combo
   and its tooltips, which settings rows the panel shows, the β in effect, the label
   check, what may be exported and how a model is described all follow from the row.
2. core/model.py: what the shared encoder/decoder (`VAE`) outputs for it and its loss
   (`VAE.loss`), keyed on the row's properties. A kind whose objective is one the
   properties already select (a VAE with a fixed β, say) needs no change there.

A kind that does not fit the shared network (as PCA has core/pca.py) also brings its
own model module and a line in core/kinds.py's `_construct`. tests/test_kind_table.py
holds both front ends to the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One model kind and what applies to it."""

    name: str  # as configs, checkpoints and --kind spell it
    title: str  # its entry in the panel's combo and the compare table
    noun: str  # how a sentence names one: "a {noun} needs ..."
    about: str  # one sentence, for the combo's tooltip and --help
    fitted: bool = False  # fitted in closed form (PCA): no network, no optimiser, no epochs
    deterministic: bool = False  # encodes an image to a point: no posterior spread, no KL term
    prior: bool = True  # its codes follow N(0, I) (the KL term, or PCA's whitening)
    fixed_beta: float | None = None  # the KL weight its objective fixes; None: β is a setting
    importance_weighted: bool = False  # trained on the importance-weighted bound (k samples)
    needs_labels: bool = False  # conditioned on the class of every image

    @property
    def uses_beta(self) -> bool:
        """β (and its warm-up) is the user's setting for this kind."""
        return self.fixed_beta is None

    @property
    def trained(self) -> bool:
        """Trained by gradient steps: the optimiser's settings and corruption apply."""
        return not self.fitted

    @property
    def exportable(self) -> bool:
        """Encodes to (mu, logvar) with no class input: the form any VAE tool reads."""
        return not self.deterministic and not self.needs_labels


KIND_TABLE: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "pca",
            "PCA",
            "PCA",
            "principal components: the best linear code, fitted in closed form",
            fitted=True,
            deterministic=True,
            fixed_beta=0.0,
        ),
        Kind(
            "ae",
            "Autoencoder",
            "autoencoder",
            "deterministic codes, no KL: nothing keeps the gaps regular",
            deterministic=True,
            prior=False,
            fixed_beta=0.0,
        ),
        Kind(
            "vae",
            "VAE / β-VAE",
            "VAE",
            "a distribution per image; β weights the KL term (1 = the VAE)",
        ),
        Kind(
            "cvae",
            "Conditional VAE",
            "conditional VAE",
            "told the class, so the code holds only the style",
            needs_labels=True,
        ),
        Kind(
            "iwae",
            "IWAE",
            "IWAE",
            "a VAE trained on the importance-weighted bound with k samples",
            fixed_beta=1.0,
            importance_weighted=True,
        ),
    )
}
KIND_NAMES = tuple(KIND_TABLE)
DEFAULT_KIND = "vae"  # files from before kinds existed hold VAEs


def kinds_where(test: Callable[[Kind], bool]) -> str:
    """The names of the kinds that pass `test`, for a message: "vae, cvae"."""
    return ", ".join(name for name, k in KIND_TABLE.items() if test(k))


def beta_in_effect(kind: str, beta: float) -> float:
    """The weight of the KL term in the objective of `kind` when the user asks for `beta`:
    `beta` itself where β is a setting, else the kind's own (0 for PCA and the
    autoencoder, which have no KL term; 1 for the IWAE's bound)."""
    fixed = KIND_TABLE[kind].fixed_beta
    return beta if fixed is None else fixed
