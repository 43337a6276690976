"""The lines found on a page and not typed yet: the transcription editor's starting point.

Stored on the page (`line_layout`) as regions of line boxes, in the coordinates of the
image the page's boxes refer to. A line inside a segment (text read by OCR, or a region
typed since) is left out; the editor's changes to the rest (moved, resized, merged,
deleted) are saved with a version, so two people cannot silently undo each other's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Page, Segment, SegmentKind
from service.errors import EditConflict, InvalidInput
from service.transcription.schemas import DetectedRegion

if TYPE_CHECKING:
    from service.ocr.lines import LineLayout

BBox = tuple[int, int, int, int]
COVERED = 0.5  # a line this much inside a segment's box is already transcribed


def store_detected(session: Session, page: Page, found: LineLayout) -> None:
    """Keep the lines found on the page that no segment holds yet."""
    taken = covering_boxes(session, page.id)
    regions = []
    for region in found.regions:
        lines = [line for line in region.lines if not _inside_any(line, taken)]
        if lines:
            regions.append(_region(lines))
    page.line_layout = {
        "method": found.method,
        "spacing": found.spacing,
        "version": (page.line_layout or {}).get("version", 0) + 1,
        "detected_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "regions": _numbered(regions),
    }


def covering_boxes(session: Session, page_id: int) -> list[BBox]:
    """Boxes of the page's segments that hold text already (typed, or read by OCR)."""
    rows = session.execute(
        select(Segment.x0, Segment.y0, Segment.x1, Segment.y1).where(
            Segment.page_id == page_id, Segment.kind != SegmentKind.UNREADABLE
        )
    )
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in rows]


def forget_covered(page: Page, bbox: BBox) -> None:
    """Drop the untyped lines a new or moved typed region now holds."""
    stored = page.line_layout
    if not stored:
        return
    regions = []
    for region in stored.get("regions", []):
        lines = [line for line in region["lines"] if not inside(tuple(line["bbox"]), bbox)]
        if lines:
            boxes = [tuple(line["bbox"]) for line in lines]
            regions.append(region | {"bbox": list(_union(boxes)), "lines": lines})
    if len(regions) != len(stored.get("regions", [])) or regions != stored.get("regions"):
        page.line_layout = stored | {"regions": regions, "version": stored.get("version", 0) + 1}


def save(session: Session, page_id: int, regions: Sequence[DetectedRegion], version: int) -> Page:
    """Replace the untyped regions with the editor's (moved, resized, merged, deleted)."""
    page = documents.get_page_or_raise(session, page_id)
    session.refresh(page, with_for_update=True)
    stored = page.line_layout or {"version": 0}
    if version != stored.get("version", 0):
        raise EditConflict(
            "The page's lines were changed by someone else since you opened them.",
            "",
            int(stored.get("version", 0)),
        )
    width, height = page.width or 0, page.height or 0
    kept = []
    for region in regions:
        boxes = [_clipped(line.bbox, width, height) for line in region.lines]
        if boxes:
            kept.append(_region(boxes))
    page.line_layout = stored | {
        "method": stored.get("method", "edited"),
        "version": version + 1,
        "regions": _numbered(kept),
    }
    session.flush()
    return page


def regions_of(page: Page) -> list[dict[str, Any]]:
    """The stored untyped regions (empty before detection)."""
    return list((page.line_layout or {}).get("regions", []))


def _region(lines: Sequence[BBox]) -> dict[str, Any]:
    return {"bbox": list(_union(lines)), "lines": [{"bbox": list(b)} for b in lines]}


def _numbered(regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(regions, key=lambda r: (r["bbox"][1], r["bbox"][0]))
    return [region | {"id": f"r{i + 1}"} for i, region in enumerate(ordered)]


def _clipped(bbox: BBox, width: int, height: int) -> BBox:
    x0, y0, x1, y1 = bbox
    if x0 >= width or y0 >= height:
        raise InvalidInput(f"The box {list(bbox)} lies outside the page ({width} × {height}).")
    return (x0, y0, min(x1, width), min(y1, height))


def _inside_any(box: BBox, others: Sequence[BBox]) -> bool:
    return any(inside(box, other) for other in others)


def inside(box: BBox | tuple[Any, ...], container: BBox) -> bool:
    """Whether at least half of `box` lies within `container`."""
    x0, y0, x1, y1 = (int(v) for v in box)
    width = max(0, min(x1, container[2]) - max(x0, container[0]))
    height = max(0, min(y1, container[3]) - max(y0, container[1]))
    area = max(1, (x1 - x0) * (y1 - y0))
    return width * height >= COVERED * area


def _union(boxes: Sequence[BBox | tuple[Any, ...]]) -> BBox:
    return (
        min(int(b[0]) for b in boxes),
        min(int(b[1]) for b in boxes),
        max(int(b[2]) for b in boxes),
        max(int(b[3]) for b in boxes),
    )
