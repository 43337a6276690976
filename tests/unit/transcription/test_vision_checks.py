"""Cleaning and checking a vision model's answers, and the images it is shown."""

from __future__ import annotations

import io

import ollama as ollama_client
from PIL import Image

from service.transcription.vision import checks, images
from tests.fakes.ollama_server import FakeOllama, fake_reading


def test_reasoning_an_introduction_fences_and_quotes_are_removed() -> None:
    wrapped = (
        "<think>The image shows two lines.</think>\nHere is the transcription:\n"
        "```\n« Il y avoit en Weſtphalie\ndans le château »\n```"
    )
    assert checks.clean(wrapped) == "Il y avoit en Weſtphalie\ndans le château"


def test_an_answer_in_another_language_is_a_translation_not_a_transcription() -> None:
    english = "There was in Westphalia, in the castle of the baron, a young man of the house"
    found = checks.problem(english, "fr")
    assert found is not None and found.kind == "wrong_language"
    assert (
        checks.problem("Il y avoit en Westphalie dans le château de monsieur le baron", "fr")
        is None
    )
    assert checks.problem("[?]", "fr") is not None


def test_answer_lines_are_fitted_to_the_lines_found_and_a_mismatch_is_flagged() -> None:
    assert checks.fitted_lines("a\nb\nc", 3) == (["a", "b", "c"], None)
    lines, finding = checks.fitted_lines("a\nb\nc\nd", 3)
    assert lines == ["a", "b", "c d"] and finding is not None and finding.kind == "line_count"
    lines, finding = checks.fitted_lines("a", 2)
    assert lines == ["a", ""] and finding is not None


def test_modernised_and_older_spellings_are_told_apart_from_ocr_fixes() -> None:
    found = checks.modernised(
        "Il étoit tems, les enfans avoient faim", "Il était temps, les enfants avaient faim", "fr"
    )
    assert [f.kind for f in found] == ["modernised"]
    assert "étoit → était" in found[0].message and "enfans → enfants" in found[0].message
    older = checks.modernised("Il était temps", "Il étoit temps", "fr")
    assert [f.kind for f in older] == ["historicised"]
    assert checks.modernised("Aud 1t was s0", "And it was so", "en") == []
    assert [f.kind for f in checks.modernised("daß er sey", "dass er sei", "de")] == ["modernised"]


def test_a_crop_is_the_box_with_a_margin_scaled_down_to_the_pixel_budget() -> None:
    page = Image.new("RGB", (4000, 5000), "white")
    small = images.crop(page, (100, 100, 1100, 300), max_pixels=1_200_000)
    assert (small.width, small.height) == (1060, 260)  # 15 % of the height around it
    large = images.crop(page, (0, 0, 4000, 5000), max_pixels=1_200_000)
    assert large.width * large.height <= 1_200_000 and abs(large.width / large.height - 0.8) < 0.01
    with Image.open(io.BytesIO(large.data)) as encoded:
        assert encoded.format == "JPEG" and encoded.size == (large.width, large.height)


def test_the_ollama_stand_in_reads_images_on_generate_and_lists_the_vision_capability(
    ollama: FakeOllama,
) -> None:
    ollama.models.append("qwen2.5vl:7b")
    client = ollama_client.Client(host=ollama.host)
    assert "vision" in (client.show("qwen2.5vl:7b").capabilities or [])
    assert "vision" not in (client.show("llama3.2:3b").capabilities or [])
    buffer = io.BytesIO()
    Image.new("L", (640, 80), 255).save(buffer, format="PNG")
    answer = client.generate(
        model="qwen2.5vl:7b",
        system="You transcribe handwritten documents.",
        prompt="Transcribe the line of text in this image, on one line.",
        images=[buffer.getvalue()],
    )
    assert answer.response == fake_reading(1, 640, 80)
    assert ollama.images == [{"format": "PNG", "width": 640, "height": 80}]
