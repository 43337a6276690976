"""TMX 1.4b export, streamed: one translation unit per translated segment.

The source side is the reading (normalised) text unless the diplomatic layer is chosen;
each unit records its page, the segment's kind and the translation's status and model as
`prop`s, which CAT tools keep as metadata. A translation that a check doubted (status
`needs_check`) carries each reason as a `prop type="x-palimpsest-check"`, or is left out
when the export asks (`flagged=false`), so a translation memory takes in no doubtful unit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version
from typing import IO

from lxml import etree

from service.exports.model import (
    WITHOUT_WORDS,
    ExportDocument,
    ExportSegment,
    SourceLayer,
    xml_safe,
)

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DOCTYPE = '<!DOCTYPE tmx SYSTEM "tmx14.dtd">'
CHECK_PROP = "x-palimpsest-check"


def write(document: ExportDocument, out: IO[bytes]) -> None:
    """Stream aligned segments as TMX 1.4b with language codes."""
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration(doctype=DOCTYPE)
        with xf.element("tmx", version="1.4"):
            xf.write(_header(document), pretty_print=True)
            with xf.element("body"):
                for page in document.read(WITHOUT_WORDS):
                    for segment in page.segments:
                        if _wanted(segment, document):
                            xf.write(_unit(segment, page.number, document), pretty_print=True)


def _wanted(segment: ExportSegment, document: ExportDocument) -> bool:
    """A unit for every translated segment, but doubted ones when they are left out."""
    return bool(segment.translation) and (document.options.flagged or not segment.doubts)


def _header(document: ExportDocument) -> etree._Element:
    attrs = {
        "creationtool": "Palimpsest",
        "creationtoolversion": version("palimpsest"),
        "segtype": "paragraph",
        "o-tmf": "palimpsest",
        "adminlang": "en",
        "srclang": document.source_lang,
        "datatype": "plaintext",
        "creationdate": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
    }
    return etree.Element("header", attrs)


def _unit(segment: ExportSegment, page: int, document: ExportDocument) -> etree._Element:
    unit = etree.Element("tu", tuid=f"seg-{segment.id}")
    _prop(unit, "x-document", document.title)
    _prop(unit, "x-page", str(page))
    _prop(unit, "x-kind", segment.kind)
    if segment.translation_status:
        _prop(unit, "x-status", segment.translation_status)
    if segment.translation_model:
        _prop(unit, "x-model", f"{segment.translation_backend} {segment.translation_model}")
    for doubt in segment.doubts:
        _prop(unit, CHECK_PROP, doubt.reason)
    source = (
        segment.diplomatic.replace("\n", " ")
        if document.options.source is SourceLayer.DIPLOMATIC
        else segment.normalized
    )
    _variant(unit, document.source_lang, source)
    _variant(unit, document.target_lang, segment.translation or "")
    return unit


def _prop(unit: etree._Element, kind: str, value: str) -> None:
    etree.SubElement(unit, "prop", type=kind).text = xml_safe(value)


def _variant(unit: etree._Element, lang: str, text: str) -> None:
    tuv = etree.SubElement(unit, "tuv", {XML_LANG: lang})
    etree.SubElement(tuv, "seg").text = xml_safe(text)
