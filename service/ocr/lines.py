"""Finding text lines on a page without reading them: a projection-profile line finder.

Handwriting defeats Tesseract's recognition, and its layout analysis too on many pages: on
the seven handwritten pages of ../shared/data its line boxes (psm 3) matched 151 of the
176 lines of the ground truth (IoU ≥ 0.5), with 92 boxes that are no line, in 10–29 s a
page. This finder matched 157 with 36 spurious ones, in 0.1–0.4 s
(bench/results/transcription.md; tests/unit/ocr/test_lines.py checks it page by page).
It works on a copy of the page about 1,400 pixels high:

1. ink is what Sauvola's local threshold and Otsu's global one both call dark (stains
   and the yellowed paper of old manuscripts are neither), without the dark strips a
   scanner leaves at the edges;
2. the line spacing is the first peak of the autocorrelation of the row profile (how
   much ink each row holds);
3. each line's centre is a peak of the smoothed profile, taken greedily from the highest
   down, at least 0.6 line spacings from the others; between two centres, the emptiest
   row separates their lines;
4. within each band, ink runs separated by more than 1.5 line spacings are separate
   lines (a page number beside a heading, a marginal note beside the text);
5. lines follow each other in a region until a gap of more than 0.8 line spacings (a
   blank line, a title's white space) or a line that starts far from the ones above.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from service.ocr.preprocess import otsu, sauvola

BBox = tuple[int, int, int, int]
Array = NDArray[np.float64]
Mask = NDArray[np.bool_]

METHOD = "projection-profile"
VERSION = 1
WORK_SIDE = 1400  # pixels of the copy the lines are found on
MIN_SPACING = 8.0  # pixels at work size; closer "lines" are noise
DEFAULT_SPACING = 30.0


@dataclass(frozen=True)
class FoundRegion:
    """Consecutive lines of one block of text, top to bottom."""

    bbox: BBox
    lines: list[BBox] = field(default_factory=list)


@dataclass(frozen=True)
class LineLayout:
    """The lines and regions found on a page, in its pixels, and the line spacing."""

    width: int
    height: int
    spacing: float
    regions: list[FoundRegion]
    method: str = METHOD

    @property
    def lines(self) -> list[BBox]:
        """Every line in reading order."""
        return [line for region in self.regions for line in region.lines]


def find_lines(image: Image.Image) -> LineLayout:
    """The text lines of a page image, grouped into regions."""
    gray = image.convert("L")
    scale = min(1.0, WORK_SIDE / max(gray.size))
    small = gray.resize(
        (max(1, round(gray.width * scale)), max(1, round(gray.height * scale))),
        Image.Resampling.BOX,
    )
    ink = ink_mask(np.asarray(small))
    spacing = line_spacing(ink)
    boxes = [_scaled(box, scale) for box in _line_boxes(ink, spacing)]
    regions = group_regions(boxes, spacing / scale)
    return LineLayout(image.width, image.height, round(spacing / scale, 1), regions)


def ink_mask(gray: NDArray[np.uint8]) -> Mask:
    """Pixels that are writing: dark locally and globally, away from the scan's edges."""
    height, width = gray.shape
    values = gray.astype(np.float64)
    window = max(15, (width // 40) | 1)
    ink: Mask = ~sauvola(values, window, k=0.3) & (values < otsu(gray) + 10)
    ink[:, ink.mean(axis=0) > 0.35] = False  # dark strips: the book's edge, a ruler
    ink[ink.mean(axis=1) > 0.35, :] = False
    side, end = int(0.02 * width), int(0.01 * height)
    ink[:, :side] = False
    ink[:, width - side :] = False
    ink[:end, :] = False
    ink[height - end :, :] = False
    return ink


def line_spacing(ink: Mask) -> float:
    """Distance between the lines' centres: the autocorrelation's first peak of the rows."""
    profile = smooth(ink.sum(axis=1).astype(np.float64), 2.0)
    centred = profile - profile.mean()
    if not centred.any():
        return DEFAULT_SPACING
    correlation = np.correlate(centred, centred, mode="full")[len(centred) - 1 :]
    negative = np.flatnonzero(correlation < 0)
    if not negative.size:
        return DEFAULT_SPACING
    start = int(negative[0])
    window = correlation[start : start + max(1, len(centred) // 3)]
    spacing = float(start + int(np.argmax(window)))
    return spacing if spacing >= MIN_SPACING else DEFAULT_SPACING


def smooth(values: Array, sigma: float) -> Array:
    """Gaussian smoothing of a profile (edges treated as empty)."""
    radius = int(3 * sigma) + 1
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    result: Array = np.convolve(values, kernel / kernel.sum(), mode="same")
    return result


def _line_boxes(ink: Mask, spacing: float) -> list[BBox]:
    profile = smooth(ink.sum(axis=1).astype(np.float64), max(1.5, spacing / 6))
    boxes: list[BBox] = []
    for top, bottom in _bands(profile, spacing):
        boxes += _pieces(ink, top, bottom, spacing)
    return boxes


def _bands(profile: Array, spacing: float) -> list[tuple[int, int]]:
    """Rows of each line: from the emptiest row above its centre to the one below."""
    centres = _centres(profile, spacing)
    reach = int(0.6 * spacing)
    bands = []
    for i, centre in enumerate(centres):
        if i:
            before = centres[i - 1]
            top = before + int(np.argmin(profile[before : centre + 1]))
        else:
            top = max(0, centre - reach)
        if i + 1 < len(centres):
            bottom = centre + int(np.argmin(profile[centre : centres[i + 1] + 1]))
        else:
            bottom = min(len(profile), centre + reach)
        bands.append((top, bottom))
    return bands


def _centres(profile: Array, spacing: float) -> list[int]:
    """Peaks of the profile, highest first, no two closer than 0.6 line spacings."""
    if not (profile > 0).any():
        return []
    floor = 0.15 * float(np.percentile(profile[profile > 0], 90))
    keep_off = int(0.6 * spacing)
    taken = np.zeros(len(profile), dtype=bool)
    centres = []
    for row in np.argsort(-profile, kind="stable"):
        if profile[row] < floor:
            break
        if taken[max(0, row - keep_off) : row + keep_off + 1].any():
            continue
        taken[row] = True
        centres.append(int(row))
    return sorted(centres)


def _pieces(ink: Mask, top: int, bottom: int, spacing: float) -> list[BBox]:
    """The band's ink split where it leaves more than 1.5 line spacings blank."""
    band = ink[top:bottom]
    profile = smooth(band.sum(axis=0).astype(np.float64), max(1.0, spacing / 3))
    columns = np.flatnonzero(profile > 0.5)
    if not columns.size:
        return []
    gaps = np.flatnonzero(np.diff(columns) > 1.5 * spacing)
    starts = np.concatenate(([columns[0]], columns[gaps + 1]))
    ends = np.concatenate((columns[gaps], [columns[-1]]))
    boxes = []
    for x0, x1 in zip(starts.tolist(), ends.tolist(), strict=True):
        piece = band[:, x0 : x1 + 1]
        rows = np.flatnonzero(piece.any(axis=1))
        # Too narrow, or too little ink for a word: a speck, a stain, a stroke of a neighbour.
        if x1 - x0 < 0.6 * spacing or piece.sum() < 0.0125 * spacing * (x1 - x0):
            continue
        boxes.append((x0, top + int(rows[0]), x1 + 1, top + int(rows[-1]) + 1))
    return boxes


def _scaled(box: BBox, scale: float) -> BBox:
    x0, y0, x1, y1 = box
    return (round(x0 / scale), round(y0 / scale), round(x1 / scale), round(y1 / scale))


def group_regions(lines: list[BBox], spacing: float) -> list[FoundRegion]:
    """Consecutive lines in one region until a wide gap or a line that starts elsewhere."""
    ordered = sorted(lines, key=lambda b: (b[1], b[0]))
    groups: list[list[BBox]] = []
    for line in ordered:
        if groups and _continues(groups[-1], line, spacing):
            groups[-1].append(line)
        else:
            groups.append([line])
    return [FoundRegion(union(group), group) for group in groups]


def _continues(region: list[BBox], line: BBox, spacing: float) -> bool:
    above = union(region)
    gap = line[1] - max(b[3] for b in region[-2:])
    overlap = min(above[2], line[2]) - max(above[0], line[0])
    return gap <= 0.8 * spacing and overlap > 0.5 * min(line[2] - line[0], above[2] - above[0])


def union(boxes: list[BBox]) -> BBox:
    """The smallest box holding every box."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
