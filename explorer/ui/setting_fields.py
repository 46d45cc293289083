"""A setting's widget kept in step with a dataclass of settings: what the widget shows,
the signal it sends when the user changes it, and a set of them shown from the settings.

The training form (`training_form`) binds its widgets to a `TrainingSettings` with these,
both ways: a widget changed updates its setting, settings changed are shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

# A setting's widget: a spin box, or a combo whose items carry the values as their data
Field = QSpinBox | QDoubleSpinBox | QComboBox


def _value(widget: Field) -> object:
    """The value `widget` shows."""
    return widget.currentData() if isinstance(widget, QComboBox) else widget.value()


def _show_value(widget: Field, value: object) -> None:
    """Show `value` on `widget` (a spin box rounds it to its decimals and range)."""
    if isinstance(widget, QComboBox):
        i = widget.findData(value)
        if i >= 0:
            widget.setCurrentIndex(i)
    else:
        widget.setValue(value)


def changed(widget: Field):
    """The signal `widget` sends when the user changes its value."""
    return widget.currentIndexChanged if isinstance(widget, QComboBox) else widget.valueChanged


def setter(update: Callable[..., None], name: str, widget: Field) -> Callable[..., None]:
    """A slot giving setting `name` the value `widget` shows (whatever the signal sends)."""
    return lambda *_: update(**{name: _value(widget)})


def show_settings(values, fields: dict[str, Field], update: Callable[..., None]) -> None:
    """Show the settings `values` on their widgets; where a widget cannot show one as
    it is (a spin box's decimals or range), what it shows becomes the setting, so
    training always runs with what is on screen."""
    for name, widget in fields.items():
        value = getattr(values, name)
        if _value(widget) != value:
            _show_value(widget, value)
            if _value(widget) != value:
                update(**{name: _value(widget)})
