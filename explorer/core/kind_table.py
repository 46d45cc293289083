"""The table of model kinds: what each is called and every property the code asks of it.

Whether β is a setting of a kind, whether it needs labels, whether it is trained by
gradient steps or fitted in closed form, whether it has a KL term: each question is
a field of the kind's row here, never a comparison of kind names elsewhere. The rows'
order is the order the panel and `--help` offer them, the order the argument for the
VAE runs (core/kinds.py tells it).

Adding a kind touches two files:

1. this table: one `Kind` row, with a name (as `--kind` and checkpoints spell it), a
   title for the panel, a noun for messages, one sentence about it, and its properties
   (the defaults are a VAE's): the weights of its objective (TrainConfig fields), their
   papers' values and the paragraph the panel shows about them. The CLI's `--kind`
   choices and help, the panel's combo and its tooltips, which settings rows the panel
   shows, the β in effect, the label check, what may be exported and how a model is
   described all follow from the row.
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
    tc_split: bool = False  # β-TCVAE: the KL split into MI, TC and dimension-wise KL
    discriminator: bool = False  # FactorVAE: a discriminator's estimate of TC joins the loss
    capacity: bool = False  # AnnealedVAE: the KL held at a capacity C that grows
    sparsity: str = ""  # sparse autoencoder: its code's penalty, "l1" or "kl" (sigmoid units)
    flow: bool = False  # q(z|x) is a Gaussian pushed through planar flow steps
    semi_supervised: bool = False  # M2: told the labels of a share of the images only
    extra_weights: tuple[str, ...] = ()  # its TrainConfig weights besides β (see `weights`)
    # The weights' starting values where the papers' differ from TrainConfig's (the panel
    # switches to them with the kind, the CLI takes them when an option is left out)
    defaults: tuple[tuple[str, float], ...] = ()
    # Its objective in a line or two, with the paper: the panel shows it under the combo
    explain: str = ""
    tips: tuple[tuple[str, str], ...] = ()  # (weight, its tooltip) where this kind's differs

    @property
    def uses_beta(self) -> bool:
        """β (and its warm-up) is the user's setting for this kind."""
        return self.fixed_beta is None

    @property
    def weights(self) -> tuple[str, ...]:
        """The TrainConfig fields that weigh its objective's terms: what the panel shows
        and `sweep --weight` may vary ("beta" where β is a setting, then the others)."""
        return (("beta",) if self.uses_beta else ()) + self.extra_weights

    @property
    def scheduled(self) -> bool:
        """A KL schedule (warm-up, cyclical, capacity) applies: β weighs its KL term."""
        return self.uses_beta

    @property
    def trained(self) -> bool:
        """Trained by gradient steps: the optimiser's settings and corruption apply."""
        return not self.fitted

    @property
    def exportable(self) -> bool:
        """Encodes to (mu, logvar) with no class input: the form any VAE tool reads (a
        flow's posterior is more than that pair)."""
        return not self.deterministic and not self.needs_labels and not self.flow


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
            "sparseae",
            "Sparse autoencoder (L1)",
            "sparse autoencoder",
            "an autoencoder whose loss adds λ·Σ|code|: few units carry each image",
            deterministic=True,
            prior=False,
            fixed_beta=0.0,
            sparsity="l1",
            extra_weights=("sparsity",),
            defaults=(("sparsity", 1.0),),
            tips=(
                (
                    "sparsity",
                    "Weight λ of the L1 penalty Σ_j |h_j| on each image's code: larger λ, "
                    "fewer units carry each image and a blurrier reconstruction (0 = the "
                    "autoencoder)",
                ),
            ),
            explain="loss = recon + λ·Σ_j |h_j|, the L1 size of each image's code h (Ng 2011): "
            "the KL / units tab shows which units fire and how often",
        ),
        Kind(
            "sparseae-kl",
            "Sparse autoencoder (KL)",
            "sparse autoencoder",
            "sigmoid code units, each held to a target mean activation ρ by λ·KL(ρ ‖ its mean)",
            deterministic=True,
            prior=False,
            fixed_beta=0.0,
            sparsity="kl",
            extra_weights=("sparsity", "rho"),
            defaults=(("sparsity", 10.0),),
            tips=(
                (
                    "sparsity",
                    "Weight λ of Σ_j KL(ρ ‖ m_j), m_j unit j's mean activation over the "
                    "batch: larger λ holds each unit's mean nearer to ρ (0 = an autoencoder "
                    "with sigmoid units)",
                ),
                (
                    "rho",
                    "Target mean activation ρ of each sigmoid unit: the share of the time it "
                    "should be on (0.05 is the usual choice; smaller is sparser)",
                ),
            ),
            explain="loss = recon + λ·Σ_j KL(ρ ‖ m_j), m_j the mean of sigmoid unit j over the "
            "batch (Ng 2011): each unit on a share ρ of the time on average",
        ),
        Kind(
            "vae",
            "VAE / β-VAE",
            "VAE",
            "a distribution per image; β weights the KL term (1 = the VAE)",
            defaults=(("beta", 1.0),),
            explain="loss = recon + β·KL: β = 1 is the VAE, β > 1 the β-VAE (Higgins et al. 2017)",
        ),
        Kind(
            "cvae",
            "Conditional VAE",
            "conditional VAE",
            "told the class, so the code holds only the style",
            needs_labels=True,
            defaults=(("beta", 1.0),),
            explain="loss = recon + β·KL, the class given to the encoder and the decoder",
        ),
        Kind(
            "iwae",
            "IWAE",
            "IWAE",
            "a VAE trained on the importance-weighted bound with k samples",
            fixed_beta=1.0,
            importance_weighted=True,
        ),
        Kind(
            "flowvae",
            "Planar-flow VAE",
            "planar-flow VAE",
            "q(z|x) a Gaussian pushed through K planar flow steps: richer than an ellipse",
            flow=True,
            defaults=(("beta", 1.0),),
            explain="loss = recon + β·E[log q_K(z_K|x) − log p(z_K)], z_K the Gaussian's sample "
            "after K planar steps, log q_K = log q₀ − Σ log|det ∂f/∂z| (Rezende & Mohamed 2015)",
        ),
        Kind(
            "betatcvae",
            "β-TCVAE",
            "β-TCVAE",
            "the KL split into index-code MI (α), total correlation (β) and dimension-wise "
            "KL (γ); β penalises dependence between the code's dimensions",
            tc_split=True,
            extra_weights=("alpha", "gamma"),
            defaults=(("alpha", 1.0), ("beta", 6.0), ("gamma", 1.0)),
            tips=(
                (
                    "alpha",
                    "Weight of the index-code mutual information: how much the code "
                    "says about its image (1 in the paper; below 1 keeps more of it)",
                ),
                (
                    "beta",
                    "Weight of the total correlation: how much the code's dimensions "
                    "depend on each other (6 in the paper; α = β = γ = 1 is the VAE)",
                ),
                (
                    "gamma",
                    "Weight of the dimension-wise KL: how far each dimension's own "
                    "distribution is from N(0, 1) (1 in the paper)",
                ),
            ),
            explain="loss = recon + α·MI + β·TC + γ·dimension-wise KL (Chen et al. 2018): "
            "β > 1 penalises the total correlation (TC) of the code's dimensions",
        ),
        Kind(
            "factorvae",
            "FactorVAE",
            "FactorVAE",
            "a VAE plus γ × total correlation, estimated by a discriminator that tells "
            "codes from codes with each dimension shuffled across the batch",
            fixed_beta=1.0,
            discriminator=True,
            extra_weights=("gamma",),
            defaults=(("gamma", 10.0),),
            tips=(
                (
                    "gamma",
                    "Weight of the total correlation the discriminator estimates: "
                    "larger γ, more independent dimensions and a blurrier reconstruction "
                    "(10 to 100 in the literature)",
                ),
            ),
            explain="loss = recon + KL + γ·TC (Kim & Mnih 2018): the total correlation TC "
            "told by a discriminator from dimension-shuffled codes",
        ),
        Kind(
            "annealedvae",
            "AnnealedVAE",
            "AnnealedVAE",
            "γ·|KL − C|: the KL is held at a capacity C that grows from 0 to C_max, "
            "so the code takes in information a little at a time",
            fixed_beta=1.0,
            capacity=True,
            extra_weights=("gamma", "c_max"),
            defaults=(("gamma", 1000.0), ("c_max", 25.0)),
            tips=(
                (
                    "gamma",
                    "How firmly the KL is held at the capacity C: large (1000 in the "
                    "paper), so the KL follows C",
                ),
            ),
            explain="loss = recon + γ·|KL − C| (Burgess et al. 2018): the KL held at a "
            "capacity C that grows from 0 to C_max",
        ),
        Kind(
            "m2",
            "Semi-supervised VAE (M2)",
            "semi-supervised VAE",
            "told the class of a share of the images only: a classifier q(y|x) learns the "
            "rest, and the code holds the style",
            needs_labels=True,
            semi_supervised=True,
            fixed_beta=1.0,
            extra_weights=("alpha",),
            defaults=(("alpha", 0.1),),
            tips=(
                (
                    "alpha",
                    "Weight of the classifier's cross-entropy on the labelled images, per "
                    "image of the data: α·N/N_labelled on each labelled one (0.1 in the "
                    "paper, whose α is 0.1·N)",
                ),
            ),
            explain="loss = −ELBO(x, y) + α·(N/N_labelled)·CE for the labelled images; for "
            "the rest the ELBO summed over y by q(y|x), plus its entropy "
            "(Kingma et al. 2014, M2)",
        ),
    )
}
KIND_NAMES = tuple(KIND_TABLE)
DEFAULT_KIND = "vae"  # files from before kinds existed hold VAEs


# How a message or a label names each weight of an objective (TrainConfig's fields)
WEIGHT_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "c_max": "C_max",
    "sparsity": "λ",
    "rho": "ρ",
}


def weight_defaults(kind: str) -> dict[str, float]:
    """The starting value of each weight of `kind` that the paper sets apart from
    TrainConfig's default."""
    return dict(KIND_TABLE[kind].defaults)


def weights_on_switch(old: str, new: str) -> dict[str, float]:
    """The weights to set when the user switches from kind `old` to `new`: those whose
    paper value differs between the two (β 1 → 6 from the VAE to the β-TCVAE); a weight
    both kinds start alike keeps what the user set (β from the VAE to the CVAE)."""
    before, after = weight_defaults(old), weight_defaults(new)
    return {k: v for k, v in after.items() if before.get(k, _UNSET) != v}


_UNSET = object()


def kinds_where(test: Callable[[Kind], bool]) -> str:
    """The names of the kinds that pass `test`, for a message: "vae, cvae"."""
    return ", ".join(name for name, k in KIND_TABLE.items() if test(k))


def beta_in_effect(kind: str, beta: float) -> float:
    """The weight of the KL term in the objective of `kind` when the user asks for `beta`:
    `beta` itself where β is a setting, else the kind's own (0 for PCA and the
    autoencoder, which have no KL term; 1 for the IWAE's bound)."""
    fixed = KIND_TABLE[kind].fixed_beta
    return beta if fixed is None else fixed
