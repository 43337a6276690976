"""Page layout after recognition: reading order, the role of each block, and legibility.

Reading order is a recursive XY cut over the block boxes: horizontal bands top to bottom,
columns left to right within a band, so a two-column page is read column by column while a
heading across both columns comes first. Narrow blocks in the outer margins are marginalia
and follow the text block beside them. Page furniture (running heads, page numbers,
catchwords) and footnotes are recognised from position, size and shape.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace

from service.documents.models import SegmentKind
from service.ocr.engines.base import BBox, Block, Line, PageLayout, Word

_PAGE_NUMBER = re.compile(r"^[\[(]?\s*(\d{1,4}|[ivxlcdm]{1,7})\s*[.)\]]?$", re.IGNORECASE)
_FOOTNOTE_MARK = re.compile(r"^(\*+\)?|\d{1,2}\)|\(\d{1,2}\)|[a-z]\)|\u2020|\u2021)\s")
MARGIN_WIDTH = 0.22  # of the text area's width
EDGE_BAND = 0.08  # of the text area's height, where furniture sits


@dataclass(frozen=True)
class Legibility:
    """Whether the page's text can be trusted, from its word confidences."""

    readable: bool
    mean_confidence: float | None
    low_fraction: float
    threshold: float
    reason: str | None = None


def order_and_classify(layout: PageLayout) -> PageLayout:
    """Return the layout with blocks in reading order and each block's kind set."""
    blocks = [b for b in layout.blocks if b.words]
    if not blocks:
        return layout
    area = _union([b.bbox for b in blocks])
    margins = [b for b in blocks if _is_marginal(b, blocks, area)]
    main = [b for b in blocks if b not in margins]
    ordered = _split_numbers(_xy_cut(main))
    for note in sorted(margins, key=lambda b: b.bbox[1]):
        ordered.insert(_after_neighbour(note, ordered), note)
    kinds = classify(ordered, set(map(id, margins)), area)
    for block, kind in zip(ordered, kinds, strict=True):
        block.kind = kind.value
    return replace(layout, blocks=ordered)


def reading_order(boxes: list[BBox]) -> list[int]:
    """Indices of the boxes in reading order (the XY cut OCR blocks are ordered by)."""
    blocks = [Block(bbox=box) for box in boxes]
    position = {id(block): i for i, block in enumerate(blocks)}
    return [position[id(block)] for block in _xy_cut(blocks)]


def _xy_cut(blocks: list[Block]) -> list[Block]:
    """Columns left to right where there are columns; otherwise sections top to bottom."""
    if len(blocks) <= 1:
        return list(blocks)
    sections = _sections(_split(blocks, axis=1))
    if len(sections) > 1:
        return [b for section in sections for b in _xy_cut(section)]
    columns = _split(blocks, axis=0)
    if len(columns) > 1:
        return [b for column in columns for b in _xy_cut(column)]
    return sorted(blocks, key=lambda b: (b.bbox[1], b.bbox[0]))


def _sections(rows: list[list[Block]]) -> list[list[Block]]:
    """Consecutive rows that fall into the same columns form one section."""
    sections: list[list[Block]] = [rows[0]]
    for row in rows[1:]:
        joined = sections[-1] + row
        if len(_split(sections[-1], axis=0)) > 1 and len(_split(joined, axis=0)) > 1:
            sections[-1] = joined
        else:
            sections.append(row)
    return sections


def _split(blocks: list[Block], axis: int) -> list[list[Block]]:
    """Groups of blocks separated by a gap along an axis (1: rows, 0: columns)."""
    ordered = sorted(blocks, key=lambda b: b.bbox[axis])
    groups: list[list[Block]] = [[ordered[0]]]
    reach = ordered[0].bbox[axis + 2]
    for block in ordered[1:]:
        # Between rows, a small overlap (a descender, touching boxes) does not join them.
        slack = 0.25 * min(_size(block, axis), _size(groups[-1][-1], axis)) if axis else 0
        if block.bbox[axis] >= reach - slack:
            groups.append([block])
        else:
            groups[-1].append(block)
        reach = max(reach, block.bbox[axis + 2])
    return groups


def _size(block: Block, axis: int) -> int:
    return block.bbox[axis + 2] - block.bbox[axis]


def _split_numbers(blocks: list[Block]) -> list[Block]:
    """Split a page number read on the same line as a running head into its own block."""
    result = []
    for block in blocks:
        words = block.words
        if len(block.lines) != 1 or len(words) < 2:
            result.append(block)
            continue
        first, last = words[0], words[-1]
        if _PAGE_NUMBER.match(last.text) and _gap(words[-2].bbox, last.bbox) > 3 * _h(last.bbox):
            result += [_block(words[:-1]), _block([last])]
        elif _PAGE_NUMBER.match(first.text) and _gap(first.bbox, words[1].bbox) > 3 * _h(
            first.bbox
        ):
            result += [_block([first]), _block(words[1:])]
        else:
            result.append(block)
    return result


def _gap(left: BBox, right: BBox) -> int:
    return right[0] - left[2]


def _h(box: BBox) -> int:
    return max(1, box[3] - box[1])


def _block(words: list[Word]) -> Block:
    box = _union([w.bbox for w in words])
    return Block(bbox=box, lines=[Line(bbox=box, words=words)])


def _is_marginal(block: Block, blocks: list[Block], area: BBox) -> bool:
    width = area[2] - area[0]
    x0, y0, x1, y1 = block.bbox
    if x1 - x0 > MARGIN_WIDTH * width or _is_page_number(block):
        return False
    in_margin = x1 <= area[0] + MARGIN_WIDTH * width or x0 >= area[2] - MARGIN_WIDTH * width
    beside_text = any(
        other is not block
        and _overlap(y0, y1, other.bbox[1], other.bbox[3]) > 0.5 * (y1 - y0)
        and (other.bbox[2] - other.bbox[0]) > 0.4 * width
        and (other.bbox[0] >= x1 or other.bbox[2] <= x0)
        for other in blocks
    )
    return in_margin and beside_text


def _after_neighbour(note: Block, ordered: list[Block]) -> int:
    best, best_overlap = len(ordered), 0
    for i, block in enumerate(ordered):
        overlap = _overlap(note.bbox[1], note.bbox[3], block.bbox[1], block.bbox[3])
        if overlap > best_overlap:
            best, best_overlap = i + 1, overlap
    return best


def classify(blocks: list[Block], marginal: set[int], area: BBox) -> list[SegmentKind]:
    """The kind of each block, given in reading order."""
    body = statistics.median(_line_heights(blocks)) if blocks else 0.0
    height = max(1, area[3] - area[1])
    top, bottom = area[1] + EDGE_BAND * height, area[3] - EDGE_BAND * height
    kinds = []
    for i, block in enumerate(blocks):
        kind = _kind(block, i, blocks, marginal, (top, bottom, body))
        if kind is SegmentKind.PARAGRAPH and single_centred(block, area):
            kind = SegmentKind.HEADING
        kinds.append(kind)
    return _footnotes(blocks, kinds, body)


def _kind(
    block: Block,
    i: int,
    blocks: list[Block],
    marginal: set[int],
    frame: tuple[float, float, float],
) -> SegmentKind:
    top, bottom, body = frame
    single = len(block.lines) == 1
    at_top, at_bottom = block.bbox[3] <= top, block.bbox[1] >= bottom
    if id(block) in marginal:
        return SegmentKind.MARGINALIA
    if single and (at_top or at_bottom) and _is_page_number(block):
        return SegmentKind.PAGE_NUMBER
    if single and at_top and any(_is_page_number(b) for b in blocks if b.bbox[3] <= top):
        return SegmentKind.RUNNING_HEAD
    if single and at_bottom and i == len(blocks) - 1 and len(block.words) <= 2:
        return SegmentKind.CATCHWORD
    if len(block.lines) <= 2 and body and _line_height(block) > 1.3 * body:
        return SegmentKind.HEADING
    return SegmentKind.PARAGRAPH


def single_centred(block: Block, area: BBox) -> bool:
    """A short single line centred on the text area: a title or heading."""
    width = area[2] - area[0]
    centre = (block.bbox[0] + block.bbox[2]) / 2
    narrow = block.bbox[2] - block.bbox[0] < 0.6 * width
    return len(block.lines) == 1 and narrow and abs(centre - (area[0] + area[2]) / 2) < 0.08 * width


def _footnotes(blocks: list[Block], kinds: list[SegmentKind], body: float) -> list[SegmentKind]:
    """Blocks below the running text set smaller, or opening with a note mark, are notes."""
    prose = [i for i, k in enumerate(kinds) if k is SegmentKind.PARAGRAPH]
    if len(prose) < 2:
        return kinds
    lowest_main = max(prose, key=lambda i: blocks[i].bbox[3])
    for i in prose:
        block = blocks[i]
        below_half = block.bbox[1] > blocks[prose[0]].bbox[1]
        smaller = body and _line_height(block) < 0.8 * body
        marked = _FOOTNOTE_MARK.match(block.text) is not None
        if below_half and i == lowest_main and (smaller or marked):
            kinds[i] = SegmentKind.FOOTNOTE
    return kinds


def assess(layout: PageLayout, low_confidence: float) -> Legibility:
    """Judge whether Tesseract could read the page (handwriting and noise score low)."""
    words = [w for b in layout.blocks for w in b.words]
    if not words:
        reason = "needs manual transcription: no text was found on the page"
        return Legibility(False, None, 1.0, low_confidence, reason)
    mean = sum(w.confidence for w in words) / len(words)
    low = sum(1 for w in words if w.confidence < low_confidence) / len(words)
    if mean < UNREADABLE_MEAN or low > UNREADABLE_LOW_FRACTION:
        reason = (
            f"needs manual transcription: mean word confidence {mean:.0f}, "
            f"{low:.0%} of words below {low_confidence:.0f} (handwriting or an unreadable scan)"
        )
        return Legibility(False, mean, low, low_confidence, reason)
    return Legibility(True, mean, low, low_confidence)


# Measured on ../shared/data: printed pages score 75–95 mean, handwritten pages below 55.
UNREADABLE_MEAN = 55.0
UNREADABLE_LOW_FRACTION = 0.5


def _is_page_number(block: Block) -> bool:
    return len(block.lines) == 1 and _PAGE_NUMBER.match(block.text.strip()) is not None


def _line_heights(blocks: list[Block]) -> list[float]:
    return [float(line.bbox[3] - line.bbox[1]) for b in blocks for line in b.lines] or [0.0]


def _line_height(block: Block) -> float:
    return float(statistics.median(_line_heights([block])))


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _union(boxes: list[BBox]) -> BBox:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
