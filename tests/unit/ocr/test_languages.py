import pytest

from service.errors import InvalidInput
from service.languages import normalise_tag, parse_tag
from service.ocr.languages import tesseract_languages

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("tag", "models"),
    [
        ("de-Latf", "frk"),
        ("de", "deu"),
        ("fr", "fra"),
        ("la", "lat"),
        ("en", "eng"),
        ("es", "spa"),
        ("it", "ita"),
        ("nl", "nld"),
        ("fr-FR", "fra"),
        ("DE-latf", "frk"),
    ],
)
def test_language_and_script_pick_the_tesseract_models(tag: str, models: str) -> None:
    assert tesseract_languages(tag) == models


def test_tags_are_written_canonically() -> None:
    assert normalise_tag("de-latf") == "de-Latf"
    assert normalise_tag("fr_fr") == "fr-FR"
    assert parse_tag("de-Latf").name == "German (Fraktur)"


@pytest.mark.parametrize("tag", ["xx", "klingon", "fr-!!", ""])
def test_unsupported_or_malformed_tags_are_refused_with_the_supported_list(tag: str) -> None:
    with pytest.raises(InvalidInput) as error:
        tesseract_languages(tag)
    assert "Unsupported" in error.value.message or "Malformed" in error.value.message


def test_every_language_a_document_may_be_in_has_a_tesseract_model() -> None:
    from service.languages import SUPPORTED
    from service.ocr.languages import TESSERACT_MODELS

    assert sorted(TESSERACT_MODELS) == list(SUPPORTED)
