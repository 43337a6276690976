"""Real Tesseract on rendered text and on real historical scans."""

import pytest
from PIL import Image

from service.ocr.engines.tesseract import TesseractEngine
from tests.conftest import SAMPLES
from tests.support.helpers import text_image

pytestmark = pytest.mark.unit


def test_paragraphs_come_back_as_blocks_in_reading_order_with_boxes() -> None:
    image = text_image(
        [
            ["The first paragraph tells of the harvest", "of the year seventeen hundred."],
            ["A second paragraph follows below it", "and speaks of the winter."],
        ]
    )
    layout = TesseractEngine().recognize(image, "eng")
    assert len(layout.blocks) == 2
    first, second = layout.blocks
    assert "harvest" in first.text and "winter" in second.text
    assert first.bbox[3] <= second.bbox[1]  # the first block sits above the second
    assert len(first.lines) == 2
    assert all(w.confidence > 50 for w in first.words)
    x0, y0, x1, y1 = first.words[0].bbox
    assert 100 <= x0 < x1 <= image.width and 80 <= y0 < y1


def test_a_real_french_page_is_read_with_high_confidence() -> None:
    with Image.open(SAMPLES / "fra-18c-borrdisc-p0019.tif") as scan:
        layout = TesseractEngine().recognize(scan.convert("L"), "fra")
    text = " ".join(b.text for b in layout.blocks)
    assert "MESSIEURS" in text
    assert layout.mean_confidence is not None and layout.mean_confidence > 70
    assert layout.engine.startswith("tesseract 5")


def test_a_real_fraktur_page_is_read_with_the_fraktur_model() -> None:
    with Image.open(SAMPLES / "deu-fraktur-1771-anekdoten-p0084.tif") as scan:
        layout = TesseractEngine().recognize(scan.convert("L"), "frk")
    words = {w.text.strip(".,;:") for b in layout.blocks for w in b.words}
    ground_truth = (SAMPLES / "deu-fraktur-1771-anekdoten-p0084.gt.txt").read_text().split()
    expected = {w.strip(".,;:") for w in ground_truth if len(w) > 4}
    assert len(words & expected) / len(expected) > 0.5


def test_a_black_and_white_page_is_given_to_tesseract_as_one_bit_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from service.ocr.engines import tesseract

    page = text_image(
        [["The vestry met on the third of March", "and agreed upon the poor rate."]]
    ).convert("1")
    grey_page = page.convert("L")
    assert tesseract.netpbm_mode(grey_page) == "1"
    assert tesseract.netpbm_mode(grey_page.point(lambda v: 128 if v == 0 else v)) == "L"
    as_one_bit = TesseractEngine().recognize(grey_page, "eng")
    monkeypatch.setattr(tesseract, "netpbm_mode", lambda image: "L")
    as_grey = TesseractEngine().recognize(grey_page, "eng")
    words = [(w.text, w.bbox) for b in as_one_bit.blocks for w in b.words]
    assert "vestry" in {text for text, _ in words}
    assert words == [(w.text, w.bbox) for b in as_grey.blocks for w in b.words]
