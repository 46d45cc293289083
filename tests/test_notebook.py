"""The example notebook runs in a Jupyter kernel, as a user runs it: a VAE defined and
trained in the notebook, opened with `explorer.explore` (which returns at once there),
its code set and read back from the notebook while the window is live."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "examples" / "explore_in_a_notebook.ipynb"


def _text(output) -> str:
    return output.get("text") or output.get("data", {}).get("text/plain", "")


def test_the_example_notebook_runs_in_a_kernel(monkeypatch):
    # One OpenMP thread in the kernel: beside the kernel's own threads on a busy 2-core
    # machine, two made its 200 training steps take 8 s instead of under one.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # kept clean
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    )
    client.execute()  # raises CellExecutionError naming the cell when one fails
    text = "\n".join(_text(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "<ExplorerWindow (open): latent size 2" in text
    assert "the window shows [ 1.5 -0.5]" in text
    assert "pinned at [0. 0.]" in text
    assert "(2000, 2) codes" in text
    assert nb.cells[-1].outputs[-1]["data"]["text/plain"] == "True"  # view.close()
    # an exception in one of the window's slots reaches the notebook as stderr
    assert "Traceback" not in text and "Error" not in text
