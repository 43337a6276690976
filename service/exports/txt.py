"""Plain-text and Markdown exports: interleaved (each segment, then its translation) or side
by side (two columns in text, a two-column table per page in Markdown). A translation that a
check doubted is followed by "[needs check: …]" with the reasons."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterator
from typing import IO

from service.exports.model import (
    WITHOUT_WORDS,
    Arrangement,
    ExportDocument,
    ExportPage,
    ExportSegment,
    SourceLayer,
    xml_safe,
)
from service.translation.doubts import mark

PAGE_BREAK = "\f"
COLUMN = 48
UNTRANSLATED = "[not translated]"


def render(document: ExportDocument, translation: bool = True) -> str:
    """The whole text export as one string (small documents, tests)."""
    with_translation = translation and document.has_translation
    return "".join(_text_pages(document, with_translation))


def write_text(document: ExportDocument, out: IO[bytes]) -> None:
    """Stream the plain-text export, page by page."""
    for chunk in _text_pages(document, document.has_translation):
        out.write(chunk.encode("utf-8"))


def _text_pages(document: ExportDocument, with_translation: bool) -> Iterator[str]:
    side = with_translation and document.options.arrangement is Arrangement.SIDE_BY_SIDE
    for i, page in enumerate(document.read(WITHOUT_WORDS)):
        if i:
            yield PAGE_BREAK
        blocks = [_text_block(s, document, with_translation, side) for s in page.segments]
        yield "\n\n".join(blocks)
    yield "\n"


def _source(segment: ExportSegment, document: ExportDocument) -> str:
    if document.options.source is SourceLayer.DIPLOMATIC:
        return _clean(segment.diplomatic)
    return _clean(segment.normalized)


def _text_block(
    segment: ExportSegment, document: ExportDocument, with_translation: bool, side: bool
) -> str:
    source = _source(segment, document)
    if not with_translation:
        return source
    target = _clean(segment.translation) if segment.translation else UNTRANSLATED
    if segment.doubts:
        target += f"\n{_clean(mark(segment.doubts))}"
    if side:
        return _columns(source, target)
    return f"{source}\n{target}"


def _clean(text: str) -> str:
    # Control characters (but newline and tab) and non-characters garble terminals and editors.
    return "".join(c for c in xml_safe(text) if c in "\n\t" or unicodedata.category(c) != "Cc")


def _columns(left: str, right: str) -> str:
    a = [w for part in left.split("\n") for w in textwrap.wrap(part, COLUMN) or [""]]
    b = [w for part in right.split("\n") for w in textwrap.wrap(part, COLUMN) or [""]]
    rows = []
    for i in range(max(len(a), len(b))):
        cell = a[i] if i < len(a) else ""
        other = b[i] if i < len(b) else ""
        rows.append(f"{cell}{' ' * (COLUMN - width(cell))} | {other}".rstrip())
    return "\n".join(rows)


def width(text: str) -> int:
    """Columns the text takes in a terminal: combining and format marks take none."""
    total = 0
    for c in text:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Cf", "Mn", "Me"):
            continue
        total += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return total


def write_markdown(document: ExportDocument, out: IO[bytes]) -> None:
    """Stream Markdown: a heading per page, then segments interleaved or in a table."""
    out.write(f"# {_md_inline(document.title)}\n\n".encode())
    meta = f"{document.source_lang} → {document.target_lang}"
    out.write(f"*{_md_inline(meta)}*\n".encode())
    for page in document.read(WITHOUT_WORDS):
        out.write(_md_page(page, document).encode("utf-8"))


def _md_page(page: ExportPage, document: ExportDocument) -> str:
    parts = [f"\n## Page {page.number}\n"]
    translated = document.has_translation
    if translated and document.options.arrangement is Arrangement.SIDE_BY_SIDE:
        parts.append(f"\n| {document.source_lang} | {document.target_lang} |\n|---|---|\n")
        for s in page.segments:
            target = _md_cell(s.translation) if s.translation else "*not translated*"
            if s.doubts:
                target += f"<br>*{_md_inline(mark(s.doubts))}*"
            parts.append(f"| {_md_cell(_source(s, document))} | {target} |\n")
        return "".join(parts)
    for s in page.segments:
        parts.append(f"\n{_md_block(_source(s, document))}\n")
        if translated:
            target = _md_block(s.translation) if s.translation else "*not translated*"
            if s.doubts:
                target += f"\n\n*{_md_inline(mark(s.doubts))}*"
            parts.append(f"\n> {target.replace(chr(10), chr(10) + '> ')}\n")
    return "".join(parts)


# Only what Markdown would read as markup is escaped: emphasis, code, links, HTML, table
# cells; a period or hyphen only where it would start a list, heading or quote.
_MD_INLINE = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|~"})
_MD_LINE_START = re.compile(r"^(\s*)(?:(>)|([#+-])(?=\s|$)|(\d+)([.)])(?=\s|$)|([=-])(?=[=\s-]*$))")


def _md_escape(line: str) -> str:
    escaped = line.translate(_MD_INLINE)
    return _MD_LINE_START.sub(_escape_start, escaped)


def _escape_start(match: re.Match[str]) -> str:
    lead, quote, mark, number, dot, rule = match.groups()
    if number is not None:
        return f"{lead}{number}\\{dot}"
    return f"{lead}\\{quote or mark or rule}"


def _md_inline(text: str) -> str:
    return _md_escape(_clean(text).replace("\n", " "))


def _md_block(text: str) -> str:
    return "  \n".join(_md_escape(_clean(line)) for line in text.split("\n"))


def _md_cell(text: str) -> str:
    return "<br>".join(_md_inline(line) for line in text.split("\n"))
