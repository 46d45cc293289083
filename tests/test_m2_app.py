"""The semi-supervised VAE (M2) in the window: chosen in the training panel with its
labelled share, trained, its classifier's accuracy in the summary, every class drawn
from one code in the Classes tab, saved with the share it was told."""

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabWidget

from explorer.core.checkpoint import load_checkpoint
from tests.gui import train


def test_m2_trains_from_the_panel_and_draws_every_class(qtbot, window, tmp_path):
    p = window.panel
    assert p.labelled_spin.isHidden()  # a VAE has no labelled share
    p.kind_combo.setFocus()
    QTest.keyClicks(p.kind_combo, "Semi")
    assert window.training_settings.model.kind == "m2"
    assert not p.labelled_spin.isHidden() and p.beta_spin.isHidden()  # M2's β is its own 1
    assert p.alpha_spin.value() == 0.1  # the paper's α = 0.1·N
    p.labelled_spin.selectAll()
    QTest.keyClicks(p.labelled_spin, "0.05")
    QTest.keyClick(p.labelled_spin, Qt.Key.Key_Return)
    assert window.training_settings.train.labelled == 0.05

    final = train(qtbot, window)
    model = window.session.model
    assert final.status == "completed" and model.kind == "m2"
    assert 0 <= final.val.accuracy <= 1
    assert "classifier right on" in p.summary.text() and "of held-out labels" in p.summary.text()
    assert "5% labelled" in p.summary.text()

    tabs = window.findChild(QTabWidget, "insightTabs")
    assert not window.class_bar.isHidden() and tabs.isTabVisible(tabs.indexOf(window.class_grid))
    window.session.set_pinned(True, np.array([0.5, -0.5]))
    QTest.mouseClick(window.class_bar.grid_button, Qt.MouseButton.LeftButton)
    grid = window.class_grid
    qtbot.waitUntil(lambda: grid.picture is not None, timeout=10_000)
    z = torch.tensor([[0.5, -0.5]])
    with torch.inference_mode():
        every = model.decode(z.expand(10, 2), torch.arange(10))[:, 0].numpy()
    cells = [grid.picture[:28, c * 29 : c * 29 + 28, 0] for c in range(10)]
    for c in range(10):
        assert np.allclose(cells[c], every[c], atol=1e-6)  # the code decoded as class c
    for a in range(10):  # one code, ten different images
        for b in range(a):
            assert np.abs(cells[a] - cells[b]).max() > 1e-3

    # Compare: the VAE shown before it has no classifier to score
    view = window.compare_view
    tabs.setCurrentWidget(view)
    QTest.mouseClick(view.previous_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: None not in view.reports.values(), timeout=30_000)
    row = next(
        r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() == "q(y|x) right"
    )
    right = view.reports["A"].evaluation.accuracy
    assert (view.table.item(row, 1).text(), view.table.item(row, 2).text()) == (f"{right:.0%}", "—")

    out = tmp_path / "m2.safetensors"
    assert window.saver.save(out)
    ckpt = load_checkpoint(out)
    assert ckpt.model.kind == "m2" and ckpt.train_config.labelled == 0.05
    assert ckpt.metrics["held_out_accuracy"] == final.val.accuracy
    x = torch.rand(3, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(ckpt.model.classify(x), model.classify(x))
