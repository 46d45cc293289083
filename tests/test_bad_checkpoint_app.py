"""A checkpoint with bad metadata is refused whole: the window keeps what it showed.

Valid JSON with values of the wrong type used to switch the model first and fail in
the views as they showed it (traceback dialogs, a half-updated window). The window now
checks all it reads of a checkpoint before anything changes, and a checkpoint whose
dataset must be loaded appears with that dataset or not at all.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from safetensors import safe_open
from safetensors.torch import save_file

from explorer.app import build_main_window
from explorer.core.checkpoint import Checkpoint, save_checkpoint
from explorer.core.config import ModelConfig
from explorer.core.kinds import build_model
from tests.gui import shown_pixels

_KEY = "latent_explorer"


def metadata(source) -> dict:
    with safe_open(str(source), framework="pt") as f:
        return json.loads(f.metadata()[_KEY])


def with_metadata(source, target, text: str) -> None:
    """`source`'s weights written to `target` with `text` as its metadata."""
    with safe_open(str(source), framework="pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    save_file(state, str(target), metadata={_KEY: text})


def rewrite(source, target, change) -> None:
    """`source` with its metadata changed by `change(meta)` (the weights as they were)."""
    meta = metadata(source)
    change(meta)
    text = json.dumps(meta).replace(json.dumps(_DEEP), "[" * 100_000 + "]" * 100_000)
    with_metadata(source, target, text)


_DEEP = "(lists nested 100,000 deep)"  # json.dumps cannot write them: put in as text


CASES = {
    "string β": lambda m: m["train"].update(beta="1.0"),
    "float samples": lambda m: m["train"].update(samples=2.5),
    "unknown corruption": lambda m: m["train"].update(corruption="smudge"),
    "text γ": lambda m: m["train"].update(gamma="high"),
    "unknown KL schedule": lambda m: m["train"].update(kl_schedule="sideways"),
    "text ELBO": lambda m: m.update(metrics={"elbo": "high", "recon": 1, "kl": 1}),
    "list metrics": lambda m: m.update(metrics=[1, 2]),
    "number KL": lambda m: m.update(kl_per_dim=5),
    "text KL": lambda m: m.update(kl_per_dim=["a", "b"]),
    "KL of another size": lambda m: m.update(kl_per_dim=[0.5] * 7),
    "text dataset": lambda m: m.update(dataset="digits"),
    "text image count": lambda m: m["dataset"].update(num_images="many"),
    "number source": lambda m: m["dataset"].update(source=5),
    "string version": lambda m: m.update(version="2"),
    "float latent size": lambda m: m["model"].update(latent_dim=2.5),
    "list latent size": lambda m: m["model"].update(latent_dim=[2]),
    "deep nesting": lambda m: m.update(metrics={"elbo": _DEEP}),
}


def on_screen(w) -> tuple:
    """What the user sees of the model: the decoded pixels, title, summary, status bar."""
    return (
        shown_pixels(w.decoder_view).tobytes(),
        w.windowTitle(),
        w.panel.summary.text(),
        w.statusBar().model_label.text(),
        w.panel.beta_spin.value(),
    )


@pytest.mark.parametrize("case", CASES)
def test_bad_metadata_leaves_the_window_as_it_was(
    qtbot, window, tiny_checkpoint, tmp_path, monkeypatch, case
):
    path = tmp_path / f"{case}.safetensors"
    rewrite(tiny_checkpoint, path, CASES[case])
    model, before = window.session.model, on_screen(window)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.errorShown) as shown:
        window.opener.ask_open("checkpoint")  # File ▸ Open checkpoint…
    assert str(path) in shown.args[0] and "\n" not in shown.args[0].strip()
    assert window.session.model is model
    assert on_screen(window) == before


def test_a_checkpoint_whose_dataset_fails_to_load_changes_nothing(
    qtbot, window, tmp_path, monkeypatch
):
    """Its model is shown with its data or not at all, never beside the wrong data."""
    broken = tmp_path / "faces.npy"
    broken.write_bytes(b"\x93NUMPY not really")
    model16 = build_model(ModelConfig(latent_dim=3, hidden=(16,), image_shape=(1, 16, 16)))
    path = tmp_path / "faces-model.safetensors"
    described = {"name": "faces", "source": str(broken), "image_shape": [1, 16, 16]}
    save_checkpoint(path, Checkpoint(model=model16, dataset=described))
    model, dataset, before = window.session.model, window.session.dataset, on_screen(window)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    with qtbot.waitSignal(window.errorShown, timeout=20_000) as shown:
        window.opener.ask_open("checkpoint")
    assert "faces.npy" in shown.args[0]
    assert window.session.model is model and window.session.dataset is dataset
    assert on_screen(window) == before


def test_a_bad_checkpoint_at_start_up_is_named_and_the_bundled_model_opens(
    qtbot, tiny_checkpoint, tmp_path, settings
):
    path = tmp_path / "mine.safetensors"
    rewrite(tiny_checkpoint, path, CASES["string version"])
    w = build_main_window(path, settings=settings)
    qtbot.addWidget(w)
    (box,) = w.findChildren(QMessageBox)
    assert str(path) in box.text()
    qtbot.waitUntil(lambda: w.session.codes is not None, timeout=30_000)
    assert w.session.info.source == "bundled digits model"
    assert np.isfinite(w.decoder_view.image).all()
    w.shutdown()
