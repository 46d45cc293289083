"""`python -m explorer report`: one self-contained HTML page with `evaluate`'s numbers.

The CLI runs in this process (as tests/test_cli_save.py does): a tiny model trained by
the CLI itself, so its checkpoint records the training history the page draws.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from explorer import cli_inspect
from explorer.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from explorer.core.history import MAX_EPOCHS_KEPT, Epoch, extend
from tests.report_page import Page, images, outside_references
from tests.test_cli_save import run

# Kept small: the figures are evaluate's, on a few hundred images
DATA = ["--count", "240"]
FIGURES = ["--k", "4", "--max-images", "200", "--prior-samples", "60"]


def trained(folder: Path, dataset: str, capsys) -> Path:
    out = folder / f"{dataset}.safetensors"
    code, _, err = run(
        capsys,
        "train",
        "--dataset",
        dataset,
        *DATA,
        "--latent-dim",
        "3",
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--out",
        str(out),
    )
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A digits model (classes) and a sprites model (ground-truth factors), 2 epochs each."""
    folder = tmp_path_factory.mktemp("report-models")

    class Quiet:  # capsys is function-scoped: the module's training output is dropped
        def readouterr(self):
            return "", ""

    return {name: trained(folder, name, Quiet()) for name in ("digits", "sprites")}


@pytest.mark.parametrize("dataset", ["digits", "sprites"])
def test_the_report_shows_evaluates_numbers(models, dataset, tmp_path, capsys):
    model = models[dataset]
    code, out, err = run(capsys, "evaluate", str(model), *DATA, *FIGURES, "--json")
    assert code == 0, err
    expected = json.loads(out)
    page_file = tmp_path / "report.html"
    code, out, err = run(capsys, "report", str(model), *DATA, *FIGURES, "--out", str(page_file))
    assert code == 0, err
    assert out.startswith(f"wrote {page_file}")
    page = Page(page_file.read_text(encoding="utf-8"))
    shown = {k: v for k, v in page.numbers.items() if ":" not in k}
    left = ("kind", "mig_per_factor", "disentanglement")  # (per factor and per score below)
    assert shown == {k: v for k, v in expected.items() if k not in left}
    ckpt = load_checkpoint(model)
    kl = [page.numbers[f"kl_per_dim:{i}"] for i in range(3)]
    assert kl == pytest.approx(ckpt.kl_per_dim, rel=0.2)  # the checkpoint's from training
    if dataset == "sprites":
        gaps = {k.split(":", 1)[1]: v for k, v in page.numbers.items() if k.startswith("mig_")}
        assert gaps == expected["mig_per_factor"] and len(gaps) == 5
        scores = {k.split(":", 1)[1]: v for k, v in page.numbers.items() if k.startswith("disent")}
        wanted = expected["disentanglement"]
        assert len(scores) == 6 and scores == {
            key: wanted[metric][figure] for key in scores for metric, figure in [key.split(".")]
        }
        text = page_file.read_text(encoding="utf-8")
        assert "MIG: shape, scale" in text and "seed 0" in text  # the protocol, stated
    else:
        assert "mig" not in shown
    # map, traversals, interpolation: decodable PNGs of the model's images
    pictures = images(page)
    assert len(pictures) == 3 and all(p.width > 100 for p in pictures)
    assert page.tags.count("svg") == 3  # the KL bars, the scatter, the loss curves


def test_the_loss_curves_come_from_the_checkpoint(models, tmp_path, capsys):
    ckpt = load_checkpoint(models["digits"])
    assert [e.epoch for e in ckpt.history] == [1, 2]
    out = tmp_path / "r.html"
    assert run(capsys, "report", str(models["digits"]), *DATA, *FIGURES, "--out", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    history = text[text.index('id="history-table"') :]
    rows = history[: history.index("</table>")].count("<tr>") - 1
    assert rows == 2 and "Loss curves" in text and "<polyline" in text
    # a model whose file records none says so instead
    save_checkpoint(tmp_path / "old.safetensors", Checkpoint(model=ckpt.model))
    code, _, err = run(
        capsys, "report", str(tmp_path / "old.safetensors"), "--dataset", "digits", *DATA,
        *FIGURES, "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "No training history is recorded" in out.read_text(encoding="utf-8")


def test_a_torchrun_models_page_says_how_many_processes_trained_it(models, tmp_path, capsys):
    ckpt = load_checkpoint(models["digits"])
    ckpt.world_size = 2
    save_checkpoint(tmp_path / "ranks.safetensors", ckpt)
    out = tmp_path / "r.html"
    code, _, err = run(
        capsys, "report", str(tmp_path / "ranks.safetensors"), *DATA, *FIGURES, "--out", str(out)
    )
    assert code == 0, err
    batch = ckpt.train_config.batch_size
    assert (
        f"Trained by 2 processes together (torchrun): {batch} images each, a global batch of "
        f"{2 * batch}."
    ) in out.read_text(encoding="utf-8")
    save_checkpoint(tmp_path / "one.safetensors", replace(ckpt, world_size=1))
    code, _, err = run(
        capsys, "report", str(tmp_path / "one.safetensors"), *DATA, *FIGURES, "--out", str(out)
    )
    assert code == 0, err
    assert "processes together" not in out.read_text(encoding="utf-8")


def test_a_long_history_is_thinned_not_cut():
    history: list[Epoch] = []
    for i in range(1, 3 * MAX_EPOCHS_KEPT):
        history = extend(history, Epoch(i, 1.0, 1.0, 0.5, 1.0))
    assert MAX_EPOCHS_KEPT // 2 <= len(history) <= MAX_EPOCHS_KEPT
    assert history[0].epoch == 1 and history[-1].epoch == 3 * MAX_EPOCHS_KEPT - 1
    steps = {b.epoch - a.epoch for a, b in itertools.pairwise(history[:-1])}
    assert steps == {4}  # even, from the first epoch to the newest


def test_a_history_without_kl_survives_the_file(models, tmp_path):
    """An autoencoder's epochs have no KL (NaN), which JSON cannot hold as a number."""
    ckpt = load_checkpoint(models["digits"])
    ckpt.history = [Epoch(1, 9.0, 8.0, math.nan, 0.0), Epoch(2, 7.0, 6.0, math.nan, 0.0)]
    save_checkpoint(tmp_path / "ae.safetensors", ckpt)
    again = load_checkpoint(tmp_path / "ae.safetensors").history
    assert [(e.epoch, e.loss, e.val_loss) for e in again] == [(1, 9.0, 8.0), (2, 7.0, 6.0)]
    assert all(math.isnan(e.val_kl) for e in again)


def test_nothing_in_the_page_is_fetched(models, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert run(capsys, "report", str(models["sprites"]), *DATA, *FIGURES, "--out", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert outside_references(text) == []
    assert all(ref.startswith("data:image/png;base64,") for ref in page.references)
    assert not {"script", "link", "iframe", "object", "embed"} & set(page.tags)
    assert '<meta name="viewport"' in text and "@media print" in text
    # the check itself sees what it must refuse
    assert outside_references('<img src="https://cdn.example/x.png">') != []
    assert outside_references("@import 'x.css'") and outside_references("a{b:url(x.png)}")


def test_metadata_from_a_file_is_text_not_markup(models, tmp_path, capsys):
    """A checkpoint is untrusted: its names end up in someone's browser."""
    hostile = "<script>alert(1)</script>"
    ckpt = load_checkpoint(models["digits"])
    ckpt.dataset = {
        **ckpt.dataset,
        "name": hostile,
        "source": "/tmp/<img src=x onerror=alert(2)>",
        "class_names": [f"<b>{i}</b>" for i in range(10)],
    }
    model_file = tmp_path / "<i>m.safetensors"  # a file name has no "/"
    save_checkpoint(model_file, ckpt)
    out = tmp_path / "r.html"
    code, _, err = run(
        capsys, "report", str(model_file), "--dataset", "digits", *DATA, *FIGURES, "--out", str(out)
    )
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert "script" not in page.tags and "b" not in page.tags and "i" not in page.tags
    assert len(images(page)) == 3  # no <img> but the report's own
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;i&gt;m.safetensors" in text


def test_a_report_on_a_model_from_elsewhere(models, tmp_path, capsys):
    """A TorchScript file (as `export` writes one): its card says what probing found."""
    pt = tmp_path / "m.pt"
    assert run(capsys, "export", str(models["digits"]), "--torchscript", str(pt))[0] == 0
    out = tmp_path / "r.html"
    code, _, err = run(
        capsys, "report", str(pt), "--dataset", "digits", *DATA, *FIGURES, "--out", str(out)
    )
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert "TorchScript, latent size 3, trained elsewhere" in text
    assert "No training history is recorded" in text


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("missing/r.html", "missing/r.html: the folder"),
        (".", ": is a folder; give a file name"),
    ],
)
def test_an_unwritable_out_is_one_line_before_any_work(
    models, tmp_path, capsys, monkeypatch, where, message
):
    def never(*args, **kwargs):
        raise AssertionError("evaluated before the destination was checked")

    monkeypatch.setattr(cli_inspect, "_scored", never)
    code, out, err = run(
        capsys, "report", str(models["digits"]), *DATA, "--out", str(tmp_path / where)
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_missing_data_is_one_line(models, tmp_path, capsys):
    out = tmp_path / "r.html"
    code, _, err = run(
        capsys, "report", str(models["digits"]), "--dataset", str(tmp_path / "no.npz"),
        "--out", str(out),
    )  # fmt: skip
    assert code == 2 and err == f"error: {tmp_path / 'no.npz'}: no such file or folder\n"
    assert not out.exists()


def test_ctrl_c_while_writing_leaves_the_old_report(models, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("the report of yesterday")
    write_text = Path.write_text

    def interrupted(self, text, *args, **kwargs):  # half the page written, then Ctrl-C
        write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", interrupted)
    code, _, err = run(capsys, "report", str(models["digits"]), *DATA, *FIGURES, "--out", str(out))
    assert code == 130 and err.strip().splitlines()[-1] == "report: interrupted"
    assert out.read_text() == "the report of yesterday"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left
