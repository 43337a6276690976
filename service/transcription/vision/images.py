"""The image a vision model is shown: a box of the page, with a margin, at most N pixels.

Ollama's vision models read worse and slower on large images (qwen2.5vl's own limit is
about 1.3 megapixels; larger scans are cut into tiles that lose the line), so a crop is
scaled down to the configured pixel budget, never up.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image

BBox = tuple[int, int, int, int]
MARGIN = 0.15  # of the box's height, around it: ascenders and descenders


@dataclass(frozen=True)
class Crop:
    """An encoded crop and its size in pixels."""

    data: bytes
    media_type: str
    width: int
    height: int


def crop(page: Image.Image, box: BBox, max_pixels: int) -> Crop:
    """The box of the page with a margin, scaled to at most `max_pixels`, as JPEG."""
    x0, y0, x1, y1 = box
    pad = round(MARGIN * (y1 - y0))
    area = (
        max(0, x0 - pad),
        max(0, y0 - pad),
        min(page.width, x1 + pad),
        min(page.height, y1 + pad),
    )
    part = page.crop(area).convert("RGB")
    pixels = part.width * part.height
    if pixels > max_pixels:
        factor = math.sqrt(max_pixels / pixels)
        size = (max(1, int(part.width * factor)), max(1, int(part.height * factor)))
        part = part.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    part.save(buffer, format="JPEG", quality=90)
    return Crop(buffer.getvalue(), "image/jpeg", part.width, part.height)
