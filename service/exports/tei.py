"""TEI P5 export, streamed: header, facsimile zones, a transcription div and a parallel
translation div. Each page's elements are built, written and dropped, so memory stays flat.

Source paragraphs carry `lb` line breaks, `choice/orig/reg` where the normalised form of a
word differs, `unclear` around words read below the confidence threshold, and annotations
as `persName`, `placeName`, `date`, `orgName`, `term`, `unclear` or a following `note`.
Page furniture becomes `fw`, footnotes and marginalia `note` with `@place`. A translation
that an automatic check doubted has `@cert="low"` and each reason in a `note type="check"`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib.metadata import version
from typing import IO, Any

from lxml import etree

from service.exports import inline
from service.exports.model import (
    BOXES,
    SOURCE_WITH_CONFIDENCE,
    WITHOUT_WORDS,
    ExportAnnotation,
    ExportDocument,
    ExportPage,
    ExportSegment,
    SourceLayer,
    xml_safe,
)
from service.languages import language_name

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
E = f"{{{TEI_NS}}}"
NSMAP: Any = {None: TEI_NS}  # lxml-stubs do not admit the None key of a default namespace
XML_ID = f"{{{XML_NS}}}id"
# A word read below the confidence threshold.
UNCLEAR = E + "unclear"
LOW_CONFIDENCE = {"reason": "low-confidence", "cert": "low"}
XML_LANG = f"{{{XML_NS}}}lang"
# lxml's incremental writer mis-prefixes the xml namespace given in Clark notation.
XML_LANG_RAW = "xml:lang"
ENTITY_TAGS = {
    "person": "persName",
    "place": "placeName",
    "date": "date",
    "organisation": "orgName",
    "term": "term",
    "unclear": "unclear",
}
FORME_WORK = {"running_head": "header", "page_number": "pageNum", "catchword": "catch"}
NOTE_PLACES = {"footnote": "foot", "marginalia": "margin"}
_ISO_DATE = re.compile(r"^-?\d{4}(-\d{2}(-\d{2})?)?$")
CHECK_DECLARATION = (
    "Machine translations that an automatic check doubted (an omission, an invented or "
    "dropped number or name, an echo of the prompt, a refusal, commentary, a loop, a missed "
    'glossary term), and that no reviewer has edited or approved, carry cert="low" and each '
    'reason in a note of type "check".'
)


def render(document: ExportDocument) -> bytes:
    """Serialise the document as a TEI P5 file (UTF-8, with XML declaration)."""
    from io import BytesIO

    buffer = BytesIO()
    write(document, buffer)
    return buffer.getvalue()


def write(document: ExportDocument, out: IO[bytes]) -> None:
    """Stream the document as TEI P5 into `out`, one page at a time."""
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(E + "TEI", nsmap=NSMAP):
            xf.write(_header(document), pretty_print=True)
            pages = iter(document.read(BOXES))
            first = next(pages, None)
            if first is not None:
                with xf.element(E + "facsimile"):
                    xf.write(_surface(first), pretty_print=True)
                    for page in pages:
                        xf.write(_surface(page), pretty_print=True)
            with xf.element(E + "text"), xf.element(E + "body"):
                _write_transcription(xf, document)
                if document.has_translation:
                    _write_translation(xf, document)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    # lxml refuses exactly the characters XML cannot hold: sanitise only when it does.
    try:
        element = etree.SubElement(parent, E + tag, attrs)
    except ValueError:
        element = etree.SubElement(parent, E + tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        _set_text(element, text)
    return element


def _set_text(element: etree._Element, text: str) -> None:
    try:
        element.text = text
    except ValueError:
        element.text = xml_safe(text)


def _set_tail(element: etree._Element, text: str) -> None:
    try:
        element.tail = text
    except ValueError:
        element.tail = xml_safe(text)


def _el(tag: str, **attrs: str) -> etree._Element:
    # The default namespace is declared on each written subtree, or lxml invents a prefix.
    return etree.Element(E + tag, {k: xml_safe(v) for k, v in attrs.items()}, nsmap=NSMAP)


def _header(document: ExportDocument) -> etree._Element:
    header = _el("teiHeader")
    file_desc = _sub(header, "fileDesc")
    title_stmt = _sub(file_desc, "titleStmt")
    _sub(title_stmt, "title", document.title)
    if document.ocr_engines or not document.typed_pages:
        _resp(title_stmt, "Transcription by OCR", ", ".join(document.ocr_engines) or "Palimpsest")
    if document.typed_pages:
        _resp(title_stmt, "Transcription by hand", ", ".join(document.transcribers) or "Palimpsest")
    for backend, model in document.translation_models if document.has_translation else []:
        _resp(title_stmt, "Machine translation", f"{backend} {model}")
    _publication(_sub(file_desc, "publicationStmt"))
    _source_desc(_sub(file_desc, "sourceDesc"), document)
    _encoding_desc(header, document)
    usage = _sub(_sub(header, "profileDesc"), "langUsage")
    for tag in dict.fromkeys([document.source_lang, document.target_lang]):
        _sub(usage, "language", language_name(tag), ident=tag)
    _revisions(header, document)
    return header


def _resp(parent: etree._Element, what: str, who: str) -> None:
    stmt = _sub(parent, "respStmt")
    _sub(stmt, "resp", what)
    _sub(stmt, "name", who)


def _publication(stmt: etree._Element) -> None:
    _sub(stmt, "publisher", "Palimpsest (self-hosted)")
    now = datetime.now(UTC)
    _sub(stmt, "date", f"Exported {now.date().isoformat()}", when=now.isoformat(timespec="seconds"))


def _source_desc(desc: etree._Element, document: ExportDocument) -> None:
    files = ", ".join(document.files) or "uploaded scans"
    text = f"Transcribed from {document.page_count} page image(s): {files}."
    if document.collection:
        text += f" Collection: {document.collection}."
    _sub(desc, "p", text)


def _encoding_desc(header: etree._Element, document: ExportDocument) -> None:
    encoding = _sub(header, "encodingDesc")
    app_info = _sub(encoding, "appInfo")
    _application(app_info, "palimpsest", version("palimpsest"), "Palimpsest")
    for engine in document.ocr_engines:
        name, _, ver = engine.partition(" ")
        label = f"OCR: {engine}"
        if document.ocr_languages:
            label += f" (models {', '.join(document.ocr_languages)})"
        _application(app_info, name, ver or "unknown", label)
    if document.has_translation:
        for backend, model in document.translation_models:
            _application(
                app_info, f"{backend}-{model}", model, f"Machine translation: {backend} {model}"
            )
    threshold = document.options.low_confidence
    _sub(
        encoding,
        "editorialDecl",
    ).append(
        _para(
            "Words read with an OCR confidence below "
            f"{threshold:g} % are marked unclear; normalised forms (long s, old umlauts, "
            "words rejoined across line breaks) are given as reg beside the diplomatic orig."
        )
    )
    if document.has_translation and document.needs_check:
        encoding[-1].append(_para(CHECK_DECLARATION))


def _para(text: str) -> etree._Element:
    p = _el("p")
    p.text = xml_safe(text)
    return p


def _application(parent: etree._Element, ident: str, ver: str, label: str) -> None:
    app = _sub(parent, "application", ident=_ident(ident), version=_version(ver))
    _sub(app, "label", label)


def _revisions(header: etree._Element, document: ExportDocument) -> None:
    changes = []
    if document.created:
        changes.append((document.created, "Scans uploaded and read by OCR."))
    typed_when = document.updated or document.created
    if document.typed_pages and typed_when:
        pages = ", ".join(str(n) for n in document.typed_pages)
        changes.append((typed_when, f"Transcribed by hand: page(s) {pages}."))
    if document.approved:
        when = document.updated or document.created
        if when:
            changes.append(
                (when, f"{document.approved} segment translation(s) approved in review.")
            )
    if not changes:
        return
    desc = _sub(header, "revisionDesc")
    for when, text in changes:
        _sub(desc, "change", text, when=when.isoformat(timespec="seconds"))


def _ident(value: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in value)
    return cleaned if cleaned[:1].isalpha() else f"x-{cleaned}"


def _version(value: str) -> str:
    # teidata.versionNumber: digits and dots, optionally followed by a letter suffix.
    digits = re.sub(r"\.+", ".", "".join(c for c in value if c.isdigit() or c == ".")).strip(".")
    return digits or "0"


def _surface(page: ExportPage) -> etree._Element:
    surface = _el("surface", **_page_attrs(page))
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
    return surface


def _page_attrs(page: ExportPage) -> dict[str, str]:
    attrs = {XML_ID: _surface_id(page), "n": str(page.number)}
    if page.width and page.height:
        attrs |= {"ulx": "0", "uly": "0", "lrx": str(page.width), "lry": str(page.height)}
    return attrs


def _write_transcription(xf: etree._IncrementalFileWriter, document: ExportDocument) -> None:
    written = 0
    with xf.element(E + "div", {"type": "transcription", XML_LANG_RAW: document.source_lang}):
        for page in document.read(SOURCE_WITH_CONFIDENCE):
            xf.write(_el("pb", n=str(page.number), facs=f"#{_surface_id(page)}"))
            for segment in page.segments:
                xf.write(_source_block(segment, document), pretty_print=True)
                written += 1
        if not written:
            xf.write(_empty())


def _empty() -> etree._Element:
    p = _el("p")
    _sub(p, "gap", reason="no-text")
    return p


def _source_block(segment: ExportSegment, document: ExportDocument) -> etree._Element:
    attrs = {XML_ID: _segment_id(segment), "facs": f"#{_zone_id(segment)}"}
    if segment.kind in FORME_WORK:
        block = _el("fw", type=FORME_WORK[segment.kind], **attrs)
    elif segment.kind in NOTE_PLACES:
        block = _el("note", place=NOTE_PLACES[segment.kind], **attrs)
    else:
        block = _el("p", **attrs)
        if segment.kind == "heading":
            block.set("rend", "heading")
    _source_content(block, segment, document)
    return block


def _source_content(
    block: etree._Element, segment: ExportSegment, document: ExportDocument
) -> None:
    layer = document.options.source
    tokens = inline.source_tokens(segment)
    if layer is not SourceLayer.DIPLOMATIC and not inline.normalisation_matches(segment, tokens):
        # The reading text was edited apart from the diplomatic one: give both whole.
        if layer is SourceLayer.NORMALIZED:
            block.text = xml_safe(segment.normalized)
            return
        choice = _sub(block, "choice")
        _render(_sub(choice, "orig"), _nested(segment, tokens), SourceLayer.DIPLOMATIC, document)
        _sub(choice, "reg", segment.normalized)
        return
    _render(block, _nested(segment, tokens), layer, document)


def _nested(segment: ExportSegment, tokens: list[inline.Token]) -> inline.Span:
    return inline.nest(tokens, segment.annotations_on("source"))


def _render(
    parent: etree._Element, span: inline.Span, layer: SourceLayer, document: ExportDocument
) -> None:
    # Plain text between elements is gathered and set once (not appended word by word).
    pending: list[str] = []
    threshold = document.options.low_confidence
    for child in span.children:
        if isinstance(child, inline.Span):
            _flush(parent, pending)
            _annotation(parent, child, layer, document)
        elif not _plain(child, layer, threshold, pending):
            _flush(parent, pending)
            _token(parent, child, layer, threshold)
    _flush(parent, pending)


def _plain(token: inline.Token, layer: SourceLayer, threshold: float, pending: list[str]) -> bool:
    """Add the token to `pending` when it is bare text; False when it needs markup."""
    if token.kind == "space":
        pending.append(token.text)
        return True
    if token.kind == "break":
        if layer is SourceLayer.NORMALIZED:
            pending.append(" ")
            return True
        return False
    if token.conf is not None and token.conf < threshold:
        return False
    if token.reg is None or layer is SourceLayer.DIPLOMATIC:
        if "\n" in token.text:
            return False
        pending.append(token.text)
        return True
    if layer is SourceLayer.NORMALIZED:
        pending.append(token.reg)
        return True
    return False


def _flush(parent: etree._Element, pending: list[str]) -> None:
    if pending:
        _text(parent, "".join(pending))
        pending.clear()


def _annotation(
    parent: etree._Element, span: inline.Span, layer: SourceLayer, document: ExportDocument
) -> None:
    note = span.annotation
    assert note is not None
    tag = ENTITY_TAGS.get(note.type)
    if tag is None:  # a free note: the text stays as it is, the note follows it
        _render(parent, span, layer, document)
        _follow_with_note(parent, note)
        return
    element = _sub(parent, tag)
    if note.type == "unclear":
        element.set("reason", "reviewer")
    if note.type == "date" and note.body and _ISO_DATE.match(note.body.strip()):
        element.set("when", note.body.strip())
    _render(element, span, layer, document)
    if note.body and not element.get("when"):
        _follow_with_note(parent, note)


def _follow_with_note(parent: etree._Element, note: ExportAnnotation) -> None:
    if note.body:
        _sub(parent, "note", note.body, type="annotation", n=note.type)


def _token(
    parent: etree._Element, token: inline.Token, layer: SourceLayer, threshold: float
) -> None:
    if token.kind == "break":
        if layer is SourceLayer.NORMALIZED:
            _text(parent, " ")
        else:
            _sub(parent, "lb")
        return
    if token.kind == "space":
        _text(parent, token.text)
        return
    target = parent
    if token.conf is not None and token.conf < threshold:
        target = etree.SubElement(parent, UNCLEAR, LOW_CONFIDENCE)
    if token.reg is None or layer is SourceLayer.DIPLOMATIC:
        _diplomatic(target, token.text)
    elif layer is SourceLayer.NORMALIZED:
        _text(target, token.reg)
    else:
        choice = _sub(target, "choice")
        _diplomatic(_sub(choice, "orig"), token.text)
        _sub(choice, "reg", token.reg)


def _diplomatic(parent: etree._Element, text: str) -> None:
    if "\n" not in text:  # the usual word, on one line
        _text(parent, text)
        return
    head, *rest = text.split("\n")
    _text(parent, head)
    for line in rest:  # a word hyphenated across lines
        _sub(parent, "lb", **{"break": "no"})
        _text(parent, line.lstrip())


def _text(parent: etree._Element, text: str) -> None:
    if len(parent):
        last = parent[-1]
        _set_tail(last, (last.tail or "") + text)
    else:
        _set_text(parent, (parent.text or "") + text)


def _write_translation(xf: etree._IncrementalFileWriter, document: ExportDocument) -> None:
    written = 0
    with xf.element(E + "div", {"type": "translation", XML_LANG_RAW: document.target_lang}):
        for page in document.read(WITHOUT_WORDS):
            xf.write(_el("pb", n=str(page.number), facs=f"#{_surface_id(page)}"))
            for segment in page.segments:
                if segment.kind in FORME_WORK:
                    continue
                xf.write(_target_paragraph(segment, document), pretty_print=True)
                written += 1
        if not written:
            xf.write(_empty())


def _target_paragraph(segment: ExportSegment, document: ExportDocument) -> etree._Element:
    p = _el("p", corresp=f"#{_segment_id(segment)}")
    if not segment.translation:
        _sub(p, "gap", reason="untranslated")
        return p
    notes = segment.annotations_on("translation")
    if not notes and "\n" not in segment.translation:
        _set_text(p, segment.translation)
    else:
        tokens = inline.translation_tokens(segment.translation)
        _render(p, inline.nest(tokens, notes), SourceLayer.DIPLOMATIC, document)
    if segment.doubts:
        _doubted(p, segment)
    return p


def _doubted(p: etree._Element, segment: ExportSegment) -> None:
    """Mark a translation that a check doubted: low certainty, and each reason as a note."""
    p.set("cert", "low")
    for doubt in segment.doubts:
        _sub(p, "note", doubt.reason, type="check", subtype=_enumerated(doubt.kind))


def _enumerated(value: str) -> str:
    # teidata.enumerated: no spaces or control characters.
    return re.sub(r"[^\w.-]+", "-", value).strip("-") or "check"


def _surface_id(page: ExportPage) -> str:
    return f"page-{page.number}"


def _zone_id(segment: ExportSegment) -> str:
    return f"zone-{segment.id}"


def _segment_id(segment: ExportSegment) -> str:
    return f"seg-{segment.id}"
