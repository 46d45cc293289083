"""The font of the labels around exported figures, and the text it can draw.

Pillow's own font (Aileron) has no Greek: a title "β = 4" came out as "□ = 4". A system
font with wide coverage is taken where one is installed (DejaVu Sans or Noto on Linux
desktops, Arial on Windows and macOS); a character the font still lacks is spelled out
("beta") or drawn as "?", so no label carries a missing-glyph box.
"""

from __future__ import annotations

import functools

from PIL import ImageFont

_SYSTEM_FONTS = (  # file names Pillow looks up in the system's font folders
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "LiberationSans-Regular.ttf",
    "Arial.ttf",
    "arial.ttf",
)
_SPELLED = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "ε": "eps",
    "θ": "theta",
    "λ": "lambda",
    "μ": "mu",
    "ρ": "rho",
    "σ": "sigma",
    "·": ",",
    "…": "...",
    "–": "-",
    "—": "-",
    "×": "x",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "→": "->",
    "²": "^2",
}
_NO_GLYPH = "\U0010fffd"  # a private-use code point: no font draws it but as its box

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def label_font(size: int) -> Font:
    """The first system font of `_SYSTEM_FONTS` found, else Pillow's own, at `size` px."""
    for name in _SYSTEM_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:  # not installed here
            continue
    return ImageFont.load_default(size=size)


def drawable(text: str, font: Font) -> str:
    """`text` with each character `font` lacks spelled out, or "?"."""
    return "".join(c if _has_glyph(font, c) else _SPELLED.get(c, "?") for c in text)


@functools.cache
def _has_glyph(font: Font, char: str) -> bool:
    if char.isspace() or char.isascii():
        return True
    return bytes(font.getmask(char)) != bytes(font.getmask(_NO_GLYPH))
