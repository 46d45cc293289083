"""Where the bundled files live: `resources/` in the project, or the installed copy.

An editable install (the README's command) reads the project's `resources/` folder;
a wheel installs the same files under `<prefix>/share/latent-explorer`.
"""

from __future__ import annotations

import sys
from pathlib import Path

_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "resources",
    Path(sys.prefix) / "share" / "latent-explorer",
)
RESOURCES = next((p for p in _CANDIDATES if p.is_dir()), _CANDIDATES[0])
BUNDLED_MODELS = ("digits", "sprites")  # <name>.safetensors, made by scripts/make_default_models.py


def bundled_model(name: str) -> Path:
    return RESOURCES / f"{name}.safetensors"
