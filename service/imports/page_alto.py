"""Reading PAGE XML (any version: 2013, 2017, 2019) and ALTO (v2–v4) into regions, lines and
words with their coordinates, as Transkribus, eScriptorium and OCR-D write them.

Elements are matched by local name, so every namespace version reads the same way.
Coordinates are returned in the pixel space of the XML; the caller scales them to the
image it pairs the file with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

from lxml import etree

from service.errors import UnreadableFile

Point = tuple[int, int]
BBox = tuple[int, int, int, int]
PAGE_KINDS = {
    "paragraph": "paragraph",
    "heading": "heading",
    "caption": "paragraph",
    "header": "running_head",
    "footer": "running_head",
    "page-number": "page_number",
    "catch-word": "catchword",
    "signature-mark": "catchword",
    "marginalia": "marginalia",
    "footnote": "footnote",
    "footnote-continued": "footnote",
    "endnote": "footnote",
}
# eScriptorium/SegmOnto zone labels (ALTO OtherTag LABEL) → segment kinds.
ZONE_KINDS = [
    ("margin", "marginalia"),
    ("numbering", "page_number"),
    ("runningtitle", "running_head"),
    ("quiremarks", "catchword"),
    ("catch", "catchword"),
    ("footnote", "footnote"),
    ("title", "heading"),
    ("heading", "heading"),
]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CUSTOM_TYPE = re.compile(r"structure\s*\{[^}]*type:\s*([\w-]+)")


@dataclass
class Word:
    """A word with its box, polygon and confidence (0–100)."""

    text: str
    bbox: BBox
    conf: float | None = None
    polygon: list[Point] = field(default_factory=list)


@dataclass
class Line:
    """A text line with its box, polygon, baseline and words."""

    text: str
    bbox: BBox
    polygon: list[Point] = field(default_factory=list)
    baseline: list[Point] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)


@dataclass
class Region:
    """A text block: becomes one segment."""

    kind: str
    bbox: BBox
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The diplomatic text, one line per line."""
        return "\n".join(line.text for line in self.lines)


@dataclass
class Layout:
    """One page as another tool transcribed it."""

    format: str  # "PAGE" or "ALTO"
    creator: str
    image_name: str
    width: int
    height: int
    regions: list[Region]


def parse(data: bytes, name: str) -> Layout:
    """Read a PAGE or ALTO file; raise UnreadableFile saying why it cannot be used."""
    try:
        root = etree.fromstring(
            data, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        )
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(f"{name} is not well-formed XML: {exc}") from exc
    local = etree.QName(root).localname
    if local == "PcGts":
        return _page(root, name)
    if local == "alto":
        return _alto(root, name)
    raise UnreadableFile(f"{name} is neither PAGE XML nor ALTO (root element <{local}>).")


def _children(element: etree._Element, local: str) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == local]


def _child(element: etree._Element, local: str) -> etree._Element | None:
    found = _children(element, local)
    return found[0] if found else None


def _descendants(element: etree._Element, local: str) -> list[etree._Element]:
    return [
        e for e in element.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local
    ]


def _points(value: str | None) -> list[Point]:
    numbers = [round(float(n)) for n in _NUMBER.findall(value or "")]
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers) - 1, 2)]


def _bbox(points: list[Point]) -> BBox | None:
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def _basename(path: str) -> str:
    return PureWindowsPath(PurePosixPath(path).name).name


# --- PAGE -----------------------------------------------------------------------------


def _page(root: etree._Element, name: str) -> Layout:
    page = _child(root, "Page")
    if page is None:
        raise UnreadableFile(f"{name}: PAGE file without a <Page> element.")
    creator = (root.findtext(".//{*}Metadata/{*}Creator") or "").strip()
    try:
        width, height = int(page.get("imageWidth", "0")), int(page.get("imageHeight", "0"))
    except ValueError as exc:
        raise UnreadableFile(f"{name}: imageWidth/imageHeight are not numbers.") from exc
    regions = [r for r in (_page_region(e) for e in _ordered_regions(page)) if r is not None]
    return Layout("PAGE", creator, _basename(page.get("imageFilename", "")), width, height, regions)


def _ordered_regions(page: etree._Element) -> list[etree._Element]:
    regions = _descendants(page, "TextRegion")
    by_id = {r.get("id"): r for r in regions}
    order = page.find("{*}ReadingOrder")
    ordered: list[etree._Element] = []
    if order is not None:
        for ref in order.iter():
            if isinstance(ref.tag, str) and ref.get("regionRef") in by_id:
                region = by_id[ref.get("regionRef")]
                if region not in ordered:
                    ordered.append(region)
    return ordered + [r for r in regions if r not in ordered]


def _page_kind(region: etree._Element) -> str:
    kind = region.get("type")
    custom = _CUSTOM_TYPE.search(region.get("custom", ""))
    if kind is None and custom:
        kind = custom.group(1)
    return PAGE_KINDS.get(kind or "paragraph", "paragraph")


def _page_region(region: etree._Element) -> Region | None:
    coords = region.find("{*}Coords")
    polygon = _points(coords.get("points") if coords is not None else None)
    lines = [
        line for line in (_page_line(e) for e in _children(region, "TextLine")) if line.text.strip()
    ]
    if not lines:
        text = _text_equiv(region)
        box = _bbox(polygon)
        if not text.strip() or box is None:
            return None
        lines = [Line(t, box) for t in text.split("\n")]
    box = _bbox(polygon) or _union([line.bbox for line in lines])
    return Region(_page_kind(region), box, lines)


def _page_line(line: etree._Element) -> Line:
    coords = _child(line, "Coords")
    polygon = _points(coords.get("points") if coords is not None else None)
    baseline_el = _child(line, "Baseline")
    baseline = _points(baseline_el.get("points") if baseline_el is not None else None)
    words = [w for w in (_page_word(e) for e in _children(line, "Word")) if w is not None]
    text = _text_equiv(line) or " ".join(w.text for w in words)
    box = _bbox(polygon) or _union([w.bbox for w in words]) or (0, 0, 0, 0)
    return Line(text, box, polygon, baseline, words)


def _page_word(word: etree._Element) -> Word | None:
    coords = _child(word, "Coords")
    polygon = _points(coords.get("points") if coords is not None else None)
    box = _bbox(polygon)
    text = _text_equiv(word)
    if box is None or not text:
        return None
    return Word(text, box, _conf(_main_equiv(word)), polygon)


def _main_equiv(element: etree._Element) -> etree._Element | None:
    """The TextEquiv with the lowest index (PAGE: the main text content)."""
    equivs = _children(element, "TextEquiv")
    if not equivs:
        return None
    return min(
        equivs, key=lambda e: int(e.get("index", "0")) if e.get("index", "0").isdigit() else 0
    )


def _text_equiv(element: etree._Element) -> str:
    equiv = _main_equiv(element)
    if equiv is None:
        return ""
    unicode = _child(equiv, "Unicode")
    return (unicode.text or "") if unicode is not None else ""


def _conf(equiv: etree._Element | None) -> float | None:
    if equiv is None or equiv.get("conf") is None:
        return None
    try:
        return round(float(equiv.get("conf", "")) * 100, 1)
    except ValueError:
        return None


def _union(boxes: list[BBox]) -> BBox:
    if not boxes:
        return (0, 0, 0, 0)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


# --- ALTO -----------------------------------------------------------------------------


def _alto(root: etree._Element, name: str) -> Layout:
    pages = _descendants(root, "Page")
    if len(pages) != 1:
        raise UnreadableFile(f"{name}: expected one ALTO <Page>, found {len(pages)}.")
    page = pages[0]
    width, height = round(_float(page.get("WIDTH"))), round(_float(page.get("HEIGHT")))
    labels = {t.get("ID"): (t.get("LABEL") or "") for t in _descendants(root, "OtherTag")}
    labels |= {t.get("ID"): (t.get("LABEL") or "") for t in _descendants(root, "StructureTag")}
    regions = [r for r in (_alto_block(b, labels) for b in _descendants(page, "TextBlock")) if r]
    software = root.findtext(".//{*}processingSoftware/{*}softwareName") or ""
    image = root.findtext(".//{*}sourceImageInformation/{*}fileName") or ""
    creator = software.strip() or ("eScriptorium" if "eSc_" in page.get("ID", "") else "")
    return Layout("ALTO", creator, _basename(image.strip()), width, height, regions)


def _float(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def _alto_box(element: etree._Element) -> BBox | None:
    if element.get("HPOS") is None or element.get("WIDTH") is None:
        return None
    x, y = _float(element.get("HPOS")), _float(element.get("VPOS"))
    return (
        round(x),
        round(y),
        round(x + _float(element.get("WIDTH"))),
        round(y + _float(element.get("HEIGHT"))),
    )


def _alto_kind(block: etree._Element, labels: dict[str | None, str]) -> str:
    tags = " ".join(labels.get(ref, "") for ref in (block.get("TAGREFS") or "").split()).lower()
    return next((kind for key, kind in ZONE_KINDS if key in tags), "paragraph")


def _alto_block(block: etree._Element, labels: dict[str | None, str]) -> Region | None:
    lines = [
        line
        for line in (_alto_line(e) for e in _descendants(block, "TextLine"))
        if line.text.strip()
    ]
    if not lines:
        return None
    box = _alto_box(block) or _union([line.bbox for line in lines])
    return Region(_alto_kind(block, labels), box, lines)


def _alto_line(line: etree._Element) -> Line:
    words: list[Word] = []
    parts: list[str] = []
    for child in line:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "String":
            word = _alto_word(child)
            parts.append(word.text)
            if word.bbox != (0, 0, 0, 0):
                words.append(word)
        elif local == "HYP" and parts:
            parts[-1] += child.get("CONTENT", "-")
            if words:
                words[-1].text += child.get("CONTENT", "-")
    shape = line.find("{*}Shape/{*}Polygon")
    polygon = _points(shape.get("POINTS") if shape is not None else None)
    box = _alto_box(line) or _bbox(polygon) or _union([w.bbox for w in words])
    return Line(" ".join(parts), box, polygon, _points(line.get("BASELINE")), words)


def _alto_word(string: etree._Element) -> Word:
    conf = string.get("WC")
    shape = string.find("{*}Shape/{*}Polygon")
    return Word(
        string.get("CONTENT", ""),
        _alto_box(string) or (0, 0, 0, 0),
        round(_float(conf) * 100, 1) if conf is not None else None,
        _points(shape.get("POINTS") if shape is not None else None),
    )
