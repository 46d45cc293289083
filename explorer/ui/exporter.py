"""Exports: every view as a PNG, the dataset's codes as CSV or NPY, and the model's
report as one HTML page (`core.report`).

PNG exports write what is on screen (plots are grabbed; decoded images are written at
their own pixels, enlarged with crisp edges; grids of them carry labels saying what each
row and column is, so the file reads on its own). The codes are encoded again in the
background, with log-variances, and written atomically (`core.codes_file`). The report
is computed in the background as `python -m explorer report` computes it, over the
open dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QWidget

from explorer.core import report
from explorer.core.codes_file import save_codes
from explorer.core.config import EvaluateConfig
from explorer.core.destination import check_destination
from explorer.core.errors import ExplorerError
from explorer.core.figures import GridLabels, save_png
from explorer.core.files import atomic_write
from explorer.core.metrics import encode
from explorer.core.metrics import report as figures
from explorer.core.model import images_to_tensor
from explorer.ui.class_view import COLUMNS as CLASS_COLUMNS
from explorer.ui.inpainting_view import CELLS as INPAINTING_CELLS
from explorer.ui.services import Controller, Services

_IMAGE_SCALE = 8  # a decoded image is a few dozen pixels wide: enlarge it
_STRIP_SCALE = 4  # grids and strips of them, less so
DEFAULT_NAMES = {
    "image": "decoded.png",
    "plot": "latent-plot.png",
    "traversals": "traversals.png",
    "kl": "kl-per-dimension.png",
    "interpolation": "interpolation.png",
    "data point": "data-point.png",
    "factors": "factors.png",
    "classes": "classes.png",
    "inpainting": "inpainting.png",
    "compare": "compare.png",
    "loss": "loss-curves.png",
}

# Views whose picture is computed, and what brings one about when there is none
_COMPUTED = {
    "traversals": "no traversals computed yet: open the Traversals tab",
    "interpolation": "no interpolation yet: shift-click two points of the plot, A then B",
    "data point": "no data point inspected yet: hover near a point of the plot, or click one",
    "classes": "no class grid yet: a conditional model's Classes tab shows one",
    "inpainting": "no inpainting yet: open the Inpainting tab",
    "compare": "no model B yet: open one in the Compare tab",
}
# Views that keep their picture as `picture`; the others' is their `result.picture`
_OWN_PICTURE = {"classes", "inpainting", "compare"}


def _signed(value: float) -> str:
    """A traversal's coordinate: "-1.5", "0", "+1.5"."""
    return "0" if value == 0 else f"{value:+.3g}"


class Exporter(Controller):
    def __init__(self, services: Services, views: dict[str, QWidget]):
        super().__init__(services)
        self.views = views  # a key of DEFAULT_NAMES -> the view to export

    def missing(self, what: str) -> str | None:
        """What view `what` lacks for an export, said as what to do; None if it has it."""
        view = self.views[what]
        if what == "image" and view.image is None:
            return "nothing decoded yet"
        if what in _COMPUTED and self._picture(what) is None:
            return _COMPUTED[what]
        if what == "loss" and not view.has_curves():
            return "no training run yet: press Train"
        return None

    def _picture(self, what: str) -> np.ndarray | None:
        """Computed view `what`'s picture: (H, W, C) in [0, 1], or None before one."""
        view = self.views[what]
        if what in _OWN_PICTURE:
            return view.picture
        return None if view.result is None else view.result.picture

    def export(self, what: str, path: str | Path) -> bool:
        """Write view `what` to `path` as a PNG; a failure is shown, not raised."""
        view = self.views[what]
        try:
            if (missing := self.missing(what)) is not None:
                raise OSError(missing)
            if what == "image":
                save_png(path, view.image, _IMAGE_SCALE)
            elif what in _COMPUTED:
                save_png(path, self._picture(what), _STRIP_SCALE, self.labels(what))
            else:
                kind = Path(path).suffix.lstrip(".").upper() or "PNG"  # as the name says
                with atomic_write(Path(path)) as tmp:  # whole or not at all
                    if not view.grab().save(tmp, kind):
                        raise OSError("Qt could not write the image")
        except (OSError, ValueError) as e:
            self.show_error("Cannot export", f"{path}: {e}")
            return False
        self.show_status(f"Exported {path}")
        return True

    def labels(self, what: str) -> GridLabels:
        """What the rows and columns of computed view `what`'s picture are."""
        view, source = self.views[what], self.session.info.source
        if what == "classes":
            names, title = self.session.class_names(), f"{source}: one code as every class"
            if len(names) <= CLASS_COLUMNS:
                return GridLabels(columns=names, title=title)
            return GridLabels(rows=[f"{n} …" for n in names[::CLASS_COLUMNS]], title=title)
        if what == "inpainting":
            return GridLabels(columns=INPAINTING_CELLS, title=f"{source}: {view.note.text()}")
        if what == "compare":
            return GridLabels(columns=["A", "B"], title=view.title.text())
        result = view.result
        if what == "traversals":
            kl = self.session.info.kl_per_dim
            rows = [f"z{d} · KL {kl[d]:.2f}" if d < len(kl) else f"z{d}" for d in result.dims]
            if (result.values == result.values[0]).all():  # every row takes the same values
                return GridLabels(
                    rows=rows,
                    columns=[_signed(v) for v in result.values[0]],
                    title=f"{source}: each row sets one latent coordinate to the value above, "
                    "the others stay at the current code",
                )
            # each row its own span (a kind without a prior): the values go with the rows
            rows = [
                f"{name}: {_signed(v[0])} to {_signed(v[-1])}"
                for name, v in zip(rows, result.values, strict=True)
            ]
            k = result.values.shape[1]
            return GridLabels(
                rows=rows,
                columns=[f"{t:.0%}" for t in np.linspace(0, 1, k)],
                title=f"{source}: each row sweeps one latent coordinate across the data's "
                "span of it (the share of the way above), the others stay at the current code",
            )
        if what == "interpolation":
            k = len(result.codes)
            steps = [f"{t:.2f}" for t in np.linspace(0, 1, k)[1:-1]]
            path = "spherical" if view.spherical_check.isChecked() else "straight"
            return GridLabels(
                columns=["A", *steps, "B"], title=f"{source}: from A to B on the {path} path"
            )
        k = len(result.samples)
        return GridLabels(
            rows=["data, reconstruction", f"{k} decodes of z ~ q(z|x)"],
            title=f"{source}: {view.note.text()}",
        )

    def ask_export(self, what: str) -> None:
        path = self.recent.ask_save_path(
            self.parent_widget, "Export PNG", DEFAULT_NAMES[what], "PNG images (*.png)"
        )
        if path:
            self.export(what, path)

    def export_codes(self, path: str | Path):
        """Encode the dataset (means and log-variances) and write them, in the background."""
        s = self.session
        if s.model is None or s.dataset is None:
            self.show_error("Cannot export codes", "No model and dataset are open.")
            return None
        model, dataset = s.model_snapshot(), s.dataset

        def job() -> Path:
            mu, logvar = encode(model, images_to_tensor(dataset.images))
            return save_codes(path, mu, logvar, dataset)

        return self.run_task(
            job,
            done=lambda p: self.show_status(f"Saved the codes of {len(dataset)} images to {p}"),
            error_title="Cannot export codes",
        )

    def ask_export_codes(self) -> None:
        path = self.recent.ask_save_path(
            self.parent_widget,
            "Export codes",
            "codes.csv",
            "CSV table (*.csv);;NumPy structured array (*.npy)",
        )
        if path:
            self.export_codes(path)

    def export_report(self, path: str | Path):
        """Compute the model's report over the open dataset and write it, in the background."""
        s = self.session
        if s.model is None or s.dataset is None:
            self.show_error("Cannot export the report", "No model and dataset are open.")
            return None
        path = Path(path)
        try:  # refused before the figures are computed, not after
            check_destination(path, report.ReportError)
        except ExplorerError as e:
            self.show_error("Cannot export the report", str(e))
            return None
        model, dataset, info = s.model_snapshot(), s.dataset, s.info
        card = report.card_of(
            model,
            info.source or "model",
            info.train_config,
            info.trained_on,
            history=info.history,
            world_size=info.world_size,
        )

        def job(progress) -> Path:
            progress("Computing the figures", 0.0)
            c = EvaluateConfig()
            rep = figures(
                model,
                dataset,
                iw_k=c.iw_k,
                max_images=c.max_images,
                on_data_samples=c.prior_samples,
            )
            if rep.non_finite:
                raise ExplorerError(
                    f"{path}: not written: the model computes non-finite values on "
                    f"{dataset.name} ({', '.join(rep.non_finite)})"
                )
            progress("Drawing the pictures", 0.5)
            return report.write(path, report.build(model, dataset, rep, card))

        return self.run_task(
            job,
            done=lambda p: self.show_status(f"Wrote the report to {p}"),
            error_title="Cannot export the report",
            busy="Writing the report",
        )

    def ask_export_report(self) -> None:
        path = self.recent.ask_save_path(
            self.parent_widget, "Export report", "report.html", "Web page (*.html)"
        )
        if path:
            self.export_report(path)
