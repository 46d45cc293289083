"""A model's report: one self-contained HTML file to share (`python -m explorer report`,
File ▸ Export ▸ Report… in the window).

The page holds everything it shows: the pictures are inline (SVG charts, PNG grids as
base64 `data:` URLs), the style sheet is in the page, there is no script and no
reference to anything outside it (no font, no CDN), so it opens offline, on a phone
(the layout narrows to the screen) and prints with each section on its own page.

The figures are `metrics.report`'s, the ones `evaluate` prints, never computed a second
way; each number carries its exact value in a `data-value` attribute beside the rounded
text, keyed by `data-metric` as in `evaluate --json`. Every text taken from a file (a
checkpoint's metadata, class and factor names, file names) is escaped: a model file is
untrusted input, and its name must not become markup in someone else's browser.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from explorer import __version__
from explorer.core.config import ExternalConfig, TrainConfig
from explorer.core.data.dataset import Dataset
from explorer.core.destination import check_destination
from explorer.core.disentanglement import Scores
from explorer.core.distributed import describe_world
from explorer.core.errors import ExplorerError
from explorer.core.files import atomic_write
from explorer.core.history import Epoch
from explorer.core.kinds import describe
from explorer.core.metrics import Report
from explorer.core.model import LatentModel
from explorer.core.report_figures import Pictures, pictures
from explorer.core.svg_chart import PALETTE, Axes, bar_chart, line_chart


class ReportError(ExplorerError):
    """A report that cannot be written; the message names the file."""


@dataclass(frozen=True)
class ModelCard:
    """What is known about a model besides its weights, as its file or the window has it."""

    name: str  # its file's name, or how it came to be ("trained", "bundled digits")
    summary: str  # one line: kind, latent size, β, ... (`kinds.describe`)
    model: dict[str, Any]  # ModelConfig.to_dict(), or the adapters of a model from elsewhere
    train: dict[str, Any] | None = None  # TrainConfig.to_dict(); None when unknown
    trained_on: dict[str, Any] = field(default_factory=dict)  # Dataset.describe() or {}
    created: str = ""  # when its file was written (ISO time), "" when unknown
    history: Sequence[Epoch] = ()  # one entry per epoch, when recorded
    world_size: int = 1  # processes that trained it together (torchrun)


def card_of(
    model: LatentModel,
    name: str,
    train: TrainConfig | None = None,
    trained_on: dict[str, Any] | None = None,
    created: str = "",
    history: Sequence[Epoch] = (),
    world_size: int = 1,
) -> ModelCard:
    """The card of `model`, called `name`, with what its checkpoint (or the window)
    records of its making; for a model from elsewhere, what probing it found."""
    cfg = model.config
    if isinstance(cfg, ExternalConfig):
        a = cfg.adapters
        return ModelCard(
            name=name,
            summary=f"{cfg.architecture}, latent size {cfg.latent_dim}, trained elsewhere; "
            "scored as Bernoulli",
            model={
                "architecture": cfg.architecture,
                "latent_dim": cfg.latent_dim,
                "image_shape": list(cfg.image_shape),
                "input": a.input,
                "encoder": a.encoder,
                "decoder": a.decoder,
            },
            trained_on=trained_on or {},
        )
    return ModelCard(
        name=name,
        summary=f"{describe(cfg, train)}, {cfg.likelihood}",
        model=cfg.to_dict(),
        train=train.to_dict() if train else None,
        trained_on=trained_on or {},
        created=created,
        history=tuple(history),
        world_size=world_size,
    )


# evaluate --json's keys, in the order and the words of the table
_METRICS = {
    "elbo": "ELBO",
    "recon": "reconstruction −log p(x|z)",
    "kl": "KL(q(z|x) ‖ p(z))",
    "iw_bound": "importance-weighted bound on log p(x)",
    "iw_k": "samples per image for that bound (k)",
    "sq_error": "squared error of the mean reconstruction",
    "accuracy": "classifier q(y|x): share of the labels guessed right (M2)",
    "active_units": "active units (Var of the posterior mean > 0.01)",
    "on_data": "share of prior samples on the data",
    "on_data_threshold": "distance counted as on the data",
    "mig": "MIG (mutual information gap)",
    "images": "images evaluated",
}
_MAP = (
    "Decoded images tiled over the scatter's plane; coordinates off the plane at the codes' mean."
)
_INTERPOLATION = (
    "From the code of one data point (A) to that of another (B), of another class where "
    "the data has classes."
)
_EPOCH_ROWS = 20  # rows of the table of epochs: a long run's shown every so many epochs
_UNITS = {"elbo": "nats/image", "recon": "nats/image", "kl": "nats/image", "iw_bound": "nats/image"}


def build(model: LatentModel, dataset: Dataset, rep: Report, card: ModelCard) -> str:
    """The report of `model` over `dataset` as one HTML page: `rep` are its figures
    (`metrics.report`), `card` what is known of how it was made."""
    pics = pictures(model, dataset, rep.evaluation.kl_per_dim)
    title = f"Model report: {card.name}"
    sections = [
        _section("card", "Model", _card(card, dataset)),
        _section("metrics", "Metrics", _metrics(rep, dataset)),
        _section("scatter", "Latent space", _scatter(pics)),
        _section("manifold", "Manifold map", _figure(pics.manifold, "manifold map", _MAP)),
        _section(
            "traversals",
            "Traversals",
            _figure(
                pics.traversals,
                "latent traversals",
                f"What each dimension does: {rep.active_count} of {len(rep.active)} are "
                "active (the β-VAE papers' figure).",
            ),
        ),
        _section(
            "interpolation",
            "Interpolation",
            _figure(pics.interpolation, "interpolation", _INTERPOLATION),
        ),
        _section("training", "Training", _training(card)),
    ]
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{escape(title)}</h1>\n<p>{escape(card.summary)}; evaluated on "
        f"{escape(dataset.name)} ({len(dataset):,} images).</p></header>\n"
        + "\n".join(sections)
        + f"\n<footer>Made by Latent Explorer {escape(__version__)} on {made}.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def write(path: Path, page: str) -> Path:
    """Write `page` to `path`, whole or not at all; ReportError names the file."""
    check_destination(path, ReportError)
    try:
        with atomic_write(path) as tmp:
            Path(tmp).write_text(page, encoding="utf-8")
    except OSError as e:
        raise ReportError(f"{path}: could not write the report ({e.strerror or e})") from e
    return path


# -- the sections --------------------------------------------------------------------


def _section(key: str, heading: str, body: str) -> str:
    return f'<section id="{key}">\n<h2>{escape(heading)}</h2>\n{body}\n</section>'


def _rows(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of (name, value); values shown as text, escaped."""
    cells = "".join(
        f"<tr><th>{escape(str(k).replace('_', ' '))}</th><td>{escape(_text(v))}</td></tr>"
        for k, v in pairs
    )
    return f'<div class="wide"><table class="facts">{cells}</table></div>'


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) if value else "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _card(card: ModelCard, dataset: Dataset) -> str:
    data = card.trained_on
    parts = [f"<p>{escape(card.summary)}</p>", "<h3>Architecture</h3>", _rows(card.model.items())]
    parts += ["<h3>Training settings</h3>"]
    parts.append(
        _rows(card.train.items()) if card.train else "<p>Not recorded with this model.</p>"
    )
    if card.train and card.world_size > 1:
        said = describe_world(card.world_size, card.train["batch_size"])
        parts.append(f"<p>{escape(said[:1].upper() + said[1:])}.</p>")
    parts += ["<h3>Data</h3>"]
    if data:
        shown = [(k, v) for k, v in data.items() if v not in (None, [], "")]
        parts.append("<p>Trained on:</p>" + _rows(shown))
    else:
        parts.append("<p>The data it was trained on is not recorded with this model.</p>")
    parts.append(f"<p>Evaluated on: {escape(_data_text(dataset))}.</p>")
    if card.created:
        parts.append(f"<p>File written {escape(card.created)}.</p>")
    return "\n".join(parts)


def _data_text(dataset: Dataset) -> str:
    c, h, w = dataset.image_shape
    where = f", from {Path(dataset.source).name}" if dataset.source else " (built in)"
    return f"{dataset.name}{where}, {len(dataset):,} images of {w}×{h}" + (f"×{c}" if c > 1 else "")


def _number(key: str, value: float | int | None) -> str:
    """A table cell with the value rounded for reading and exact in `data-value`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f'<td data-metric="{escape(key)}" data-value="null">not defined</td>'
    shown = f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
    return f'<td data-metric="{escape(key)}" data-value="{value!r}">{shown}</td>'


def _metrics(rep: Report, dataset: Dataset) -> str:
    values = rep.to_dict()
    rows = []
    for key, label in _METRICS.items():
        if key not in values:
            continue
        unit = _UNITS.get(key, "")
        rows.append(f"<tr><th>{escape(label)}</th>{_number(key, values[key])}<td>{unit}</td></tr>")
    parts = [
        f"<p>On {values['images']:,} images of {escape(dataset.name)}, per image in nats "
        "(the numbers of <code>python -m explorer evaluate</code>).</p>",
        '<div class="wide"><table id="metrics-table" class="numbers">'
        f"{''.join(rows)}</table></div>",
    ]
    kl = rep.evaluation.kl_per_dim
    if kl:
        parts += ["<h3>KL per dimension</h3>", _kl_chart(kl, rep.active), _kl_table(kl, rep)]
    if rep.mig is not None:
        parts += ["<h3>Factors</h3>", _factor_table(rep)]
    if rep.disentanglement is not None:
        parts += ["<h3>Disentanglement scores</h3>", _scores_table(rep.disentanglement)]
    return "\n".join(parts)


def _kl_chart(kl: Sequence[float], active: Sequence[bool]) -> str:
    chart = bar_chart(
        kl,
        [f"z{i}" for i in range(len(kl))],
        Axes(
            title="KL per latent dimension (dark: active)",
            x_label="latent dimension",
            y_label="KL, nats/image",
            x_range=(0, len(kl)),
            y_range=(0.0, max(max(kl), 1e-3)),
        ),
        active,
    )
    return f'<figure class="chart">{chart}</figure>'


def _kl_table(kl: Sequence[float], rep: Report) -> str:
    rows = "".join(
        f"<tr><th>z{i}</th>{_number(f'kl_per_dim:{i}', v)}"
        f"<td>{'active' if rep.active[i] else 'inactive'}</td></tr>"
        for i, v in enumerate(kl)
    )
    return f'<div class="wide"><table id="kl-table" class="numbers">{rows}</table></div>'


def _factor_table(rep: Report) -> str:
    m = rep.mig
    rows = "".join(
        f"<tr><th>{escape(name)}</th>{_number(f'mig_per_factor:{name}', gap)}"
        f"<td>z{best}</td><td>{h:.3g}</td></tr>"
        for name, gap, best, h in zip(m.factor_names, m.gaps, m.best_dims, m.entropies, strict=True)
    )
    return (
        "<p>The gap between the two latent dimensions most informative about each "
        "ground-truth factor, over the factor's entropy (Chen et al., 2018).</p>"
        '<div class="wide"><table id="factor-table" class="numbers"><tr><th>factor</th>'
        "<th>MIG</th><th>most informative</th><th>entropy, nats</th></tr>"
        f"{rows}</table></div>"
    )


def _scores_table(scores: Scores) -> str:
    """MIG, DCI, SAP and the FactorVAE score as `evaluate --json` has them under
    `disentanglement` (keys `disentanglement:<metric>.<figure>`), each with its protocol."""
    d, c, sa, f = scores.mig, scores.dci, scores.sap, scores.factor_vae
    figures = (
        ("MIG", "mig.score", d.score),
        ("DCI disentanglement", "dci.disentanglement", c.disentanglement),
        ("DCI completeness", "dci.completeness", c.completeness),
        ("DCI informativeness", "dci.informativeness", c.informativeness),
        ("SAP", "sap.score", sa.score),
        ("FactorVAE score", "factor_vae_score.score", f.score),
    )
    rows = "".join(
        f"<tr><th>{name}</th>{_number(f'disentanglement:{key}', float(value))}</tr>"
        for name, key, value in figures
    )
    protocols = "".join(f"<li>{escape(r.protocol.describe())}</li>" for r in (d, c, sa, f))
    return (
        '<div class="wide"><table id="scores-table" class="numbers">'
        f"{rows}</table></div><p>Measured as follows:</p><ul>{protocols}</ul>"
    )


def _scatter(pics: Pictures) -> str:
    legend = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>'
        f"{escape(name)}</li>"
        for i, name in enumerate(pics.groups)
    )
    legend = f'<ul class="legend">{legend}</ul>' if legend else ""
    return (
        f'<figure class="chart">{pics.scatter}<figcaption>The codes on {escape(pics.plane)}'
        f"{', coloured by class' if legend else ''}.{legend}</figcaption></figure>"
    )


def _figure(image: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(image).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _training(card: ModelCard) -> str:
    history = card.history
    if not history:
        return (
            "<p>No training history is recorded with this model (models trained "
            "before Latent Explorer recorded one, bundled or from elsewhere).</p>"
        )
    epochs = [e.epoch for e in history]
    deterministic = all(math.isnan(e.val_kl) for e in history)
    val_name = "validation reconstruction" if deterministic else "validation −ELBO"
    chart = line_chart(
        {
            "objective, last batch": (epochs, [e.loss for e in history]),
            val_name: (epochs, [e.val_loss for e in history]),
        },
        Axes(
            title="Loss curves",
            x_label="epoch",
            y_label="nats/image",
            x_range=(min(epochs), max(epochs)),
            y_range=_finite_span([e.loss for e in history] + [e.val_loss for e in history]),
        ),
    )
    shown = history[:: math.ceil(len(history) / _EPOCH_ROWS)]
    if shown[-1] is not history[-1]:
        shown = [*shown, history[-1]]
    rows = "".join(
        f"<tr><td>{e.epoch:,}</td><td>{e.loss:.4g}</td><td>{e.val_recon:.4g}</td>"
        f"<td>{'—' if math.isnan(e.val_kl) else f'{e.val_kl:.4g}'}</td><td>{e.beta:g}</td></tr>"
        for e in shown
    )
    return (
        f'<figure class="chart">{chart}</figure>'
        '<div class="wide"><table id="history-table" class="numbers">'
        "<tr><th>epoch</th><th>objective, last batch</th><th>validation reconstruction</th>"
        f"<th>validation KL</th><th>β</th></tr>{rows}</table></div>"
    )


def _finite_span(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    return (min(finite), max(finite)) if finite else (0.0, 1.0)


# Dark text on white, the system's own sans-serif font (nothing to fetch); pictures and
# tables shrink or scroll within a phone's width; printed, each section starts a page.
_CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f6f6f4; color: #222;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 1rem; }
header, section, footer { background: #fff; border: 1px solid #ddd; border-radius: 6px;
  padding: 0.5rem 1.25rem 1rem; margin: 0 0 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #eee; padding-bottom: 0.25rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.25rem; }
p, li, figcaption, table.facts td { overflow-wrap: anywhere; }
figure { margin: 0.5rem 0; }
img, svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9rem; color: #555; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.25rem 0; }
th, td { text-align: left; padding: 0.2rem 0.75rem 0.2rem 0; vertical-align: top;
  border-bottom: 1px solid #eee; }
th { font-weight: 600; }
table.numbers td { white-space: nowrap; }
table.numbers td[data-value] { font-variant-numeric: tabular-nums; text-align: right; }
figure.chart svg { width: 100%; max-width: 720px; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 50%;
  margin-right: 0.3rem; vertical-align: -0.05rem; }
footer { font-size: 0.85rem; color: #666; }
@media (max-width: 600px) {
  main { padding: 0.5rem; }
  header, section, footer { padding: 0.25rem 0.75rem 0.75rem; }
  h1 { font-size: 1.3rem; }
  body { font-size: 15px; }
}
@media print {
  body { background: #fff; }
  main { max-width: none; padding: 0; }
  header, section, footer { border: none; padding: 0; }
  section + section { break-before: page; }  /* the header shares the first page */
  figure, tr { break-inside: avoid; }
}
"""
