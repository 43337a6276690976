"""Sentences of historical prose: the unit in which small models are prompted and checked.

A sentence ends at `.`, `!`, `?` or `…` (closing quotes and brackets may follow) before a
space and a capital, digit, opening quote or dash. Not after abbreviations of titles and
saints (`M.`, `Mme.`, `St.`, `Hr.`), initials (`J. W. Goethe`), or a German ordinal
(`am 9. Junius`). Splitting too little is harmless; splitting a name from its title is not.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Lower-cased abbreviations (without their dot) after which a sentence never ends.
ABBREVIATIONS = _words(
    """
    m mm mme mmes mlle mlles mgr mr mrs messrs dr st ste sts s ss sr sra srta sres dna
    hr hrn fr frl nr num vol chap ch fol p pp ca cf vgl usw bzw sog geb gest lieut lt
    capt rev mons monsr prof av bd fg faub cie jun jr esq ibid v vs dt frz engl ital lat
    """
)
_END = re.compile(r"(?:[.!?]+|…)(?:\s?[»”])?[\"'»“”’)\]]*(?=\s+[\"'«„“‘(\[—–\-A-ZÀ-ÖØ-ÞĀ-Ž0-9¿¡])")
_LAST_WORD = re.compile(r"([\w'’]+)\.\Z")
_MIN_WORDS = 2


def split_sentences(text: str, lang: str = "") -> list[str]:
    """The text's sentences in order; joined by single spaces they give the text back."""
    text = " ".join(text.split())
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if _is_boundary(text[start:end], lang):
            pieces.append(text[start:end].strip())
            start = end
    pieces.append(text[start:].strip())
    return _merge_fragments([p for p in pieces if p])


def count_sentences(text: str, lang: str = "") -> int:
    """How many sentences a text has (at least one when it has any text)."""
    return len(split_sentences(text, lang))


def _is_boundary(piece: str, lang: str) -> bool:
    if not piece.rstrip("\"'»“”’)]").endswith("."):
        return True
    match = _LAST_WORD.search(piece.rstrip("\"'»“”’)]"))
    if match is None:
        return True
    word = match.group(1)
    if word.casefold() in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return False  # an initial
    return not (word.isdigit() and lang.startswith("de") and len(word) <= 2)


def _merge_fragments(pieces: list[str]) -> list[str]:
    """Join one-word pieces ("Ah !", "I.") to the sentence after them, so each has substance."""
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}" if carry else piece
        carry = ""
        if len(piece.split()) < _MIN_WORDS:
            carry = piece
        else:
            merged.append(piece)
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    return merged
