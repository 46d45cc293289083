"""What the headless commands print: a progress bar, and the figures of a model or sweep."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from explorer.core.kind_table import KIND_TABLE, WEIGHT_SYMBOLS
from explorer.core.sweep import beta_text


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout to stderr meanwhile: Python's `print` and, by
    moving file descriptor 1, what compiled code (TorchScript) writes there too."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptor 1 or 2 to move: Python's own output still moves
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


class ProgressBar:
    """One redrawn line on a terminal; one line per epoch when output is a file or pipe."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr  # looked up now: a caller may have replaced it
        self.tty = self.stream.isatty()
        self.last_draw = 0.0

    def update(self, p) -> None:
        if p.kind == "epoch":
            v = p.val
            scores = (
                f"validation reconstruction {v.recon:.2f}"
                if math.isnan(v.elbo)
                else f"validation ELBO {v.elbo:.2f} (recon {v.recon:.2f}, KL {v.kl:.2f})"
            )
            if v.accuracy is not None:  # M2's classifier on labels it was never told
                scores += f", classifier {v.accuracy:.1%} right"
            line = (
                f"epoch {p.epoch}/{p.epochs}  loss {p.loss:.2f}  {scores}  "
                f"{p.samples_per_s:,.0f} img/s"
            )
            self.stream.write(("\r\033[K" if self.tty else "") + line + "\n")
            self.stream.flush()
            return
        now = time.monotonic()
        if not self.tty or p.kind != "step" or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        width = 24
        filled = int(width * p.fraction)
        eta = "" if p.eta_s != p.eta_s else f"  ETA {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}"
        self.stream.write(
            f"\r\033[Kepoch {p.epoch + 1}/{p.epochs} [{'█' * filled}{'·' * (width - filled)}] "
            f"{p.fraction:4.0%}  loss {p.loss:.2f} (recon {p.recon:.2f}, KL {p.kl:.2f}, "
            f"β {p.beta:g})  "
            f"{p.samples_per_s:,.0f} img/s{eta}"
        )
        self.stream.flush()


def print_report(rep, out=None) -> None:
    out = out or sys.stdout
    e = rep.evaluation
    d = len(rep.active)
    print(f"  images evaluated  {e.count:,}", file=out)
    if math.isnan(e.elbo):
        print(
            f"  reconstruction    {e.recon:.2f} nats/image  (KL and ELBO: not defined for "
            f"a deterministic {rep.kind})",
            file=out,
        )
    else:
        print(
            f"  ELBO              {e.elbo:.2f} nats/image  "
            f"(reconstruction {e.recon:.2f}, KL {e.kl:.2f})",
            file=out,
        )
    print(f"  squared error     {e.sq_error:.2f} per image  (Σ pixel², mean code)", file=out)
    if e.accuracy is not None:
        print(
            f"  classifier        {e.accuracy:.1%} of {e.count:,} labels guessed right "
            "(argmax q(y|x); the ELBO uses none)",
            file=out,
        )
    if rep.iw_bound is not None:
        print(
            f"  log p(x) ≥        {rep.iw_bound:.2f} nats/image  "
            f"(importance-weighted, k = {rep.iw_k})",
            file=out,
        )
    print(f"  active units      {rep.active_count} of {d}", file=out)
    if e.kl_per_dim:
        kls = " ".join(f"{k:.2f}" for k in e.kl_per_dim)
        linearised = "  (of q linearised at its centre)" if KIND_TABLE[rep.kind].flow else ""
        print(f"  KL per dimension  {kls}{linearised}", file=out)
    if rep.on_data is not None:
        o = rep.on_data
        print(
            f"  on the data       {o.fraction:.1%} of {o.samples:,} samples from {o.prior} "
            f"(nearest training image closer than {o.threshold:.2f}, the median for "
            "reconstructions of real images)",
            file=out,
        )
    if rep.disentanglement is not None:
        print_disentanglement(rep.disentanglement, out)


def print_held_out(val, out=None) -> None:
    """An M2's accuracy on the validation labels training held out (an Evaluation)."""
    if val is not None and val.accuracy is not None:
        print(
            f"  held out          {val.accuracy:.1%} of the {val.count:,} validation labels "
            "guessed right (never told in training)",
            file=out or sys.stdout,
        )


def _per_factor(names, values, dims=None) -> str:
    """ "shape 0.01 (z3), scale 0.40 (z8)": a figure per factor, "–" where undefined."""
    parts = []
    for i, (n, v) in enumerate(zip(names, values, strict=True)):
        dim = "" if dims is None else f" (z{dims[i]})"
        parts.append(f"{n} –" if math.isnan(v) else f"{n} {v:.2f}{dim}")
    return ", ".join(parts)


def _figure(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.3f}"


def print_disentanglement(scores, out=None) -> None:
    """MIG, DCI, SAP and the FactorVAE score, per factor, then the protocol of each."""
    out = out or sys.stdout
    m, c, s, f = scores.mig, scores.dci, scores.sap, scores.factor_vae
    names = scores.factor_names
    print(
        f"  MIG               {m.score:.3f}  [{_per_factor(names, m.gaps, m.best_dims)}]", file=out
    )
    print(
        f"  DCI               disentanglement {_figure(c.disentanglement)}, completeness "
        f"{_figure(c.completeness)}, informativeness {_figure(c.informativeness)} "
        f"(on fitted points {_figure(c.informativeness_train)})  "
        f"[completeness {_per_factor(names, c.per_factor)}]",
        file=out,
    )
    print(f"  SAP               {s.score:.3f}  [{_per_factor(names, s.gaps)}]", file=out)
    print(
        f"  FactorVAE score   {_figure(f.score)}  (on fitted votes {_figure(f.train_accuracy)}, "
        f"{f.active_dims} dimensions vote)  [{_per_factor(names, f.per_factor)}]",
        file=out,
    )
    print("  protocol", file=out)
    for result in (m, c, s, f):
        print(f"    {result.protocol.describe()}", file=out)


def print_sweep(models, out: Path) -> None:
    symbol = WEIGHT_SYMBOLS[models[0].weight]
    print(f"\n{symbol:>6}  {'ELBO':>9}  {'recon':>9}  {'KL':>7}  {'active':>6}  {'MIG':>6}")
    for m in models:
        mig = "" if m.mig is None else f"{m.mig:.3f}"
        print(
            f"{beta_text(m.value):>6}  {m.elbo:>9.2f}  {m.recon:>9.2f}  {m.kl:>7.2f}  "
            f"{m.active_units:>6}  {mig:>6}" + ("" if m.status == "completed" else f"  {m.status}")
        )
    print(f"wrote {out}/sweep.csv, {out}/rate-distortion.svg; open {out} in the app")
