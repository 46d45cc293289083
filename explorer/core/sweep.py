"""Sweeps: one model per value of a weight (β, or a kind's α, γ, C_max) on the same
data, and the folder that holds them.

`python -m explorer sweep` trains the models; this module writes and reads the folder:

    beta-0.safetensors, beta-0.5.safetensors, ...   one checkpoint per value
    sweep.json        what the app opens: the models in the weight's order, with figures
    sweep.csv         the same table for a spreadsheet
    rate-distortion.svg   KL (rate) against reconstruction (distortion), one point per value

Each model names the weight swept and its value (`weight`, `value`); a manifest written
before other weights could be swept lists a `beta` per model, read as the β swept.

The table is rewritten after every model, so an interrupted sweep leaves a folder that
opens with the models finished so far.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from explorer.core.errors import CheckpointError, ConfigError, listed
from explorer.core.files import atomic_write, check_readable_file
from explorer.core.kind_table import WEIGHT_SYMBOLS
from explorer.core.svg_chart import ticks

MANIFEST = "sweep.json"
TABLE = "sweep.csv"
PLOT = "rate-distortion.svg"
_FORMAT = "latent-explorer-sweep"


@dataclass(frozen=True)
class SweepModel:
    """One trained model of a sweep, with the figures of `metrics.report` (nats/image)."""

    weight: str  # the TrainConfig weight swept: "beta", "alpha", "gamma" or "c_max"
    value: float  # its value for this model
    file: str  # checkpoint name inside the sweep folder
    elbo: float
    recon: float  # distortion: E_q[-log p(x|z)]
    kl: float  # rate: KL(q(z|x) ‖ p(z))
    active_units: int
    mig: float | None  # when the data has factors
    status: str  # how its training ended: completed, stopped, diverged
    # the other disentanglement metrics (metrics.report's protocol), when the data has
    # factors; absent from sweeps written before they were measured
    dci_disentanglement: float | None = None
    dci_completeness: float | None = None
    dci_informativeness: float | None = None
    sap: float | None = None
    factor_vae_score: float | None = None


def disentanglement_columns(scores) -> dict[str, float | None]:
    """The optional SweepModel figures of a `disentanglement.Scores` (empty for None)."""
    if scores is None:
        return {}
    d = scores.dci
    return {
        "dci_disentanglement": _finite_or_none(d.disentanglement),
        "dci_completeness": _finite_or_none(d.completeness),
        "dci_informativeness": _finite_or_none(d.informativeness),
        "sap": scores.sap.score,
        "factor_vae_score": _finite_or_none(scores.factor_vae.score),
    }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def beta_text(beta: float) -> str:
    """A weight for people and file names: the short form (4, 0.5) when it reads back as
    exactly the value, else the form that does (1.0000001), so two never look alike."""
    short = f"{beta:g}"
    return short if float(short) == beta else repr(beta)


def weight_text(m: SweepModel) -> str:
    """ "γ = 10": a model's swept weight and value, for labels."""
    return f"{WEIGHT_SYMBOLS[m.weight]} = {beta_text(m.value)}"


def checkpoint_name(weight: str, value: float) -> str:
    return f"{weight}-{beta_text(value)}.safetensors"


def checkpoint_names(weight: str, values: list[float]) -> list[str]:
    """The file of each value of `weight`; ConfigError when two would be one file (also
    where a file system ignores case)."""
    names = [checkpoint_name(weight, v) for v in values]
    symbol = WEIGHT_SYMBOLS[weight]
    first: dict[str, float] = {}
    for value, name in zip(values, names, strict=True):
        if name.casefold() in first:
            raise ConfigError(
                f"{symbol} {first[name.casefold()]!r} and {symbol} {value!r} would both be "
                f"saved as {name}"
            )
        first[name.casefold()] = value
    return names


def write_sweep(folder: Path, dataset: dict, models: list[SweepModel]) -> None:
    """Write the manifest, the CSV table and the rate–distortion plot (each atomically)."""
    models = sorted(models, key=lambda m: m.value)
    manifest = {
        "format": _FORMAT,
        "version": 1,
        "dataset": dataset,
        "models": [asdict(m) for m in models],
    }
    _write_text(folder / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    fields = list(asdict(models[0])) if models else []
    writer.writerow(fields)
    for m in models:
        writer.writerow(["" if v is None else v for v in asdict(m).values()])
    _write_text(folder / TABLE, text.getvalue())
    _write_text(folder / PLOT, rate_distortion_svg(models))


def _write_text(path: Path, text: str) -> None:
    with atomic_write(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def load_sweep(folder: str | Path) -> tuple[Path, list[SweepModel]]:
    """The models of a sweep folder, in β order, with checkpoint paths checked.

    The manifest is a file anyone can edit: every entry is checked (types, finite
    figures, each β and file once, each file a checkpoint inside the folder) before it
    is used; CheckpointError names the manifest and the entry.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise CheckpointError(f"{folder}: not a sweep folder (no {MANIFEST})")
    check_readable_file(path, CheckpointError)
    size = path.stat().st_size
    if size > _MANIFEST_BYTES:
        raise CheckpointError(
            f"{path}: {size:,} bytes, too large for a sweep manifest (at most {_MANIFEST_BYTES:,})"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        why = "nested too deeply" if isinstance(e, RecursionError) else e
        raise CheckpointError(f"{path}: cannot be read as a sweep manifest ({why})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise CheckpointError(f"{path}: not a Latent Explorer sweep manifest")
    entries = manifest.get("models")
    if not isinstance(entries, list):
        raise CheckpointError(f"{path}: malformed model list (expected a list of models)")
    if not entries:
        raise CheckpointError(f"{path}: the sweep has no finished model yet")
    models = [_read_model(folder, path, i, entry) for i, entry in enumerate(entries)]
    weights = sorted({m.weight for m in models})
    if len(weights) > 1:
        raise CheckpointError(f"{path}: the models sweep different weights ({', '.join(weights)})")
    for key in ("value", "file"):
        values = [getattr(m, key) for m in models]
        twice = next((v for v in values if values.count(v) > 1), None)
        if twice is not None:
            raise CheckpointError(f"{path}: {key} {twice!r} is listed twice")
    return folder, sorted(models, key=lambda m: m.value)


_MANIFEST_BYTES = 1 << 20  # a sweep of 100 models writes about 30 KB
_STATUSES = ("completed", "stopped", "diverged")
_FIGURES = ("elbo", "recon", "kl")
_OPTIONAL = {f.name for f in fields(SweepModel) if f.default is None}  # number or None


def _read_model(folder: Path, path: Path, index: int, entry: object) -> SweepModel:
    """Entry `index` of the manifest at `path`, checked."""
    where = f"{path}: model {index + 1}"
    if not isinstance(entry, dict):
        raise CheckpointError(f"{where} is {type(entry).__name__}, not an object")
    if "beta" in entry and not {"weight", "value"} & set(entry):  # a β sweep's older form
        entry = {"weight": "beta", "value": entry["beta"]} | {
            k: v for k, v in entry.items() if k != "beta"
        }
    expected = {f.name for f in fields(SweepModel)}
    if not expected - _OPTIONAL <= set(entry) <= expected:
        missing = sorted(expected - _OPTIONAL - set(entry))
        unknown = sorted(set(entry) - expected)
        raise CheckpointError(
            f"{where}: malformed model"
            + (f" (missing {', '.join(missing)})" if missing else "")
            + (f" (unknown {listed(unknown)})" if unknown else "")
        )
    if entry["weight"] not in WEIGHT_SYMBOLS:
        raise CheckpointError(
            f"{where}: weight is {entry['weight']!r}, not one of {', '.join(WEIGHT_SYMBOLS)}"
        )
    scores = [k for k in ("mig", *_OPTIONAL) if entry.get(k) is not None]
    for key in ("value", *_FIGURES, *scores):
        value = entry[key]
        if not _is_number(value) or not math.isfinite(value):
            raise CheckpointError(f"{where}: {key} is {value!r}, not a finite number")
    if entry["value"] < 0:
        raise CheckpointError(f"{where}: value is {entry['value']!r}, below 0")
    units = entry["active_units"]
    if not isinstance(units, int) or isinstance(units, bool) or units < 0:
        raise CheckpointError(f"{where}: active_units is {units!r}, not a count")
    if entry["status"] not in _STATUSES:
        raise CheckpointError(
            f"{where}: status is {entry['status']!r}, not one of {', '.join(_STATUSES)}"
        )
    file = entry["file"]
    plain = isinstance(file, str) and "\0" not in file and file not in ("", ".", "..")
    if not plain or Path(file).name != file:
        raise CheckpointError(f"{where}: file {file!r} is not a file name in the sweep folder")
    target = folder / file
    try:
        inside = target.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symbolic link loop
        inside = False
    if not inside:
        raise CheckpointError(f"{where}: {file} points outside the sweep folder")
    if not target.is_file():
        raise CheckpointError(f"{target}: listed in {MANIFEST} but missing")
    return SweepModel(**entry)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- the rate–distortion plot, as a small hand-written SVG (no plotting dependency) ----
_W, _H, _M = 560, 400, 64  # size and margin, px


def rate_distortion_svg(models: list[SweepModel]) -> str:
    """KL (x, the rate) against reconstruction (y, the distortion), labelled by the weight."""
    swept = WEIGHT_SYMBOLS[models[0].weight] if models else "β"
    xs, ys = [m.kl for m in models], [m.recon for m in models]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y0, y1 = (min(ys), max(ys)) if ys else (0.0, 1.0)
    pad_x, pad_y = max((x1 - x0) * 0.08, 0.5), max((y1 - y0) * 0.08, 0.5)
    x0, x1, y0, y1 = max(x0 - pad_x, 0.0), x1 + pad_x, y0 - pad_y, y1 + pad_y

    def px(x: float) -> float:
        return _M + (x - x0) / (x1 - x0) * (_W - 1.5 * _M)

    def py(y: float) -> float:
        return _H - _M - (y - y0) / (y1 - y0) * (_H - 1.5 * _M)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{_W}" height="{_H}" fill="white"/>',
        f'<text x="{_W / 2}" y="20" text-anchor="middle" font-size="14">'
        f"Rate–distortion of the {swept} sweep</text>",
    ]
    for t in ticks(x0, x1):
        out.append(
            f'<line x1="{px(t):.1f}" y1="{_M / 2}" x2="{px(t):.1f}" y2="{_H - _M}" '
            f'stroke="#eee"/><text x="{px(t):.1f}" y="{_H - _M + 16}" '
            f'text-anchor="middle">{t:g}</text>'
        )
    for t in ticks(y0, y1):
        out.append(
            f'<line x1="{_M}" y1="{py(t):.1f}" x2="{_W - _M / 2}" y2="{py(t):.1f}" '
            f'stroke="#eee"/><text x="{_M - 6}" y="{py(t) + 4:.1f}" '
            f'text-anchor="end">{t:g}</text>'
        )
    out += [
        f'<rect x="{_M}" y="{_M / 2}" width="{_W - 1.5 * _M}" height="{_H - 1.5 * _M}" '
        'fill="none" stroke="#444"/>',
        f'<text x="{_W / 2}" y="{_H - 20}" text-anchor="middle">'
        "rate: KL(q(z|x) ‖ p(z)), nats/image</text>",
        f'<text transform="translate(16 {_H / 2}) rotate(-90)" text-anchor="middle">'
        "distortion: reconstruction −log p(x|z), nats/image</text>",
    ]
    if models:
        path = " ".join(f"{px(m.kl):.1f},{py(m.recon):.1f}" for m in models)
        out.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for m in models:
        out.append(
            f'<circle cx="{px(m.kl):.1f}" cy="{py(m.recon):.1f}" r="5" fill="#1f77b4"/>'
            f'<text x="{px(m.kl) + 8:.1f}" y="{py(m.recon) - 8:.1f}">{weight_text(m)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
