"""How a search is read: as typed and in its reading form (long s, old umlauts), with
accents or without, and which form of a segment's text a hit matched.

A query is searched in its reading form, since the search vectors are built from the
normalised text: "Wüſte" as the page shows it finds "Wüste". Typed without accents it is
matched against the accent-free lexemes too ("Roman" finds "Román"); typed with them, only
exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.text import normalise

_WORDS = re.compile(r"\w+")
_OPERATORS = {"or", "and", "not"}


class Form(StrEnum):
    """The form of the text a hit was found in."""

    DIPLOMATIC = "diplomatic"
    NORMALISED = "normalised"
    TRANSLATION = "translation"
    WITHOUT_ACCENTS = "without accents"


@dataclass(frozen=True)
class Query:
    """A search as typed and as it is run."""

    typed: str

    @property
    def reading(self) -> str:
        """The query in reading form, as the search vectors are built."""
        return normalise(self.typed)

    @property
    def accented(self) -> bool:
        """True when the user typed accents (then they must match)."""
        return bare(self.reading) != self.reading.lower()

    def words(self, text: str) -> list[str]:
        """The words of a query, its operators aside, in lower case (not case folded:
        folding turns ſ into s, and the diplomatic form is told by its ſ)."""
        return [w for w in _WORDS.findall(text.lower()) if w not in _OPERATORS]


def bare(text: str) -> str:
    """Text in lower case and without accents (what `unaccent` does, near enough)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def matched_form(query: Query, forms: Sequence[tuple[Form, str]]) -> Form:
    """The first form of the text holding every word as typed (then in reading form, then
    without accents); a match by word stem counts as the last form's."""
    for form, text in forms:
        if _holds(text.lower(), query.words(query.typed)):
            return form
    for form, text in forms:
        if _holds(text.lower(), query.words(query.reading)):
            return form
    if _holds(bare(forms[-1][1]), [bare(w) for w in query.words(query.reading)]):
        return Form.WITHOUT_ACCENTS
    return forms[-1][0]


def _holds(text: str, words: list[str]) -> bool:
    return bool(words) and all(w in text for w in words)
