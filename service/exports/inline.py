"""Inline structure of a segment's text: words with their normalised form and confidence,
line breaks, and annotation spans nested over them.

Source annotations count characters in the diplomatic text (`Segment.text`, lines joined
by newlines); translation annotations count characters in the translation. A span that
starts or ends inside a word is widened to whole words, except where it leaves out only
punctuation ("Real Sitio" of "Sitio,"): there the word is split, so the comma stays
outside. A span that crosses another one is cut at the other's end, so the result always
nests (as XML must).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from service.exports.model import ExportAnnotation, ExportSegment
from service.text import LINE_END_HYPHENS, normalise

_TOKEN = re.compile(r"\n|[^\S\n]+|[^\s]+")
_HYPHENATED = re.compile(rf"\w[{re.escape(LINE_END_HYPHENS)}]$")


@dataclass(slots=True)
class Token:
    """A word, a run of spaces or a line break at [start, end) of the layer's text."""

    start: int
    end: int
    text: str
    kind: str  # "word", "space" or "break"
    reg: str | None = None  # the normalised form, when it differs
    conf: float | None = None


@dataclass
class Span:
    """An annotation (or the root, with none) and what it contains, in order."""

    annotation: ExportAnnotation | None
    start: int
    end: int
    children: list[Token | Span] = field(default_factory=list)


def source_tokens(segment: ExportSegment) -> list[Token]:
    """The diplomatic text as tokens; words rejoined across line-end hyphens into one."""
    raw = _raw_tokens(segment.diplomatic)
    confs = _word_confidences(segment)
    tokens: list[Token] = []
    word_index = 0
    i = 0
    while i < len(raw):
        token = raw[i]
        if token.kind != "word":
            tokens.append(token)
            i += 1
            continue
        conf = confs[word_index] if word_index < len(confs) else None
        word_index += 1
        joined = _hyphen_join(raw, i)
        if joined is not None:
            nxt = raw[joined]
            other = confs[word_index] if word_index < len(confs) else None
            word_index += 1
            text = segment.diplomatic[token.start : nxt.end]
            tokens.append(_word(token.start, nxt.end, text, _min(conf, other)))
            i = joined + 1
            continue
        # The raw word becomes the token (one per word of a book: no copy).
        token.reg, token.conf = _normal_form(token.text), conf
        tokens.append(token)
        i += 1
    return tokens


def normalisation_matches(segment: ExportSegment, tokens: list[Token]) -> bool:
    """True when word-by-word normal forms add up to the stored normalised text."""
    words = [t.reg if t.reg is not None else t.text for t in tokens if t.kind == "word"]
    return " ".join(words) == segment.normalized


def translation_tokens(text: str) -> list[Token]:
    """The translation as words, spaces and line breaks."""
    return _raw_tokens(text)


def _raw_tokens(text: str) -> list[Token]:
    # The pattern matches every character (a line break, a run of other spaces or a run of
    # non-spaces), so the tokens tile the text and each starts where the last one ended.
    tokens: list[Token] = []
    append = tokens.append
    start = 0
    for value in _TOKEN.findall(text):
        end = start + len(value)
        kind = "break" if value == "\n" else "space" if value[0].isspace() else "word"
        append(Token(start, end, value, kind))
        start = end
    return tokens


def _hyphen_join(raw: list[Token], i: int) -> int | None:
    """Index of the word continuing raw[i] on the next line, if raw[i] ends in a hyphen."""
    text = raw[i].text
    if text[-1] not in LINE_END_HYPHENS or not _HYPHENATED.search(text):
        return None
    j = i + 1
    while j < len(raw) and raw[j].kind == "space":
        j += 1
    if j >= len(raw) or raw[j].kind != "break":
        return None
    j += 1
    while j < len(raw) and raw[j].kind == "space":
        j += 1
    if j < len(raw) and raw[j].kind == "word" and raw[j].text[:1].isalnum():
        return j
    return None


# Words repeat across a book: each distinct one is normalised once.
_normalise_word = lru_cache(maxsize=65_536)(normalise)


def _normal_form(word: str) -> str | None:
    """The word's normalised form, or None when normalising leaves it as it is."""
    reg = _normalise_word(word)
    return None if reg == word else reg


def _word(start: int, end: int, text: str, conf: float | None) -> Token:
    return Token(start, end, text, "word", _normal_form(text), conf)


def _min(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def _word_confidences(segment: ExportSegment) -> list[float | None]:
    """Word confidences in text order, or none when the stored words no longer match the text."""
    if segment.spans is not None:
        return [conf for _, _, conf in segment.spans]
    texts = segment.line_texts
    if len(texts) != len(segment.lines):
        return []
    confs: list[float | None] = []
    for text, line in zip(texts, segment.lines, strict=True):
        if [w.text for w in line.words] != text.split():
            return []
        confs.extend(w.conf for w in line.words)
    return confs


def nest(tokens: list[Token], annotations: list[ExportAnnotation]) -> Span:
    """Place tokens inside the annotation spans covering them (spans widened to whole words)."""
    if annotations:
        tokens = _split_punctuation(tokens, annotations)
    end = tokens[-1].end if tokens else 0
    root = Span(None, 0, end)
    spans = sorted(
        (s for s in (_snap(a, tokens) for a in annotations) if s is not None),
        key=lambda s: (s.start, -s.end),
    )
    stack = [root]
    pending = list(spans)
    for token in tokens:
        while stack[-1] is not root and token.start >= stack[-1].end:
            stack.pop()
        while pending and pending[0].start <= token.start:
            span = pending.pop(0)
            while stack[-1] is not root and span.start >= stack[-1].end:
                stack.pop()
            span.end = min(span.end, stack[-1].end) if stack[-1] is not root else span.end
            stack[-1].children.append(span)
            stack.append(span)
        while stack[-1] is not root and token.start >= stack[-1].end:
            stack.pop()
        stack[-1].children.append(token)
    return root


def _split_punctuation(tokens: list[Token], annotations: list[ExportAnnotation]) -> list[Token]:
    """Words that an annotation's edge parts from punctuation only, split at that edge."""
    edges = {a.start for a in annotations} | {a.end for a in annotations}
    result: list[Token] = []
    for token in tokens:
        cuts = [
            e - token.start
            for e in sorted(edges)
            if token.kind == "word"
            and token.start < e < token.end
            and (
                _punctuation(token.text[: e - token.start])
                or _punctuation(token.text[e - token.start :])
            )
        ]
        result.extend(_pieces(token, cuts) if cuts else [token])
    return result


def _pieces(token: Token, cuts: list[int]) -> list[Token]:
    bounds = [0, *cuts, len(token.text)]
    pieces = []
    for a, b in pairwise(bounds):
        text = token.text[a:b]
        word = not _punctuation(text)
        reg = _normal_form(text) if word else None
        conf = token.conf if word else None
        pieces.append(Token(token.start + a, token.start + b, text, "word", reg, conf))
    return pieces


def _punctuation(text: str) -> bool:
    return bool(text) and all(unicodedata.category(c).startswith("P") for c in text)


def _snap(annotation: ExportAnnotation, tokens: list[Token]) -> Span | None:
    covered = [
        t
        for t in tokens
        if t.kind == "word" and t.start < annotation.end and t.end > annotation.start
    ]
    if not covered:
        return None
    return Span(annotation, covered[0].start, covered[-1].end)


def flatten(span: Span) -> list[tuple[Token, tuple[ExportAnnotation, ...]]]:
    """Each token with the annotations around it, outermost first."""
    result: list[tuple[Token, tuple[ExportAnnotation, ...]]] = []

    def walk(node: Span, around: tuple[ExportAnnotation, ...]) -> None:
        here = (*around, node.annotation) if node.annotation is not None else around
        for child in node.children:
            if isinstance(child, Span):
                walk(child, here)
            else:
                result.append((child, here))

    walk(span, ())
    return result
