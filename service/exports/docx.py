"""DOCX export (python-docx): per page a heading and a two-column table, source | translation.

Annotations become Word comments anchored on the words they cover ("person: Voltaire");
words read below the confidence threshold are highlighted; a translation that a check
doubted gets a comment over it with the reasons. A DOCX is one XML part, so it
is built in memory (about a megabyte per hundred pages; see bench/results/exports.md).
"""

from __future__ import annotations

import re
from typing import IO

import docx
from docx.document import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from service.exports import inline
from service.exports.docx_comments import Comments
from service.exports.model import (
    WITHOUT_BOXES,
    ExportAnnotation,
    ExportDocument,
    ExportPage,
    ExportSegment,
    SourceLayer,
    xml_safe,
)
from service.languages import language_name

UNTRANSLATED = "(not translated)"
CHECK_AUTHOR = "Palimpsest check"
CHECK_HEAD = "Needs check: an automatic check doubts this machine translation."
LABELS = {
    "person": "person",
    "place": "place",
    "date": "date",
    "organisation": "organisation",
    "term": "term",
    "unclear": "uncertain reading",
    "note": "note",
}


def write(document: ExportDocument, out: IO[bytes]) -> None:
    """Build the Word file and save it into `out`."""
    doc = docx.Document()
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = xml_safe(document.title)[:255]
    doc.core_properties.language = document.source_lang
    doc.add_heading(xml_safe(document.title), level=0)
    doc.add_paragraph(xml_safe(_subtitle(document)))
    comments = Comments(doc)
    for page in document.read(WITHOUT_BOXES):
        _page(doc, comments, page, document)
    doc.save(out)


def _subtitle(document: ExportDocument) -> str:
    parts = [f"{language_name(document.source_lang)} → {language_name(document.target_lang)}"]
    parts += [f"translated with {b} {m}" for b, m in document.translation_models]
    if document.ocr_engines:
        parts.append(f"OCR: {', '.join(document.ocr_engines)}")
    return " · ".join(parts)


def _page(doc: Document, comments: Comments, page: ExportPage, document: ExportDocument) -> None:
    doc.add_heading(f"Page {page.number}", level=1)
    if not page.segments:
        doc.add_paragraph("(no text on this page)")
        return
    columns = 2 if document.has_translation else 1
    table = doc.add_table(rows=1, cols=columns)
    table.style = "Table Grid"
    header = table.rows[0].cells
    header[0].text = f"Source ({document.source_lang}) — p. {page.number}"
    if columns == 2:
        header[1].text = f"Translation ({document.target_lang})"
    for segment in page.segments:
        cells = table.add_row().cells
        _source_cell(comments, cells[0], segment, document)
        if columns == 2:
            _target_cell(comments, cells[1], segment)


def _first_paragraph(cell: _Cell) -> Paragraph:
    paragraph: Paragraph = cell.paragraphs[0]
    return paragraph


def _source_cell(
    comments: Comments, cell: _Cell, segment: ExportSegment, document: ExportDocument
) -> None:
    paragraph = _first_paragraph(cell)
    tokens = inline.source_tokens(segment)
    layer = document.options.source
    if layer is not SourceLayer.DIPLOMATIC and not inline.normalisation_matches(segment, tokens):
        paragraph.add_run(xml_safe(segment.normalized))
        return
    span = inline.nest(tokens, segment.annotations_on("source"))
    runs = _runs(paragraph, span, layer, document.options.low_confidence)
    _comments(comments, runs, segment, "source")


def _target_cell(comments: Comments, cell: _Cell, segment: ExportSegment) -> None:
    paragraph = _first_paragraph(cell)
    if not segment.translation:
        paragraph.add_run(UNTRANSLATED).italic = True
        return
    tokens = inline.translation_tokens(segment.translation)
    span = inline.nest(tokens, segment.annotations_on("translation"))
    runs = _runs(paragraph, span, SourceLayer.DIPLOMATIC, 0.0)
    _comments(comments, runs, segment, "translation")
    if segment.doubts and runs:
        _doubts(comments, [run for run, _ in runs], segment)


def _doubts(comments: Comments, runs: list[Run], segment: ExportSegment) -> None:
    """A comment over the whole translation giving each reason a check doubted it for."""
    comment = comments.add(runs, CHECK_HEAD, CHECK_AUTHOR, "PC")
    for doubt in segment.doubts:
        comment.add_paragraph(xml_safe(doubt.reason))


Group = tuple[tuple[ExportAnnotation, ...], bool]


def _runs(
    paragraph: Paragraph, span: inline.Span, layer: SourceLayer, threshold: float
) -> list[tuple[Run, Group]]:
    """One run per stretch of text sharing its annotations and (un)certainty: few runs, fast."""
    runs: list[tuple[Run, Group]] = []
    texts: list[str] = []
    current: Group | None = None
    for token, around in inline.flatten(span):
        low = token.kind == "word" and token.conf is not None and token.conf < threshold
        key: Group = (around, low)
        if key != current and texts and current is not None:
            runs.append((_run(paragraph, "".join(texts), current[1]), current))
            texts = []
        current = key
        texts.append(_token_text(token, layer))
    if texts and current is not None:
        runs.append((_run(paragraph, "".join(texts), current[1]), current))
    return runs


def _token_text(token: inline.Token, layer: SourceLayer) -> str:
    if token.kind == "break":
        return " " if layer is SourceLayer.NORMALIZED else "\n"
    if token.kind == "word" and token.reg is not None and layer is not SourceLayer.DIPLOMATIC:
        return token.reg
    return token.text


# What python-docx's `run.text = ...` makes of tabs and line breaks.
_SPECIAL = re.compile(r"([\t\r\n])")
_PRESERVE = qn("xml:space")


def _run(paragraph: Paragraph, text: str, low: bool) -> Run:
    """A run written as the XML python-docx's `add_run` writes, appended directly: add_run
    places each new element by XPath, and a book has a run per stretch of words."""
    r = etree.SubElement(paragraph._p, qn("w:r"))
    if low:  # a highlighted (uncertain) reading
        etree.SubElement(
            etree.SubElement(r, qn("w:rPr")), qn("w:highlight"), {qn("w:val"): "yellow"}
        )
    for piece in _SPECIAL.split(xml_safe(text)):
        if piece == "\t":
            etree.SubElement(r, qn("w:tab"))
        elif piece in ("\r", "\n"):
            etree.SubElement(r, qn("w:br"))
        elif piece:
            t = etree.SubElement(r, qn("w:t"))
            t.text = piece
            if len(piece.strip()) < len(piece):
                t.set(_PRESERVE, "preserve")
    return Run(r, paragraph)  # type: ignore[arg-type]


def _comments(
    comments: Comments, runs: list[tuple[Run, Group]], segment: ExportSegment, layer: str
) -> None:
    for note in segment.annotations_on(layer):
        covered = [run for run, (around, _) in runs if note in around]
        if not covered:
            continue
        text = LABELS.get(note.type, note.type)
        if note.body:
            text += f": {note.body}"
        comments.add(covered, xml_safe(text), "Palimpsest review", "PR")
