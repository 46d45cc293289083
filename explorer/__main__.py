"""`python -m explorer`: the desktop app, or a headless command (train, evaluate)."""

import sys

from explorer.cli import main

sys.exit(main())
