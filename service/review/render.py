"""Splitting a segment's text into runs for display: low-confidence words and annotations.

The text itself is never altered, so character offsets in the browser (selection → new
annotation) are offsets into the stored text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NamedTuple

from markupsafe import Markup

from service.documents.spans import word_spans
from service.review.models import Annotation, AnnotationLayer
from service.text import LINE_END_HYPHENS, normalise

LOW_CONFIDENCE = "low-conf"  # the CSS class of words read below the confidence threshold


# Slotted, not frozen: a page makes one per marked word, and a frozen dataclass's
# __init__ costs several times as much.
@dataclass(slots=True)
class Mark:
    """A character range [start, end) to style, with a CSS class and a tooltip."""

    start: int
    end: int
    css: str
    title: str = ""


class Run(NamedTuple):
    """A stretch of text with the same marks: their CSS classes and tooltips, joined.

    A tuple, so the row template unpacks it (`for text, css, title in ...`) instead of
    looking up three attributes of each of a page's thousands of runs."""

    text: str
    css: str = ""
    title: str = ""

    @classmethod
    def covered(cls, text: str, marks: list[Mark]) -> Run:
        """The run of `text` under `marks` (classes and tooltips each listed once)."""
        if not marks:  # the text between marked words
            return cls(text)
        if len(marks) == 1:  # the usual case: one low-confidence word or one annotation
            return cls(text, marks[0].css, marks[0].title)
        css = " ".join(dict.fromkeys(m.css for m in marks))
        return cls(text, css, "; ".join(t for t in dict.fromkeys(m.title for m in marks) if t))


def runs(text: str, marks: Iterable[Mark]) -> list[Run]:
    """Cut text at every mark boundary; each run lists the marks covering it."""
    valid = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    if not valid:
        return [Run(text)]
    if all(a.end <= b.start for a, b in pairwise(valid)):
        return _between(text, valid)
    cuts = sorted({0, len(text), *(m.start for m in valid), *(m.end for m in valid)})
    result = []
    for start, end in pairwise(cuts):
        # Marks are few per segment (some words, a few annotations): a scan is cheapest.
        covering = [m for m in valid if m.start <= start and end <= m.end]
        result.append(Run.covered(text[start:end], covering))
    return result


def _between(text: str, marks: list[Mark]) -> list[Run]:
    """Runs of marks in order that do not overlap (the usual case: low-confidence words
    alone), with the text between them: one pass, no scan for covering marks."""
    result = []
    done = 0
    for m in marks:
        if m.start > done:
            result.append(Run(text[done : m.start]))
        result.append(Run(text[m.start : m.end], m.css, m.title))
        done = m.end
    if done < len(text):
        result.append(Run(text[done:]))
    return result


def low_confidence_marks(
    text: str, lines: Sequence[dict[str, Any]], threshold: float
) -> list[Mark]:
    """Marks for words read with confidence under the threshold, if the text is still as read."""
    return spans_marks(word_spans(text, lines), threshold)


def spans_marks(spans: Sequence[Sequence[float]], threshold: float) -> list[Mark]:
    """Marks for the words of `word_spans` whose confidence is under the threshold."""
    return [
        Mark(int(start), int(end), LOW_CONFIDENCE, _confidence_title(conf))
        for start, end, conf in spans
        if conf < threshold
    ]


def low_confidence_runs(
    text: str, spans: Sequence[Sequence[float]], threshold: float
) -> list[Run] | None:
    """The runs of a segment without annotations straight from its word spans, or None if
    a span does not fit the text in order (then `runs` sorts the marks out). The usual
    row of the review page: one pass, no marks built."""
    result = []
    done = 0
    for start, end, conf in spans:
        if conf >= threshold:
            continue
        first, last = int(start), int(end)
        if not done <= first < last <= len(text):
            return None
        if first > done:
            result.append(Run(text[done:first]))
        result.append(Run(text[first:last], LOW_CONFIDENCE, _confidence_title(conf)))
        done = last
    if done < len(text) or not result:
        result.append(Run(text[done:]))
    return result


def _confidence_title(conf: float) -> str:
    return f"OCR confidence {conf:.0f} %"


def annotation_marks(annotations: Iterable[Annotation], layer: AnnotationLayer) -> list[Mark]:
    """Marks for the annotations of one layer."""
    return [
        Mark(
            a.start,
            a.end,
            f"ann ann-{a.type.value}",
            a.type.value + (f": {a.body}" if a.body else ""),
        )
        for a in annotations
        if a.layer is layer
    ]


def normalised_low(
    diplomatic: str, normalised: str, spans: Sequence[Sequence[float]], threshold: float
) -> str:
    """The low-confidence words of the diplomatic text found in its normalised form, as
    `start:end:confidence` triplets (the page's script marks them in the normalised view).

    Each word is put in its reading form alone (long s, old umlauts; a line-end hyphen
    dropped) and looked for from where the previous one ended, so both halves of a word
    hyphenated across lines are marked inside the rejoined word. A word that cannot be
    found is left out rather than marked in the wrong place."""
    found = []
    done = 0
    for start, end, conf in spans:
        if conf >= threshold:
            continue
        piece = _reading_form(diplomatic[int(start) : int(end)])
        at = normalised.find(piece, done) if piece else -1
        if at < 0:
            continue
        done = at + len(piece)
        found.append(f"{at}:{done}:{conf:.0f}")
    return ",".join(found)


def _reading_form(word: str) -> str:
    word = word.rstrip(LINE_END_HYPHENS + " \n")
    return word if word.isascii() else normalise(word)


def runs_html(pieces: Sequence[Run]) -> Markup:
    """The runs as HTML, each marked run a <span> with its classes and tooltip.

    Every text, class and tooltip is escaped here exactly as Jinja's autoescaping would
    (markupsafe's five characters), so the row template puts the result in as it is.
    Quicker than the same loop in the template, which costs a call and a lookup per run
    and a page has runs by the thousand."""
    out = []
    for text, css, title in pieces:
        if css:
            out.append(
                f'<span class="{_escape(css)}" title="{_escape(title)}">{_escape(text)}</span>'
            )
        else:
            out.append(_escape(text))
    return Markup("".join(out))  # noqa: S704 - every piece is escaped above


def _escape(text: str) -> str:
    """markupsafe.escape's replacements, on plain str (no Markup object per piece)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The range without the spaces and punctuation at its ends (a selection that took the
    comma after a name tags the name), unless nothing else is in it."""
    a, b = start, end
    while a < b and _edge(text[a]):
        a += 1
    while b > a and _edge(text[b - 1]):
        b -= 1
    return (a, b) if a < b else (start, end)


def _edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")
