"""File ▸ Export of the selection: its indices and codes (CSV or NPY, as the dataset's codes
are written: `core.codes_file`), and its images as one PNG sheet. Written atomically."""

from __future__ import annotations

from pathlib import Path

from explorer.core.codes_file import save_codes
from explorer.core.errors import ExplorerError
from explorer.core.figures import GridLabels, save_png
from explorer.core.selection import sheet
from explorer.ui.selection_model import SelectionModel
from explorer.ui.services import Controller, Services

SHEET_AT_MOST = 2500  # images on a sheet: a 50 × 50 grid, legible when opened
_NOTHING = "nothing selected yet: Ctrl+drag on the plot around some points"


class SelectionExporter(Controller):
    def __init__(self, services: Services, selection: SelectionModel):
        super().__init__(services)
        self.selection = selection

    def missing(self) -> str | None:
        """What an export of the selection lacks, said as what to do; None if nothing."""
        s = self.session
        if not len(self.selection):
            return _NOTHING
        if s.codes is None or s.logvars is None or s.dataset is None:
            return "the dataset's codes are not encoded yet"
        return None

    def export_codes(self, path: str | Path) -> bool:
        """The selected points' indices, labels, factors, means and log-variances."""
        s, index = self.session, self.selection.indices
        try:
            if (missing := self.missing()) is not None:
                raise ExplorerError(f"{path}: {missing}")
            save_codes(path, s.codes[index], s.logvars[index], s.dataset, index)
        except ExplorerError as e:
            self.show_error("Cannot export the selection", str(e))
            return False
        self.show_status(f"Saved the codes of {len(index)} selected images to {path}")
        return True

    def export_sheet(self, path: str | Path) -> bool:
        """The selected images (the first SHEET_AT_MOST) tiled on one PNG, titled."""
        s, index = self.session, self.selection.indices
        try:
            if (missing := self.missing()) is not None:
                raise OSError(missing)
            shown = index[:SHEET_AT_MOST]
            title = f"{s.dataset.name}: {len(index)} selected images, row by row"
            if len(shown) < len(index):
                title += f" (the first {len(shown)})"
            save_png(path, sheet(s.dataset.images[shown]), 2, GridLabels(title=title))
        except (OSError, ValueError) as e:
            self.show_error("Cannot export the selection", f"{path}: {e}")
            return False
        count = min(len(index), SHEET_AT_MOST)
        of = f" of the {len(index):,} selected" if count < len(index) else ""
        self.show_status(f"Exported {count:,} images{of} to {path}")
        return True

    def ask_export_codes(self) -> None:
        path = self.recent.ask_save_path(
            self.parent_widget,
            "Export the selection",
            "selection.csv",
            "CSV table (*.csv);;NumPy structured array (*.npy)",
        )
        if path:
            self.export_codes(path)

    def ask_export_sheet(self) -> None:
        path = self.recent.ask_save_path(
            self.parent_widget,
            "Export the selection's images",
            "selection.png",
            "PNG images (*.png)",
        )
        if path:
            self.export_sheet(path)
