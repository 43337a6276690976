import pytest

from service.text import normalise, source_hash

pytestmark = pytest.mark.unit


def test_reading_form_rejoins_words_across_line_break_hyphens() -> None:
    assert normalise("infor-\ntunés") == "infortunés"
    assert normalise("Vater⸗\nland") == "Vaterland"
    assert normalise("Ge¬\nschichte") == "Geschichte"


def test_reading_form_modernises_long_s_and_old_umlauts() -> None:
    assert normalise("Die Jungfer iſt ſchoͤn") == "Die Jungfer ist schön"
    assert normalise("uͤber") == "über"


def test_reading_form_keeps_line_breaks_as_spaces() -> None:
    assert normalise("Plaignez, Messieurs,\nces êtres") == "Plaignez, Messieurs, ces êtres"


def test_source_hash_changes_with_the_text() -> None:
    assert source_hash("a") != source_hash("b")
    assert source_hash("a") == source_hash("a")
