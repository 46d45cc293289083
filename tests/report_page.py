"""Reading a report back as its reader's browser does: its numbers, images and links."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

from PIL import Image


class Page(HTMLParser):
    """A report's numbers (`data-metric` -> `data-value`), pictures and references."""

    def __init__(self, text: str):
        super().__init__()
        self.numbers: dict[str, float | None] = {}
        self.references: list[str] = []  # every src and href
        self.tags: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "data-metric" in a:
            value = a["data-value"]
            self.numbers[a["data-metric"]] = None if value == "null" else float(value)
        self.references += [v for k, v in attrs if k in ("src", "href") and v is not None]


_DATA_PNG = "data:image/png;base64,"


def images(page: Page) -> list[Image.Image]:
    """Every picture of the page, decoded (each must be an inline PNG)."""
    out = []
    for ref in page.references:
        assert ref.startswith(_DATA_PNG), f"not an inline PNG: {ref[:60]}"
        image = Image.open(io.BytesIO(base64.b64decode(ref[len(_DATA_PNG) :], validate=True)))
        image.load()  # a truncated or corrupt PNG fails here
        out.append(image)
    return out


_OUTSIDE = re.compile(r"(https?:)?//|@import|url\(", re.IGNORECASE)
_INLINE_PNG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]*")


def outside_references(text: str) -> list[str]:
    """What in the page's text would make a browser fetch something: a URL with a
    scheme or protocol-relative, a style sheet import, a CSS url(). The inline PNGs are
    left out: base64 holds "//" anywhere."""
    return [m.group(0) for m in _OUTSIDE.finditer(_INLINE_PNG.sub("", text))]
