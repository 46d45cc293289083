"""One slider per latent dimension (`latentSlider0` ...) across its span: the prior's
±3σ, or where the data's codes lie for a kind without a prior (`core.code_spans`).

Dragging a slider sets that coordinate of z; every change of z from elsewhere (the
cursor, a pin, another button) moves the sliders without echoing back. Inactive
dimensions (those the model does not use, see `kl_view`) have grey names; "Sort by KL"
puts the dimensions that carry the most information first.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from explorer.core.code_spans import codes_gaussian
from explorer.core.kind_table import KIND_TABLE
from explorer.ui.palette import INACTIVE_COLOUR
from explorer.ui.state import Session, active_dims
from explorer.ui.theme import style_sliders

STEPS = 600  # integer positions across a span: 0.01 per step across the prior's ±3


def to_positions(z: np.ndarray, spans: np.ndarray) -> list[int]:
    """Slider positions of the coordinates z: (d,), each clipped to its span (d, 2)."""
    low, high = spans[:, 0], spans[:, 1]
    return np.rint((np.clip(z, low, high) - low) / (high - low) * STEPS).astype(int).tolist()


def to_value(position: int, span: np.ndarray) -> float:
    """The coordinate at slider `position` of a dimension spanning span (2,): low, high."""
    low, high = float(span[0]), float(span[1])
    return low + position / STEPS * (high - low)


def signed(value: float) -> str:
    """A coordinate as shown to the user: "+0.30", "-1.25", and never "-0.00"."""
    return f"{round(value, 2) + 0.0:+.2f}"


class LatentSliders(QWidget):
    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.rng = np.random.default_rng()
        self.sliders: list[QSlider] = []
        self.readouts: list[QLabel] = []
        self.names: list[QLabel] = []
        self._placed: list[int] = []  # the dimensions in grid rows, top down
        self._syncing = False

        self._buttons = buttons = QHBoxLayout()
        made: dict[str, QPushButton] = {}
        for name, text, tip, slot in [
            ("zeroButton", "Zero", "Set every dimension to 0 (the prior's mean)", self.reset),
            ("samplePriorButton", "Sample prior", "Draw z from N(0, I)", self.sample_prior),
            (
                "dataPointButton",
                "Data point",
                "Jump to the code of a random image of the dataset",
                self.random_point,
            ),
        ]:
            b = QPushButton(text, objectName=name)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
            made[name] = b
        self.sample_button = made["samplePriorButton"]  # (named for the model shown)
        self.sort_check = QCheckBox("By KL", objectName="sortByKL")
        self.sort_check.setToolTip("Sort the sliders: most informative dimensions first")
        self.sort_check.toggled.connect(self._place)
        buttons.addStretch(1)
        buttons.addWidget(self.sort_check)
        self.grid = QGridLayout()
        self.grid.setColumnStretch(1, 1)
        self.grid.setVerticalSpacing(2)
        inner = QWidget()
        inner.setLayout(self.grid)
        style_sliders(inner, self)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.scroll)
        session.modelChanged.connect(self.rebuild)
        session.codeChanged.connect(self.sync)
        session.codesChanged.connect(self._place)
        session.codesChanged.connect(self.sync)  # (a kind without a prior: new spans)

    def rebuild(self) -> None:
        """One row per latent dimension of the current model."""
        for w in self.sliders + self.readouts + self.names:
            self.grid.removeWidget(w)
            w.deleteLater()
        self.sliders, self.readouts, self.names = [], [], []
        self._placed = []
        for i in range(self.session.latent_dim):
            name = QLabel(f"z{i}")
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setObjectName(f"latentSlider{i}")
            slider.setRange(0, STEPS)
            slider.setSingleStep(5)
            slider.setPageStep(50)
            slider.setAccessibleName(f"latent dimension {i}")
            slider.valueChanged.connect(lambda pos, i=i: self._moved(i, pos))
            readout = QLabel("0.00")
            # A fixed size (width and height: Qt skips the relayout only for a widget
            # whose size cannot change): a new value never re-lays out the panel (up to
            # 64 new values per cursor move).
            width = max(44, readout.fontMetrics().horizontalAdvance("+0.00") + 8)
            readout.setFixedSize(width, readout.sizeHint().height())
            readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.sliders.append(slider)
            self.readouts.append(readout)
            self.names.append(name)
        self._place()
        self.grid.setRowStretch(self.grid.rowCount(), 1)  # rows stay packed at the top
        # A few sliders take only their own height (the decoded image gets the rest);
        # many scroll. New rows in a shown panel stay hidden until the event loop's next
        # turn, and a layout leaves hidden widgets out of its size: shown now, they count
        # (a model trained in the window otherwise left room for a third of a row).
        for w in self.sliders + self.readouts + self.names:
            w.show()
        rows = self.grid.sizeHint().height() + 2 * self.scroll.frameWidth()
        self.scroll.setMaximumHeight(rows)
        spacing = self.layout().spacing()
        self.setMaximumHeight(self._buttons.sizeHint().height() + spacing + rows)
        prior = self.has_prior()
        self.sample_button.setText("Sample prior" if prior else "Sample fit")
        self.sample_button.setToolTip(
            "Draw z from N(0, I)"
            if prior
            else "This kind has no prior: draw z from the Gaussian fitted to the data's "
            "codes (their mean and covariance)"
        )
        self.sync()

    def has_prior(self) -> bool:
        model = self.session.model
        return model is None or KIND_TABLE[model.kind].prior

    def order(self) -> list[int]:
        """The dimensions from the top row down."""
        d = len(self.sliders)
        kl = self.session.info.kl_per_dim
        if not self.sort_check.isChecked() or len(kl) != d:
            return list(range(d))
        return sorted(range(d), key=lambda i: -kl[i])

    def _place(self) -> None:
        """Lay the rows out in `order()` and grey the names of inactive dimensions.

        Runs on every new set of codes (each training epoch); only what changed is
        touched: re-adding every row and re-styling its name would cost each epoch.
        """
        order = self.order()
        if order != self._placed:
            for row, i in enumerate(order):
                for col, w in enumerate((self.names[i], self.sliders[i], self.readouts[i])):
                    self.grid.removeWidget(w)
                    self.grid.addWidget(w, row, col)
            self._placed = order
        kl, active = self.session.info.kl_per_dim, active_dims(self.session)
        for i, name in enumerate(self.names):
            tip = f"KL of this dimension: {kl[i]:.2f} nats" if i < len(kl) else ""
            inactive = active is not None and not active[i]
            if inactive:
                tip += " · inactive: the model does not use it"
            if name.toolTip() != tip.strip(" ·"):
                name.setToolTip(tip.strip(" ·"))
            style = f"color: {INACTIVE_COLOUR};" if inactive else ""
            if name.styleSheet() != style:
                name.setStyleSheet(style)

    def sync(self) -> None:
        z = self.session.z
        if len(z) != len(self.sliders):
            return
        # Runs on every cursor move, for up to 64 rows: one NumPy call for the positions
        # and plain floats for the text (per-row NumPy scalars made it ~3x slower).
        self._syncing = True
        positions = to_positions(z, self.session.spans)
        rows = zip(self.sliders, self.readouts, positions, z.tolist(), strict=True)
        for slider, readout, position, v in rows:
            slider.setValue(position)
            text = signed(v)
            if readout.text() != text:
                readout.setText(text)
        self._syncing = False

    def _moved(self, i: int, position: int) -> None:
        if self._syncing:
            return
        z = self.session.z.copy()
        z[i] = to_value(position, self.session.spans[i])
        self.session.set_z(z)

    def reset(self) -> None:
        self.session.set_z(np.zeros(self.session.latent_dim))

    def sample_prior(self) -> None:
        """z from the prior, or from the Gaussian fitted to the codes for a kind without
        one (core.code_spans); until its codes are in, such a kind's draw waits."""
        s = self.session
        eps = self.rng.standard_normal(s.latent_dim)
        if self.has_prior():
            s.set_z(eps)
        elif s.codes is not None and np.isfinite(s.codes).all(axis=1).any():
            mean, chol = codes_gaussian(s.codes)
            s.set_z(mean + chol @ eps)

    def random_point(self) -> None:
        codes = self.session.codes
        if codes is not None and len(codes):
            self.session.set_z(codes[self.rng.integers(len(codes))])
