"""The bar above the latent plot: which plane, the manifold map, what colours the points
(label, a factor, or a quantity that explains the model, with its colour bar) and how
they are drawn (size, opacity)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QWidget,
)

from explorer.core.per_point import NO_SPREAD, QUANTITIES, available
from explorer.ui.colour_bar import ColourBar
from explorer.ui.colour_by import PointValues
from explorer.ui.latent_view import LatentView
from explorer.ui.manifold import ManifoldControls
from explorer.ui.point_style import PointStyleButton
from explorer.ui.state import Session

_PREFIX = "colour by "


class ColourCombo(QComboBox):
    """What colours the points ("colour by scale"). Qt clips a combo's text that does not
    fit; on a narrow window this one shows the factor's name alone, elided if need be."""

    def shown_text(self) -> str:
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        metrics, text = self.fontMetrics(), self.currentText()
        if metrics.horizontalAdvance(text) <= field.width():
            return text
        name = text.removeprefix(_PREFIX)
        return metrics.elidedText(name, Qt.TextElideMode.ElideRight, field.width())

    def paintEvent(self, event) -> None:
        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        opt.currentText = self.shown_text()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)


class PlaneBar(QWidget):
    def __init__(self, session: Session, latent_view: LatentView, parent=None):
        super().__init__(parent)
        self.session = session
        self.plane_combo = QComboBox(objectName="planeCombo")
        self.plane_combo.addItems(["PCA of the codes", "Two dimensions"])
        self.x_spin = QSpinBox(objectName="planeX", prefix="x = z")
        self.y_spin = QSpinBox(objectName="planeY", prefix="y = z", value=1)
        self.manifold = ManifoldControls(session, latent_view)
        self.colour_combo = ColourCombo(objectName="colourCombo")
        self.colour_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.plane_combo.setToolTip(
            "The plane of the latent space the plot shows: the two directions in which the "
            "codes vary most (PCA), or two dimensions of z (models of more than 2)"
        )
        self.x_spin.setToolTip("The dimension of z along the plot's horizontal axis")
        self.y_spin.setToolTip("The dimension of z along the plot's vertical axis")
        self.colour_combo.setToolTip(
            "What colours the points: the label, a factor of the data, or how well the model "
            "explains each image (reconstruction error, KL from the prior, posterior σ)"
        )
        self.colour_values = PointValues(session, self)  # a quantity's values, worked out
        self.colour_bar = ColourBar(session)
        self.colour_bar.float_over(latent_view)
        self.points = PointStyleButton()
        self.points.styleChanged.connect(latent_view.set_point_style)
        # its whole text where there is room; on a narrow window it gives way (elided)
        # rather than widening the window past a laptop's screen
        self.colour_combo.setMinimumWidth(self.colour_combo.fontMetrics().averageCharWidth() * 11)
        self.plane_combo.currentIndexChanged.connect(self._plane_chosen)
        self.x_spin.valueChanged.connect(self._plane_chosen)
        self.y_spin.valueChanged.connect(self._plane_chosen)
        self.colour_combo.currentTextChanged.connect(
            lambda t: t and session.set_colour_by(t.removeprefix(_PREFIX))
        )
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        # (no "Plane:" label: the combo's items say what they are, and the bar's width
        # is part of the least width of the window, which must fit a laptop's screen)
        bar.addWidget(self.plane_combo)
        bar.addWidget(self.x_spin)
        bar.addWidget(self.y_spin)
        bar.addSpacing(6)
        bar.addWidget(self.manifold)
        bar.addStretch(1)
        bar.addWidget(self.colour_combo)
        bar.addWidget(self.points)
        session.modelChanged.connect(self._model_changed)
        session.modelChanged.connect(self._fill_colours)
        session.datasetChanged.connect(self._fill_colours)

    def _plane_chosen(self) -> None:
        pca = self.plane_combo.currentIndex() == 0
        self.x_spin.setEnabled(not pca)
        self.y_spin.setEnabled(not pca)
        x, y = self.x_spin.value(), self.y_spin.value()
        if not pca and x == y:
            return
        self.session.set_plane("pca" if pca else "dims", x, y)

    def show_factor(self, name: str, x: int, y: int) -> None:
        """Plot latent dimensions x and y, coloured by factor `name` (or the label)."""
        i = self.colour_combo.findText(f"{_PREFIX}{name}")
        self.colour_combo.setCurrentIndex(max(i, 0))  # "shape" is the label's colouring
        if self.session.latent_dim < 2 or x == y:
            return
        for spin, value in ((self.x_spin, x), (self.y_spin, y)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        if self.plane_combo.currentIndex() == 1:
            self._plane_chosen()
        else:
            self.plane_combo.setCurrentIndex(1)  # chooses the plane

    def _model_changed(self) -> None:
        s = self.session
        d = s.latent_dim
        kind, x, y = s.plane_choice
        controls = (self.plane_combo, self.x_spin, self.y_spin)
        for w in controls:
            w.blockSignals(True)
        self.plane_combo.setCurrentIndex(0 if kind == "pca" else 1)
        self.plane_combo.setEnabled(d > 2)
        for spin, value in ((self.x_spin, x), (self.y_spin, y)):
            spin.setRange(0, max(d - 1, 0))
            spin.setValue(value)
            spin.setEnabled(d > 2 and kind == "dims")
        for w in controls:
            w.blockSignals(False)

    def _fill_colours(self) -> None:
        """The data's label and factors, and the quantities; those the model does not
        define are listed disabled, with the reason as their tooltip."""
        s, combo = self.session, self.colour_combo
        if s.dataset is None:
            return
        factors = [f for f in (s.dataset.factor_names or []) if f != "shape"]
        defined = available(s.model) if s.model is not None else ()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems([f"{_PREFIX}{o}" for o in ["label", *factors, *QUANTITIES]])
        for q in QUANTITIES:
            if q not in defined:
                i = combo.findText(f"{_PREFIX}{q}")
                combo.model().item(i).setEnabled(False)
                why = NO_SPREAD.format(kind=s.model.kind) if s.model is not None else ""
                combo.setItemData(i, why, Qt.ItemDataRole.ToolTipRole)
        i = combo.findText(f"{_PREFIX}{s.colour_by}")
        if i < 0 or not combo.model().item(i).isEnabled():
            i = 0  # the new model or data has no such colouring: by label
        combo.setCurrentIndex(i)
        combo.blockSignals(False)
        s.set_colour_by(combo.currentText().removeprefix(_PREFIX))
