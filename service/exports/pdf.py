"""Searchable PDF: each page's scan with the OCR text laid invisibly over its words, so a
PDF reader can search, select and copy it; optionally each scan faces its translation.

Built with reportlab (BSD, pure Python with a small C accelerator, no network, no
external program): it draws images and places text in render mode 3 (invisible) with a
horizontal scale that makes each word span exactly its box. Tesseract's own PDF renderer
would need to run OCR again and could not carry edited or imported text; pikepdf/pypdf
edit existing PDFs but do not lay out text. Text uses DejaVu Sans (fonts-dejavu-core),
which covers long s, Greek and combining marks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from service.exports.model import ExportDocument, ExportLine, ExportPage, ExportSegment, xml_safe
from service.storage import Storage
from service.translation.doubts import mark

FONT = "DejaVuSans"
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEFAULT_DPI = 300
MARGIN = 56.0


def write(document: ExportDocument, out: IO[bytes], storage: Storage) -> None:
    """Draw every page (and, when bilingual, its translation facing it) into `out`."""
    _register_font()
    # Not invariant: the file's dates are when it was made (invariant ones say 2000-01-01).
    canvas = Canvas(out, pageCompression=1, invariant=0)
    canvas.setTitle(xml_safe(document.title))
    canvas.setAuthor("Palimpsest")
    canvas.setCreator("Palimpsest")
    canvas.setSubject(f"{document.source_lang} → {document.target_lang}")
    for page in document.pages:
        _scan_page(canvas, page, storage)
        if document.options.bilingual and document.has_translation:
            _translation_pages(canvas, page)
    canvas.save()


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))


def _scale(page: ExportPage) -> float:
    """Points per image pixel."""
    return 72.0 / (page.dpi or DEFAULT_DPI)


def _page_size(page: ExportPage) -> tuple[float, float]:
    width = page.width or max((s.bbox[2] for s in page.segments), default=2480)
    height = page.height or max((s.bbox[3] for s in page.segments), default=3508)
    return width * _scale(page), height * _scale(page)


def _scan_page(canvas: Canvas, page: ExportPage, storage: Storage) -> None:
    width, height = _page_size(page)
    canvas.setPageSize((width, height))
    if page.image_sha256 and storage.exists(page.image_sha256):
        with storage.local_file(page.image_sha256) as path:
            canvas.drawImage(str(path), 0, 0, width=width, height=height)
    text = canvas.beginText()
    text.setTextRenderMode(3)  # invisible: searchable and selectable, not drawn
    for box, word in _words(page):
        _place(text, box, word, page, height)
    canvas.drawText(text)
    canvas.showPage()


def _words(page: ExportPage) -> Iterator[tuple[tuple[int, int, int, int], str]]:
    """Boxes and texts to lay over the scan: words where known, else lines, else segments."""
    for segment in page.segments:
        yield from _segment_words(segment)


def _segment_words(segment: ExportSegment) -> Iterator[tuple[tuple[int, int, int, int], str]]:
    texts = segment.line_texts
    if len(texts) != len(segment.lines):
        yield segment.bbox, segment.diplomatic.replace("\n", " ")
        return
    for text, line in zip(texts, segment.lines, strict=True):
        yield from _line_words(text, line, segment.bbox)


def _line_words(
    text: str, line: ExportLine, fallback: tuple[int, int, int, int]
) -> Iterator[tuple[tuple[int, int, int, int], str]]:
    words = text.split()
    if len(line.words) == len(words) and all(w.bbox for w in line.words):
        for word, item in zip(words, line.words, strict=True):
            assert item.bbox is not None
            yield item.bbox, word
    elif text.strip():
        yield line.bbox or fallback, text


def _place(
    text: object, box: tuple[int, int, int, int], word: str, page: ExportPage, height: float
) -> None:
    x0, y0, x1, y1 = box
    scale = _scale(page)
    size = max((y1 - y0) * scale * 0.8, 1.0)
    value = xml_safe(word).replace("\n", " ")
    natural = pdfmetrics.stringWidth(value, FONT, size) or 1.0
    target = max((x1 - x0) * scale, 1.0)
    text.setFont(FONT, size)  # type: ignore[attr-defined]
    text.setHorizScale(100.0 * target / natural)  # type: ignore[attr-defined]
    text.setTextOrigin(x0 * scale, height - y1 * scale + size * 0.2)  # type: ignore[attr-defined]
    text.textOut(value + " ")  # type: ignore[attr-defined]


def _translation_pages(canvas: Canvas, page: ExportPage) -> None:
    width, height = _page_size(page)
    canvas.setPageSize((width, height))
    size = max(min(width / 45, 12.0), 6.0)
    leading = size * 1.35
    y = height - MARGIN
    canvas.setFont(FONT, size + 2)
    canvas.drawString(MARGIN, y, f"Page {page.number} — translation")
    y -= leading * 2
    canvas.setFont(FONT, size)
    for segment in page.segments:
        if not segment.translation:
            continue
        text = segment.translation + (f"\n{mark(segment.doubts)}" if segment.doubts else "")
        for line in simpleSplit(xml_safe(text), FONT, size, width - 2 * MARGIN):
            if y < MARGIN:
                canvas.showPage()
                canvas.setPageSize((width, height))
                canvas.setFont(FONT, size)
                y = height - MARGIN
            canvas.drawString(MARGIN, y, line)
            y -= leading
        y -= leading / 2
    canvas.showPage()
