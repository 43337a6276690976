"""TEI P5 export: header, facsimile zones, a transcription div and a parallel translation div."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import version

from lxml import etree

from service.exports.model import ExportDocument, ExportPage, ExportSegment, xml_safe
from service.translation.prompts import language_name

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
E = f"{{{TEI_NS}}}"
XML_ID = f"{{{XML_NS}}}id"
XML_LANG = f"{{{XML_NS}}}lang"


def render(document: ExportDocument) -> bytes:
    """Serialise the document as a TEI P5 file (UTF-8, with XML declaration)."""
    root = etree.Element(E + "TEI", nsmap={None: TEI_NS})  # type: ignore[dict-item]
    root.append(_header(document))
    root.append(_facsimile(document))
    text = _sub(root, "text")
    body = _sub(text, "body")
    body.append(_transcription(document))
    if document.has_translation:
        body.append(_translation(document))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, E + tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _header(document: ExportDocument) -> etree._Element:
    header = etree.Element(E + "teiHeader")
    file_desc = _sub(header, "fileDesc")
    _sub(_sub(file_desc, "titleStmt"), "title", document.title)
    _sub(
        _sub(file_desc, "publicationStmt"),
        "p",
        f"Exported by Palimpsest on {datetime.now(UTC).date().isoformat()}.",
    )
    files = ", ".join(document.files) or "uploaded scans"
    _sub(
        _sub(file_desc, "sourceDesc"),
        "p",
        f"Transcribed by OCR from {len(document.pages)} page image(s): {files}.",
    )
    _encoding_desc(header, document)
    usage = _sub(_sub(header, "profileDesc"), "langUsage")
    for tag in dict.fromkeys([document.source_lang, document.target_lang]):
        _sub(usage, "language", language_name(tag), ident=tag)
    return header


def _encoding_desc(header: etree._Element, document: ExportDocument) -> None:
    app_info = _sub(_sub(header, "encodingDesc"), "appInfo")
    _application(app_info, "palimpsest", version("palimpsest"), "Palimpsest")
    for engine in document.ocr_engines:
        name, _, ver = engine.partition(" ")
        _application(app_info, name, ver or "unknown", f"OCR: {engine}")
    if document.has_translation and document.backend:
        _application(
            app_info,
            f"translation-{document.backend}",
            "unknown",
            f"Machine translation: {document.backend} {document.model or ''}".strip(),
        )


def _application(parent: etree._Element, ident: str, ver: str, label: str) -> None:
    app = _sub(parent, "application", ident=_ident(ident), version=_version(ver))
    _sub(app, "label", label)


def _ident(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in value)
    return cleaned if cleaned[:1].isalpha() else f"x-{cleaned}"


def _version(value: str) -> str:
    # teidata.versionNumber: digits and dots, optionally followed by a letter suffix.
    digits = "".join(c for c in value if c.isdigit() or c == ".").strip(".")
    return digits or "0"


def _facsimile(document: ExportDocument) -> etree._Element:
    facsimile = etree.Element(E + "facsimile")
    for page in document.pages:
        surface = _sub(facsimile, "surface", **_page_attrs(page))
        if page.image:
            graphic = {"url": page.image}
            if page.width and page.height:
                graphic |= {"width": f"{page.width}px", "height": f"{page.height}px"}
            _sub(surface, "graphic", **graphic)
        for segment in page.segments:
            x0, y0, x1, y1 = segment.bbox
            _sub(
                surface,
                "zone",
                **{
                    XML_ID: _zone_id(segment),
                    "ulx": str(x0),
                    "uly": str(y0),
                    "lrx": str(x1),
                    "lry": str(y1),
                },
            )
    return facsimile


def _page_attrs(page: ExportPage) -> dict[str, str]:
    attrs = {XML_ID: _surface_id(page), "n": str(page.number)}
    if page.width and page.height:
        attrs |= {"ulx": "0", "uly": "0", "lrx": str(page.width), "lry": str(page.height)}
    return attrs


def _transcription(document: ExportDocument) -> etree._Element:
    div = etree.Element(E + "div", {"type": "transcription", XML_LANG: document.source_lang})
    for page in document.pages:
        _sub(div, "pb", n=str(page.number), facs=f"#{_surface_id(page)}")
        for segment in page.segments:
            _paragraph(div, segment)
    return div


def _paragraph(div: etree._Element, segment: ExportSegment) -> None:
    p = _sub(div, "p", **{XML_ID: _segment_id(segment), "facs": f"#{_zone_id(segment)}"})
    for i, line in enumerate(segment.lines):
        if i == 0:
            p.text = xml_safe(line)
        else:
            _sub(p, "lb").tail = xml_safe(line)


def _translation(document: ExportDocument) -> etree._Element:
    div = etree.Element(E + "div", {"type": "translation", XML_LANG: document.target_lang})
    for page in document.pages:
        _sub(div, "pb", n=str(page.number), facs=f"#{_surface_id(page)}")
        for segment in page.segments:
            p = _sub(div, "p", corresp=f"#{_segment_id(segment)}")
            if segment.translation:
                p.text = xml_safe(segment.translation)
            else:
                _sub(p, "gap", reason="untranslated")
    return div


def _surface_id(page: ExportPage) -> str:
    return f"page-{page.number}"


def _zone_id(segment: ExportSegment) -> str:
    return f"zone-{segment.id}"


def _segment_id(segment: ExportSegment) -> str:
    return f"seg-{segment.id}"
