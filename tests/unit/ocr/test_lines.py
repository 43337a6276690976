"""The line finder on the seven real handwritten pages of ../shared/data.

Each page's ground truth (ALTO, from HTR-United's CREMMA sets) gives its text lines'
boxes. A detected line matches a true one when their boxes overlap by half their union
(IoU ≥ 0.5), each used once. Measured when this was written (lines found / true lines,
matches): abrege-arts 22/23, 22; candide p1 33/19, 12 (the title page: a stamp, a
flourish and a title in three sizes); p2 27/23, 21; p3 22/21, 20; p4 22/22, 20;
p5 20/19, 18; verne 47/49, 44. Tesseract's own line boxes (psm 3) matched 151 of the 176
with 92 boxes that are no line (bench/results/transcription.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from service.ocr.lines import find_lines, group_regions
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.unit

PAGES = sorted((SHARED_DATA / "pages").glob("fra-hand-*"))
ALTO = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
Box = tuple[int, int, int, int]


def true_lines(folder: Path) -> list[Box]:
    tree = etree.parse(str(next(folder.glob("*.xml"))))
    boxes = []
    for line in tree.iterfind(".//a:TextLine", ALTO):
        x, y, w, h = (int(float(line.get(k, "0"))) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
        boxes.append((x, y, x + w, y + h))
    return boxes


def iou(a: Box, b: Box) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union else 0.0


def matches(found: list[Box], truth: list[Box]) -> int:
    """One-to-one matches with IoU ≥ 0.5, best pairs first."""
    pairs = sorted(
        ((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)),
        reverse=True,
    )
    used_found: set[int] = set()
    used_truth: set[int] = set()
    for score, i, j in pairs:
        if score < 0.5:
            break
        if i not in used_found and j not in used_truth:
            used_found.add(i)
            used_truth.add(j)
    return len(used_truth)


def scan(folder: Path) -> Image.Image:
    path = next(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    with Image.open(path) as image:
        return image.convert("RGB")


def test_the_seven_handwritten_pages_are_there() -> None:
    assert len(PAGES) == 7


@pytest.mark.parametrize("folder", PAGES, ids=[p.name for p in PAGES])
def test_the_lines_found_on_a_handwritten_page_are_its_lines(folder: Path) -> None:
    truth = true_lines(folder)
    found = find_lines(scan(folder))
    # Plausible count: no page gets half its lines or twice them...
    assert 0.8 * len(truth) <= len(found.lines) <= 1.8 * len(truth)
    # ...and most found lines are true lines, box for box.
    assert matches(found.lines, truth) >= 0.6 * len(truth)
    # The spacing is a line's height, not a word's or a paragraph's.
    heights = sorted(b[3] - b[1] for b in truth)
    assert 0.5 * heights[len(heights) // 2] < found.spacing < 2.0 * heights[len(heights) // 2]
    # Reading order: regions top to bottom, lines in a region top to bottom.
    for region in found.regions:
        tops = [line[1] for line in region.lines]
        assert tops == sorted(tops)


def test_over_the_seven_pages_nine_lines_in_ten_are_found() -> None:
    truth = found = matched = 0
    for folder in PAGES:
        lines = true_lines(folder)
        detected = find_lines(scan(folder)).lines
        truth, found, matched = (
            truth + len(lines),
            found + len(detected),
            matched + matches(detected, lines),
        )
    assert matched >= 0.85 * truth  # measured: 157 of 176
    assert matched >= 0.78 * found  # measured: 157 of 193 boxes are true lines


def test_a_blank_page_has_no_lines() -> None:
    assert find_lines(Image.new("L", (1200, 1600), 235)).lines == []


def test_lines_far_apart_or_starting_elsewhere_are_separate_regions() -> None:
    lines = [
        (100, 100, 900, 130),
        (100, 140, 880, 170),
        (100, 300, 900, 330),
        (950, 340, 1200, 370),
    ]
    regions = group_regions(lines, spacing=40)
    assert [len(r.lines) for r in regions] == [2, 1, 1]
    assert regions[0].bbox == (100, 100, 900, 170)
