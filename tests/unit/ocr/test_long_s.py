"""Long s put back on Antiqua pages: real Tesseract, real word lists from its models."""

from __future__ import annotations

import pytest
from PIL import Image

from service.ocr.cer import Layer, cer
from service.ocr.engines.tesseract import TesseractEngine
from service.ocr.languages import ocr_models
from service.ocr.long_s import Lexicon, decide, lexicon_for
from service.ocr.preprocess import PrepStep, default_steps
from service.ocr.reading import Reading, read_image
from service.text import normalise
from tests.conftest import SAMPLES

pytestmark = pytest.mark.unit

ENGINE = TesseractEngine()
FRENCH_1700S = SAMPLES / "fra-18c-borrdisc-p0019.tif"


def read(path: str, tag: str, long_s: bool = True) -> Reading:
    steps = default_steps("Latn")
    with Image.open(SAMPLES / path) as scan:
        return read_image(
            scan.convert("RGB"),
            300,
            ocr_models(tag),
            ENGINE,
            steps if long_s else steps - {PrepStep.LONG_S},
        )


def text_of(reading: Reading) -> str:
    return "\n\n".join(b.text for b in reading.layout.blocks if b.words)


@pytest.fixture(scope="module")
def french() -> Lexicon:
    lexicon = lexicon_for("fra")
    assert lexicon is not None, "the fra model's word list could not be read"
    return lexicon


def test_an_antiqua_page_of_the_1700s_reads_long_s_where_the_model_read_f() -> None:
    plain = read(FRENCH_1700S.name, "fr", long_s=False)
    mended = read(FRENCH_1700S.name, "fr")
    before, after = text_of(plain), text_of(mended)
    assert "fociété" in before  # what the Antiqua model makes of ſociété
    assert "ſociété" in after and "eſprit" in after
    assert "société" in normalise(after) and "ſ" not in normalise(after)
    record = mended.prepared.record[PrepStep.LONG_S]
    assert record["lexicon"] == "fra" and record["evidence"] >= 3 and record["restored"] >= 10
    truth = (SAMPLES / "fra-18c-borrdisc-p0019.gt.txt").read_text()
    for layer in Layer:
        assert cer(after, truth, layer) < cer(before, truth, layer) - 0.005


def test_a_modern_page_is_left_as_read() -> None:
    plain = read("eng-1881-campbell-p0040.png", "en", long_s=False)
    mended = read("eng-1881-campbell-p0040.png", "en")
    assert text_of(mended) == text_of(plain)
    assert "ſ" not in text_of(mended)
    assert mended.prepared.record[PrepStep.LONG_S]["restored"] == 0


def test_fraktur_pages_are_not_touched() -> None:
    assert PrepStep.LONG_S not in default_steps("Latf")


@pytest.mark.parametrize(
    ("read_as", "meant"),
    [
        ("eft", "eſt"),  # unknown with f
        ("Efprit", "Eſprit"),  # capital kept
        ("aflurer", "aſſurer"),  # ſſ read as fl
        ("plufeurs", "pluſieurs"),  # ſi read as f
        ("fentoit", "ſentoit"),  # the old imperfect of sentait
        ("fur", "ſur"),  # both words: the frequent one
        ("Defpotes", "Deſpotes"),  # neither known: f before p is ſ
    ],
)
def test_misread_words_get_their_long_s(french: Lexicon, read_as: str, meant: str) -> None:
    decision = decide(read_as, french)
    assert decision is not None and decision.reading == meant


@pytest.mark.parametrize("word", ["fait", "fortune", "effet", "profit", "chef", "Famille"])
def test_words_with_a_real_f_keep_it(french: Lexicon, word: str) -> None:
    assert decide(word, french) is None


def test_a_model_without_a_word_list_gives_none() -> None:
    assert lexicon_for("no-such-model") is None
