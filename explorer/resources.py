"""Where the bundled files live: `resources/` at the top of the project."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
BUNDLED_MODELS = ("digits", "sprites")  # resources/<name>.safetensors, made by scripts/


def bundled_model(name: str) -> Path:
    return RESOURCES / f"{name}.safetensors"
