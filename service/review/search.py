"""Full-text search over sources and translations, and how a search is read: as typed and
in its reading form (long s, old umlauts), with accents or without, and which form of a
segment's text a hit matched.

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

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from service.accounts import access
from service.documents.models import Document, Page, Segment
from service.review.models import AnnotationLayer
from service.text import normalise
from service.translation.models import Translation
from service.translation.shown import shown

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


@dataclass(frozen=True)
class SearchHit:
    """A segment matching a search, with a highlighted excerpt of the matching layer and
    the form of its text that matched (diplomatic, normalised, without accents)."""

    document_id: int
    document_title: str
    page_number: int
    segment_id: int
    layer: AnnotationLayer
    excerpt: str
    form: Form


def search(session: Session, query: str, limit: int = 50) -> list[SearchHit]:
    """Full-text search over sources and translations, each in its document's language."""
    if not query.strip():
        return []
    q = Query(query.strip())
    return _search(session, q, limit, AnnotationLayer.SOURCE) + _search(
        session, q, limit, AnnotationLayer.TRANSLATION
    )


def _search(session: Session, q: Query, limit: int, layer: AnnotationLayer) -> list[SearchHit]:
    """One layer's matches: sources in the source language, translations in the target's;
    without accents unless the query has some."""
    source = layer is AnnotationLayer.SOURCE
    language = Document.source_lang if source else Document.target_lang
    text = Segment.normalized if source else Translation.text
    vector = Segment.search_vector if source else Translation.search_vector
    exact = func.palimpsest_fts_config(language)
    config = exact if q.accented else func.palimpsest_fts_config_unaccent(language)
    tsquery = func.websearch_to_tsquery(config, q.reading)
    query = (
        select(
            Document.id,
            Document.title,
            Page.number,
            Segment.id,
            func.ts_headline(config, text, tsquery, HEADLINE_OPTIONS),
            Segment.text,
            text,
        )
        .select_from(Segment)
        .join(Page, Page.id == Segment.page_id)
        .join(Document, Document.id == Segment.document_id)
        .where(vector.op("@@")(tsquery), _visible_documents())
        .order_by(func.ts_rank(vector, tsquery).desc(), Segment.id)
        .limit(limit)
    )
    if not source:
        query = query.join(Translation, Translation.segment_id == Segment.id).where(shown())
    return [
        SearchHit(d, t, n, s, layer, h, _form(q, source, diplomatic, found))
        for d, t, n, s, h, diplomatic, found in session.execute(query)
    ]


def _form(q: Query, source: bool, diplomatic: str, text: str) -> Form:
    if source:
        return matched_form(q, [(Form.DIPLOMATIC, diplomatic), (Form.NORMALISED, text)])
    return matched_form(q, [(Form.TRANSLATION, text)])


def _visible_documents() -> ColumnElement[bool]:
    collections = access.visible_collections()
    if collections is None:
        return true()
    return Document.collection_id.is_(None) | Document.collection_id.in_(collections)


# ts_headline marks matches with sentinels that the template turns into <mark> after escaping.
HIGHLIGHT_START, HIGHLIGHT_END = "\u2063[[", "]]\u2063"
HEADLINE_OPTIONS = (
    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=30, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
