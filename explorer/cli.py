"""Headless front end: `python -m explorer train | sweep | evaluate | report | export`; no Qt.

    python -m explorer train --dataset sprites --beta 4 --latent-dim 10 --epochs 5 \
        --out model.safetensors
    python -m explorer sweep --dataset sprites --betas 0,1,4 --latent-dim 10 --out sweep/
    python -m explorer sweep --kind factorvae --weight gamma --values 5,10,20 --out sweep/
    python -m explorer evaluate model.safetensors --dataset sprites
    python -m explorer evaluate their_vae.pt --dataset mnist.gz   # TorchScript
    python -m explorer evaluate weights.pth --factory models:build_vae --dataset mnist.gz
    python -m explorer report model.safetensors --dataset sprites --out report.html
    python -m explorer export model.safetensors --torchscript model.pt

Bad input ends with one line on stderr naming the file or option, and exit status 2.
A trained model that cannot be saved where asked is kept in the user data folder
(~/.local/share/LatentExplorer/unsaved on Linux), and the status is 3; the line says where.
With no command (or a model file first), `python -m explorer` opens the desktop app
instead (explorer/__main__.py decides which).

This module parses the command line (explorer/cli_parser.py) and runs the command asked
for; the commands are in explorer/cli_train.py (train), explorer/cli_sweep.py (sweep) and
explorer/cli_inspect.py (evaluate, report, export).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from explorer.cli_inspect import cmd_evaluate, cmd_export, cmd_report
from explorer.cli_parser import build_parser
from explorer.cli_sweep import cmd_sweep
from explorer.cli_train import cmd_train
from explorer.core.errors import ExplorerError
from explorer.logs import LOGGER, setup_logging

COMMANDS = {
    "train": cmd_train,
    "sweep": cmd_sweep,
    "evaluate": cmd_evaluate,
    "report": cmd_report,
    "export": cmd_export,
}


def _run(command, args) -> int:
    """`command`'s status. Under torchrun (of the commands, `train` alone runs in several
    processes) the process group it joined is left however it ends, and the messages of
    ranks other than 0 say whose they are."""
    from explorer.core import distributed

    group = distributed.environment()
    if not group.active:
        return command(args)
    if args.command != "train":
        raise ExplorerError(f"{args.command}: runs in one process; torchrun starts train only")
    try:
        return command(args)
    except ExplorerError as e:
        if group.leader:
            raise
        raise ExplorerError(f"rank {group.rank}: {e}") from e
    finally:
        distributed.leave()


def main(argv: Sequence[str]) -> int:
    """Run one headless command (`argv` as typed after `python -m explorer`): its exit status.

    explorer/__main__.py decides what runs: it sends no command, `app` and a model file
    to the window, and everything else here.
    """
    argv = list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    command = COMMANDS.get(args.command)
    if command is None:  # `app` is in the help's list; the window is opened by __main__
        parser.error(f"{args.command} opens the window: run python -m explorer {args.command}")
    setup_logging()
    try:
        return _run(command, args)
    except ExplorerError as e:
        logging.getLogger(LOGGER).error("%s %s: %s", args.command, " ".join(argv[1:]), e)
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C outside a training run (which stops at an epoch's end and saves): while
        # data is read, a factory builds a model that never comes, or a report is written.
        # Whatever was saved before stays; nothing half-written is left (writes are atomic).
        print(f"{args.command}: interrupted", file=sys.stderr)
        return 130
