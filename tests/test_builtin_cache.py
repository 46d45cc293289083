"""Built-in datasets are drawn once and then read back from the user's cache folder
(a throw-away folder in the tests: conftest points XDG_CACHE_HOME at it)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from explorer.core.data import builtin_cache as bc
from explorer.core.data import load_dataset, make_digits, make_sprites


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(bc, "cache_folder", lambda: tmp_path / "datasets")
    return tmp_path / "datasets"


class Counting:
    """A generator that counts its calls."""

    def __init__(self, make):
        self.make, self.calls = make, 0

    def __call__(self, count, seed, progress=None):
        self.calls += 1
        return self.make(count, seed, progress=progress)


def same(a, b) -> bool:
    fields = ("labels", "class_names", "factors", "factor_names", "factor_sizes", "name")
    return np.array_equal(a.images[:], b.images[:]) and all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in fields
    )


@pytest.mark.parametrize("make", [make_digits, make_sprites])
def test_a_builtin_dataset_is_drawn_once_then_read_back_the_same(folder, make):
    name = make.__name__.removeprefix("make_")
    gen = Counting(make)
    first = bc.cached(gen, name, 300, 1)
    again = bc.cached(gen, name, 300, 1)
    assert gen.calls == 1 and same(again, first) and same(first, make(300, 1))
    assert type(again.images) is type(first.images)  # sprites stay bit-packed
    assert bc.cached(gen, name, 300, 2) is not None and gen.calls == 2  # another seed
    assert len(list(folder.glob(f"{name}-300-*.npz"))) == 2


def test_load_dataset_goes_through_the_cache(folder):
    first = load_dataset("digits", count=200)
    assert [p.name.split("-")[:3] for p in folder.iterdir()] == [["digits", "200", "0"]]
    assert same(load_dataset("digits", count=200), first)


def test_an_unreadable_cache_file_is_drawn_again_and_replaced(folder, caplog):
    gen = Counting(make_digits)
    bc.cached(gen, "digits", 100, 0)
    (path,) = folder.glob("*.npz")
    path.write_bytes(path.read_bytes()[:1000])  # cut short, as by a full disk
    data = bc.cached(gen, "digits", 100, 0)
    assert gen.calls == 2 and same(data, make_digits(100, 0))
    assert "unreadable cached dataset" in caplog.text
    assert same(bc.cached(gen, "digits", 100, 0), data) and gen.calls == 2  # replaced


def test_a_cache_that_cannot_be_written_only_costs_the_drawing(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setattr(bc, "cache_folder", lambda: blocker / "datasets")
    gen = Counting(make_digits)
    for _ in range(2):
        assert same(bc.cached(gen, "digits", 50, 0), make_digits(50, 0))
    assert gen.calls == 2 and "cannot keep the dataset drawn" in caplog.text


def test_files_of_another_generator_version_are_never_read_and_are_removed(folder, monkeypatch):
    gen = Counting(make_digits)
    bc.cached(gen, "digits", 50, 0)
    monkeypatch.setattr(bc, "_version", lambda: "changedgenerator")
    bc.cached(gen, "digits", 50, 0)
    assert gen.calls == 2
    assert [p.name for p in folder.iterdir()] == ["digits-50-0-changedgenerator.npz"]


def test_datasets_over_the_size_limit_are_not_kept(folder, monkeypatch):
    monkeypatch.setattr(bc, "_MAX_BYTES", 50 * 784)  # 40 digits fit with their labels, 50 not
    gen = Counting(make_digits)
    bc.cached(gen, "digits", 50, 0)
    bc.cached(gen, "digits", 40, 0)
    assert [p.name.split("-")[1] for p in folder.iterdir()] == ["40"]


def test_a_fifo_in_place_of_a_cached_file_is_not_waited_on(folder):
    """Reading a FIFO would wait for a writer forever; it is drawn again and replaced."""
    gen = Counting(make_digits)
    first = bc.cached(gen, "digits", 20, 0)
    (path,) = folder.glob("digits-20-0-*.npz")
    path.unlink()
    os.mkfifo(path)
    assert same(bc.cached(gen, "digits", 20, 0), first) and gen.calls == 2
    assert path.is_file()  # the FIFO was replaced by the dataset drawn again
