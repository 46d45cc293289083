"""`python -m explorer` and the `explorer` command: the desktop app, or a headless command.

No command, `app`, `follow DIR` or a model file first opens the window (explorer/app.py,
which loads Qt); a command (train, sweep, evaluate, report, export) or an option runs headless
(explorer/cli.py, which never loads Qt). Deciding here keeps the two front ends apart:
neither imports the other.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from explorer import cli


def run_app(argv: Sequence[str]) -> int:
    """Open the window with the app's own command line `argv`; its exit status."""
    from explorer.app import main as app_main  # Qt loads only when the window is asked for

    return app_main(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "app":  # the desktop app is the default
        return run_app(argv[1:])
    if argv[0] == "follow":  # the window, following a run folder
        return run_app(["--follow", *argv[1:]])
    if argv[0] not in cli.COMMANDS and not argv[0].startswith("-"):  # a model file: the app
        return run_app(argv)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
