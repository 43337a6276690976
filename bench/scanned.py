"""A parallel set "from a scan": each passage printed onto a page image and read back by the
OCR stage (Tesseract with the document's models, the pipeline's preparation and reading
order, the normalised reading form), so the translation starts from what OCR gives, as a
document's does.

The page is set in DejaVu Serif at 11 pt on A4 at 300 DPI: a clean modern print, which the
OCR reads almost without fault. It measures the path from a scan, not Tesseract on old type
(for that, see `palimpsest eval-ocr`).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from service.ocr.engines.base import OcrEngine
from service.ocr.languages import ocr_models
from service.ocr.reading import read_image
from service.text import normalise
from service.translation.evaluation import Item, ParallelSet

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
PAGE = (2480, 3508)  # A4 at 300 DPI
MARGIN = 250
SIZE = 46  # 11 pt at 300 DPI
LEADING = 70
# Antiqua models: the dev sets are in modern type and spelling.
SCRIPTS = {"de": "de-Latn"}


def render(text: str) -> Image.Image:
    """The text set as one paragraph on a white page, wrapped at the margins."""
    page = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), SIZE)
    width = PAGE[0] - 2 * MARGIN
    y, line = MARGIN, ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            draw.text((MARGIN, y), line, font=font, fill=0)
            y, line = y + LEADING, word
        else:
            line = candidate
    if line:
        draw.text((MARGIN, y), line, font=font, fill=0)
    return page


def read(image: Image.Image, lang: str, engine: OcrEngine) -> str:
    """What the OCR stage reads on the page: its blocks' reading forms, in reading order."""
    reading = read_image(image, 300, ocr_models(SCRIPTS.get(lang, lang)), engine)
    return " ".join(normalise(b.text) for b in reading.layout.blocks if b.words)


def scanned(parallel: ParallelSet, engine: OcrEngine) -> ParallelSet:
    """The set with every source replaced by what OCR reads from its printed page."""
    items = [
        Item(i.id, read(render(i.src), parallel.source_lang, engine), i.ref, i.work)
        for i in parallel.items
    ]
    return ParallelSet(
        f"{parallel.name} (scanned)", parallel.source_lang, parallel.target_lang, items
    )
