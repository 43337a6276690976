"""The OCR stage on real pages: layers, orientation, reading order, legibility."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from service.documents.models import SegmentKind
from service.ocr.engines.tesseract import TesseractEngine
from service.ocr.languages import ocr_models
from service.ocr.reading import Reading, read_image
from service.text import normalise
from tests.conftest import SAMPLES, SHARED_DATA
from tests.support.helpers import FONT

pytestmark = pytest.mark.unit

ENGINE = TesseractEngine()


def read(image: Image.Image, tag: str, dpi: int | None = 300) -> Reading:
    return read_image(image, dpi, ocr_models(tag), ENGINE)


def test_a_fraktur_page_keeps_long_s_in_the_diplomatic_layer_only() -> None:
    with Image.open(SAMPLES / "deu-fraktur-1771-anekdoten-p0084.tif") as scan:
        reading = read(scan.convert("RGB"), "de-Latf")
    diplomatic = "\n".join(b.text for b in reading.layout.blocks)
    normalised = normalise(diplomatic)
    assert diplomatic.count("ſ") > 20
    assert "ſ" not in normalised
    assert "Menſch" in diplomatic and "Mensch" in normalised
    assert reading.legibility.readable


def furnished_page() -> Image.Image:
    body = ImageFont.truetype(str(FONT), 40)
    small = ImageFont.truetype(str(FONT), 28)
    page = Image.new("L", (1800, 2600), 255)
    draw = ImageDraw.Draw(page)
    draw.text((200, 120), "HISTORY OF THE VALLEY", font=body, fill=0)
    draw.text((1500, 120), "42", font=body, fill=0)
    y = 330
    for _paragraph in range(3):
        for line in (
            "The river rose in the spring and the",
            "farmers moved their cattle to the hills",
            "where the grass was green and thick.",
        ):
            draw.text((200, y), line, font=body, fill=0)
            y += 62
        y += 62
    y += 200
    for line in (
        "*) So the parish book of the year says,",
        "written by the schoolmaster of the place.",
    ):
        draw.text((200, y), line, font=small, fill=0)
        y += 42
    draw.text((1400, 2420), "whereupon", font=body, fill=0)
    return page


def test_running_head_page_number_catchword_and_footnote_are_told_apart() -> None:
    reading = read(furnished_page(), "en")
    kinds = {b.text.split()[0]: b.kind for b in reading.layout.blocks}
    assert kinds["HISTORY"] == SegmentKind.RUNNING_HEAD
    assert kinds["42"] == SegmentKind.PAGE_NUMBER
    assert kinds["The"] == SegmentKind.PARAGRAPH
    assert kinds["*)"] == SegmentKind.FOOTNOTE
    assert kinds["whereupon"] == SegmentKind.CATCHWORD


def test_a_page_turned_by_90_degrees_is_put_upright() -> None:
    with Image.open(SAMPLES / "fra-18c-borrdisc-p0019.tif") as scan:
        sideways = scan.convert("RGB").rotate(90, expand=True)
    reading = read(sideways, "fr")
    assert reading.prepared.rotation == 90
    assert reading.prepared.image.height > reading.prepared.image.width
    text = " ".join(b.text for b in reading.layout.blocks)
    assert "MESSIEURS" in text
    assert reading.legibility.readable


def two_column_page() -> Image.Image:
    font = ImageFont.truetype(str(FONT), 40)
    title = ImageFont.truetype(str(FONT), 64)
    page = Image.new("L", (2400, 1700), 255)
    draw = ImageDraw.Draw(page)
    draw.text((700, 100), "CHAPTER THE FIRST", font=title, fill=0)
    left = ["The harvest came early", "in the northern valleys", "and the mills were busy"]
    right = ["The winter that followed", "was long and very cold", "so the rivers froze hard"]
    for column, lines in ((150, left), (1300, right)):
        y = 320
        for paragraph in range(3):
            for line in lines:
                draw.text((column, y), f"{line} {paragraph + 1}", font=font, fill=0)
                y += 60
            y += 60
    return page


def test_a_two_column_page_is_read_column_by_column() -> None:
    reading = read(two_column_page(), "en")
    texts = [b.text for b in reading.layout.blocks]
    assert "CHAPTER" in texts[0]
    body = " ".join(texts[1:])
    # Every paragraph of the left column comes before any of the right column.
    assert body.rindex("harvest") < body.index("winter")
    assert body.index("harvest came early 1") < body.index("harvest came early 3")
    assert reading.layout.blocks[0].kind == SegmentKind.HEADING


def test_a_page_without_text_is_flagged_not_read_as_garbage() -> None:
    noise = Image.effect_noise((1600, 2200), 90).convert("L")
    reading = read(noise, "fr")
    assert not reading.legibility.readable
    assert reading.legibility.reason is not None


HANDWRITTEN = SHARED_DATA / "pages" / "fra-hand-c1758-candide-ms-p1"


def test_a_handwritten_page_is_flagged_for_manual_transcription() -> None:
    # Gallica's licence keeps this page out of tests/samples: it is read from ../shared/data,
    # which the suite needs beside the clone anyway (the export schemas are read from there).
    image_path = next(Path(HANDWRITTEN).glob("*.jpg"))
    with Image.open(image_path) as scan:
        reading = read(scan.convert("RGB"), "fr", dpi=None)
    assert not reading.legibility.readable
    assert reading.legibility.reason and "manual transcription" in reading.legibility.reason
    assert reading.legibility.mean_confidence is not None
    assert reading.legibility.mean_confidence < 55


@pytest.mark.parametrize("tag", ["de", "auto"])
def test_german_without_a_script_and_auto_choose_fraktur_on_a_fraktur_page(tag: str) -> None:
    with Image.open(SAMPLES / "deu-fraktur-1771-anekdoten-p0084.tif") as scan:
        reading = read(scan.convert("RGB"), tag)
    assert reading.choice.script == "Latf"
    assert "Fraktur" in reading.choice.models


def test_a_latin_motto_is_read_with_combined_models() -> None:
    assert ocr_models("de-Latf+la").models == "Fraktur+lat"
    assert ocr_models("en+grc").models == "eng+grc"
