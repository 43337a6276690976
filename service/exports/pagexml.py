"""PAGE XML 2019-07-15 export: one file per page, zipped (with the page images on request).

Regions are segments, with their lines and words and coordinates. Each region and line
carries its diplomatic text as the main `TextEquiv` (index 1) and the normalised form as
a second one (index 2, `comments="normalised"`). The translation goes into a parallel
file per page under `translation/`: the same region ids and coordinates, one line per
region holding the translated text. eScriptorium imports such a file as a second
transcription layer of the same page ("Import → Transcription (XML)", named e.g.
"translation"), and Transkribus as another text version. A translated region that a
check doubted says why in its `comments` ("[needs check: …]").
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from typing import IO, Any

from lxml import etree

from service.exports import images
from service.exports.model import (
    ExportDocument,
    ExportLine,
    ExportPage,
    ExportSegment,
    SourceLayer,
    xml_safe,
)
from service.storage import Storage
from service.text import normalise
from service.translation.doubts import mark

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
P = f"{{{PAGE_NS}}}"
SCHEMA_LOCATION = f"{PAGE_NS} {PAGE_NS}/pagecontent.xsd"
NSMAP: Any = {None: PAGE_NS, "xsi": XSI_NS}
DEFAULT_NS: Any = {None: PAGE_NS}
REGION_TYPES = {
    "paragraph": "paragraph",
    "heading": "heading",
    "footnote": "footnote",
    "marginalia": "marginalia",
    "running_head": "header",
    "page_number": "page-number",
    "catchword": "catch-word",
    "manual": "paragraph",
    "unreadable": "other",
}


def write_zip(document: ExportDocument, out: IO[bytes], storage: Storage) -> None:
    """Write `page/NNNN.xml` per page (+ `translation/NNNN.xml`) into a zip; the images, on
    request, beside the folders (the layout of a Transkribus export, which eScriptorium reads)."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for page in document.pages:
            name = images.file_name(page, storage)
            with archive.open(f"page/{page.number:04d}.xml", "w") as member:
                write_page(page, document, member, name)
            if document.has_translation:
                with archive.open(f"translation/{page.number:04d}.xml", "w") as member:
                    write_translation(page, document, member, name)
            if document.options.images and page.image_sha256:
                images.add_to_zip(archive, storage, page.image_sha256, name)


def write_page(page: ExportPage, document: ExportDocument, out: IO[bytes], image: str) -> None:
    """Stream one page's PAGE XML: regions, lines, words, diplomatic and normalised text."""
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with _root(xf, f"palimpsest-{document.id}-p{page.number}"):
            xf.write(_metadata(document), pretty_print=True)
            with xf.element(P + "Page", _page_attrs(page, image)):
                if page.segments:
                    xf.write(_reading_order(page), pretty_print=True)
                for segment in page.segments:
                    xf.write(_region(segment, document.options.source), pretty_print=True)


def write_translation(
    page: ExportPage, document: ExportDocument, out: IO[bytes], image: str
) -> None:
    """Stream a page whose regions hold the translation, for import as a second layer."""
    translated = [s for s in page.segments if s.translation]
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with _root(xf, f"palimpsest-{document.id}-p{page.number}-translation"):
            xf.write(_metadata(document, f"translation into {document.target_lang}"))
            with xf.element(P + "Page", _page_attrs(page, image)):
                if translated:
                    xf.write(_reading_order(page, translated), pretty_print=True)
                for segment in translated:
                    xf.write(_translated_region(segment), pretty_print=True)


def _root(xf: etree._IncrementalFileWriter, pcgts_id: str) -> etree._FileWriterElement:
    return xf.element(
        P + "PcGts",
        {f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION, "pcGtsId": pcgts_id},
        nsmap=NSMAP,
    )


def _el(parent: etree._Element | None, tag: str, **attrs: str) -> etree._Element:
    if parent is None:  # a subtree written on its own declares the default namespace
        return etree.Element(P + tag, attrs, nsmap=DEFAULT_NS)
    return etree.SubElement(parent, P + tag, attrs)


def _metadata(document: ExportDocument, comment: str | None = None) -> etree._Element:
    meta = _el(None, "Metadata")
    _el(meta, "Creator").text = "Palimpsest"
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    created = (
        document.created.replace(microsecond=0, tzinfo=None).isoformat()
        if document.created
        else now
    )
    _el(meta, "Created").text = created
    _el(meta, "LastChange").text = now
    text = xml_safe(f"{document.title}{' — ' + comment if comment else ''}")
    _el(meta, "Comments").text = text
    return meta


def _page_attrs(page: ExportPage, image: str) -> dict[str, str]:
    width, height = _size(page)
    attrs = {"imageFilename": xml_safe(image), "imageWidth": str(width), "imageHeight": str(height)}
    if page.dpi:
        attrs |= {"imageXResolution": str(page.dpi), "imageYResolution": str(page.dpi)}
    return attrs


def _size(page: ExportPage) -> tuple[int, int]:
    right = max((s.bbox[2] for s in page.segments), default=1)
    bottom = max((s.bbox[3] for s in page.segments), default=1)
    return max(page.width or 0, right, 1), max(page.height or 0, bottom, 1)


def _reading_order(page: ExportPage, segments: list[ExportSegment] | None = None) -> etree._Element:
    order = _el(None, "ReadingOrder")
    group = _el(order, "OrderedGroup", id=f"ro-{page.number}")
    for index, segment in enumerate(segments if segments is not None else page.segments):
        _el(group, "RegionRefIndexed", index=str(index), regionRef=_region_id(segment))
    return order


def _region(segment: ExportSegment, layer: SourceLayer) -> etree._Element:
    region = _el(None, "TextRegion", id=_region_id(segment), type=REGION_TYPES[segment.kind])
    _coords(region, segment.bbox)
    for i, line in enumerate(segment.lines):
        _line(region, f"{_region_id(segment)}_l{i + 1}", line, layer)
    _text_equivs(region, segment.diplomatic, segment.normalized, layer, segment.confidence)
    return region


def _line(region: etree._Element, line_id: str, line: ExportLine, layer: SourceLayer) -> None:
    element = _el(region, "TextLine", id=line_id)
    _coords(element, line.bbox or _region_box(region), line.polygon)
    if line.baseline:
        _el(element, "Baseline", points=_points(line.baseline))
    for j, word in enumerate(line.words):
        if word.bbox is None:
            continue
        w = _el(element, "Word", id=f"{line_id}_w{j + 1}")
        _coords(w, word.bbox, word.polygon)
        _text_equivs(w, word.text, normalise(word.text), layer, word.conf)
    _text_equivs(element, line.text, normalise(line.text), layer, None)


def _region_box(region: etree._Element) -> tuple[int, int, int, int]:
    coords = region.find(P + "Coords")
    points = (
        [tuple(int(v) for v in p.split(",")) for p in (coords.get("points") or "").split()]
        if coords is not None
        else []
    )
    xs, ys = [p[0] for p in points] or [0], [p[1] for p in points] or [0]
    return (min(xs), min(ys), max(xs), max(ys))


def _text_equivs(
    parent: etree._Element, diplomatic: str, normalized: str, layer: SourceLayer, conf: float | None
) -> None:
    if layer is not SourceLayer.NORMALIZED:
        _text_equiv(parent, diplomatic, 1, conf, None)
    if layer is not SourceLayer.DIPLOMATIC and (
        layer is SourceLayer.NORMALIZED or normalized != diplomatic
    ):
        _text_equiv(parent, normalized, 2 if layer is SourceLayer.BOTH else 1, None, "normalised")


def _text_equiv(
    parent: etree._Element, text: str, index: int, conf: float | None, comments: str | None
) -> None:
    equiv = _el(parent, "TextEquiv", index=str(index))
    if conf is not None:
        equiv.set("conf", f"{max(0.0, min(conf, 100.0)) / 100:.3f}")
    if comments:
        equiv.set("comments", comments)
    _el(equiv, "Unicode").text = xml_safe(text)


def _translated_region(segment: ExportSegment) -> etree._Element:
    region = _el(None, "TextRegion", id=_region_id(segment), type=REGION_TYPES[segment.kind])
    if segment.doubts:  # the checks' reasons, where PAGE keeps a region's remarks
        region.set("comments", xml_safe(mark(segment.doubts)))
    _coords(region, segment.bbox)
    line = _el(region, "TextLine", id=f"{_region_id(segment)}_t1")
    _coords(line, segment.bbox)
    text = segment.translation or ""
    _text_equiv(line, text, 1, None, "translation")
    _text_equiv(region, text, 1, None, "translation")
    return region


def _coords(
    parent: etree._Element,
    bbox: tuple[int, int, int, int],
    polygon: tuple[tuple[int, int], ...] = (),
) -> None:
    if len(polygon) >= 3:
        _el(parent, "Coords", points=_points(polygon))
        return
    x0, y0, x1, y1 = bbox
    _el(parent, "Coords", points=_points(((x0, y0), (x1, y0), (x1, y1), (x0, y1))))


def _points(points: tuple[tuple[int, int], ...]) -> str:
    return " ".join(f"{max(0, x)},{max(0, y)}" for x, y in points)


def _region_id(segment: ExportSegment) -> str:
    return f"r{segment.id}"
