"""The command-line options that open a model trained elsewhere, and what they name.

`--factory`, `--factory-args` and `--adapt` are read by two front ends: the headless
`evaluate` command (explorer/cli_inspect.py) and the window's own command line (explorer/app.py).
They live here, below both and free of Qt, so neither front end imports the other.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # core.external_files imports torch: loaded when a model is opened
    from explorer.core.external_files import ExternalSource


def add_external_options(p: argparse.ArgumentParser) -> None:
    """How to open a model trained elsewhere: the three options, added to `p`."""
    p.add_argument(
        "--factory",
        help="for weights trained elsewhere: the function that builds the model, "
        "package.module:build_model or path/to/file.py:build_model",
    )
    p.add_argument(
        "--factory-args",
        default="",
        help="the factory's keyword arguments: a JSON object, or a .json file holding one",
    )
    p.add_argument(
        "--adapt",
        default="",
        help="override how its encode/decode are read, e.g. input=flat,encoder=split,"
        "decoder=logits (default: chosen by probing the model)",
    )


def external_source(model: Path, args: argparse.Namespace) -> ExternalSource | None:
    """How to open `model` if it is from elsewhere; None for a checkpoint of ours."""
    from explorer.core.config import Adapters
    from explorer.core.external_files import ExternalSource

    if not (args.factory or args.adapt) and model.suffix == ".safetensors":
        return None
    return ExternalSource(
        str(model), args.factory or "", args.factory_args, Adapters.parse(args.adapt)
    )
