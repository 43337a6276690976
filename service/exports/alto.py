"""ALTO 4.4 export, streamed: the OCR layer with block, line and word boxes and confidences.

One file holds every exported page (`Layout` allows many `Page`s). Block kinds are
declared as `OtherTag`s and referenced with `TAGREFS`, as eScriptorium does; a word's
normalised form, where it differs, is an `ALTERNATIVE` with `PURPOSE="normalised"`, and
a word hyphenated across two lines carries `SUBS_TYPE`/`SUBS_CONTENT`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from importlib.metadata import version
from typing import IO, Any

from lxml import etree

from service.exports.model import ExportDocument, ExportLine, ExportPage, ExportSegment, xml_safe
from service.text import LINE_END_HYPHENS, normalise

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
A = f"{{{ALTO_NS}}}"
SCHEMA_LOCATION = f"{ALTO_NS} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
DEFAULT_NS: Any = {None: ALTO_NS}
KINDS = (
    "paragraph",
    "heading",
    "footnote",
    "marginalia",
    "running_head",
    "page_number",
    "catchword",
    "manual",
    "unreadable",
)


def write(document: ExportDocument, out: IO[bytes]) -> None:
    """Stream the document as one ALTO 4.4 file, page by page."""
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        attrs = {f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION, "SCHEMAVERSION": "4.4"}
        nsmap: Any = {None: ALTO_NS, "xsi": XSI_NS}
        with xf.element(A + "alto", attrs, nsmap=nsmap):
            xf.write(_description(document), pretty_print=True)
            xf.write(_tags(), pretty_print=True)
            with xf.element(A + "Layout"):
                for page in document.pages:
                    xf.write(_page(page), pretty_print=True)


def _el(parent: etree._Element | None, tag: str, **attrs: str) -> etree._Element:
    if parent is None:  # a subtree written on its own declares the default namespace
        return etree.Element(A + tag, attrs, nsmap=DEFAULT_NS)
    return etree.SubElement(parent, A + tag, attrs)


def _description(document: ExportDocument) -> etree._Element:
    description = _el(None, "Description")
    _el(description, "MeasurementUnit").text = "pixel"
    info = _el(description, "sourceImageInformation")
    _el(info, "fileName").text = xml_safe(", ".join(document.files) or document.title)
    for i, engine in enumerate(document.ocr_engines or ["unknown"], start=1):
        step = _el(description, "Processing", ID=f"ocr-{i}")
        _el(step, "processingCategory").text = "contentGeneration"
        if document.created:
            _el(step, "processingDateTime").text = document.created.isoformat()
        languages = ", ".join(document.ocr_languages)
        _el(step, "processingStepDescription").text = xml_safe(
            f"OCR with {engine}" + (f" (models {languages})" if languages else "")
        )
        _software(step, engine)
    export = _el(description, "Processing", ID="export")
    _el(export, "processingCategory").text = "other"
    _el(export, "processingDateTime").text = datetime.now(UTC).isoformat(timespec="seconds")
    _el(export, "processingStepDescription").text = "ALTO export"
    _software(export, f"Palimpsest {version('palimpsest')}")
    return description


def _software(step: etree._Element, name_version: str) -> None:
    name, _, ver = name_version.partition(" ")
    software = _el(step, "processingSoftware")
    _el(software, "softwareName").text = xml_safe(name)
    if ver:
        _el(software, "softwareVersion").text = xml_safe(ver)


def _tags() -> etree._Element:
    tags = _el(None, "Tags")
    for kind in KINDS:
        _el(tags, "OtherTag", ID=f"kind-{kind}", LABEL=kind, DESCRIPTION=f"block type {kind}")
    return tags


def _page(page: ExportPage) -> etree._Element:
    width = max([page.width or 0, *(s.bbox[2] for s in page.segments)]) or 1
    height = max([page.height or 0, *(s.bbox[3] for s in page.segments)]) or 1
    element = _el(
        None,
        "Page",
        ID=f"page-{page.number}",
        PHYSICAL_IMG_NR=str(page.number),
        WIDTH=str(width),
        HEIGHT=str(height),
    )
    space = _el(element, "PrintSpace", HPOS="0", VPOS="0", WIDTH=str(width), HEIGHT=str(height))
    for segment in page.segments:
        _block(space, segment)
    return element


def _box(bbox: tuple[int, int, int, int]) -> dict[str, str]:
    x0, y0, x1, y1 = bbox
    return {
        "HPOS": str(max(0, x0)),
        "VPOS": str(max(0, y0)),
        "WIDTH": str(max(0, x1 - x0)),
        "HEIGHT": str(max(0, y1 - y0)),
    }


def _set(element: etree._Element, attrs: dict[str, str]) -> None:
    for key, value in attrs.items():
        element.set(key, value)


def _block(space: etree._Element, segment: ExportSegment) -> None:
    block = _el(space, "TextBlock", ID=f"block-{segment.id}", TAGREFS=f"kind-{segment.kind}")
    _set(block, _box(segment.bbox))
    texts = segment.line_texts
    for i, line in enumerate(segment.lines):
        text = texts[i] if len(texts) == len(segment.lines) else line.text
        _line(block, f"line-{segment.id}-{i + 1}", line, text, segment.bbox)
    if not len(block):
        _line(block, f"line-{segment.id}-1", segment.lines[0], "", segment.bbox)
    _join_hyphenated(block)


def _line(
    block: etree._Element,
    line_id: str,
    line: ExportLine,
    text: str,
    fallback: tuple[int, int, int, int],
) -> None:
    box = line.bbox or fallback
    element = _el(block, "TextLine", ID=line_id, **_box(box))
    if line.baseline:
        element.set("BASELINE", " ".join(f"{max(0, x)},{max(0, y)}" for x, y in line.baseline))
    if line.polygon:
        shape = _el(element, "Shape")
        _el(shape, "Polygon", POINTS=" ".join(f"{max(0, x)},{max(0, y)}" for x, y in line.polygon))
    words = [w for w in line.words if w.text]
    boxed = [w.text for w in words] == text.split()
    items = words if boxed else [None] * len(text.split())
    for j, (word_text, word) in enumerate(zip(text.split(), items, strict=True)):
        if j:
            _el(element, "SP")
        string = _el(element, "String", ID=f"{line_id}-w{j + 1}", CONTENT=xml_safe(word_text))
        if word is not None and word.bbox is not None:
            _set(string, _box(word.bbox))
        if word is not None and word.conf is not None:
            string.set("WC", f"{max(0.0, min(word.conf, 100.0)) / 100:.3f}")
        reg = normalise(word_text)
        if reg != word_text:
            _el(string, "ALTERNATIVE", PURPOSE="normalised").text = xml_safe(reg)
    if not len(element.findall(A + "String")):
        _el(element, "String", CONTENT="")


def _join_hyphenated(block: etree._Element) -> None:
    """Mark a word split by a line-end hyphen as HypPart1/HypPart2 with the joined form."""
    lines = block.findall(A + "TextLine")
    for first, second in itertools.pairwise(lines):
        head = first.findall(A + "String")
        tail = second.findall(A + "String")
        if not head or not tail:
            continue
        a, b = head[-1], tail[0]
        left, right = a.get("CONTENT") or "", b.get("CONTENT") or ""
        if (
            len(left) > 1
            and left[-1] in LINE_END_HYPHENS
            and left[-2].isalnum()
            and right[:1].isalnum()
        ):
            joined = normalise(left[:-1] + right)
            a.set("SUBS_TYPE", "HypPart1")
            b.set("SUBS_TYPE", "HypPart2")
            a.set("SUBS_CONTENT", xml_safe(joined))
            b.set("SUBS_CONTENT", xml_safe(joined))
