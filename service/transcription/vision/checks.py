"""What is wrong with a vision model's answer: thinking and chatter around it (removed),
another language (a translation instead of a transcription), a wrong number of lines,
and spellings modernised (or made older) against the OCR text it was asked to correct."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from service.languages import parse_tag
from service.text import normalise
from service.translation.backends.base import strip_reasoning
from service.translation.checks import guess_language
from service.translation.corrections import DiffOp, word_diff

_FENCE = re.compile(r"^```[\w-]*\s*\n?|\n?```\s*$")
# A first line that introduces the answer instead of being part of it.
_PREAMBLE = re.compile(
    r"^(here is|here's|sure|certainly|the (corrected |)(text|transcription)|transcription|"
    r"corrected text|voici|voilà|hier ist)\b[^\n]{0,80}:\s*(\n|$)",
    re.IGNORECASE,
)
_QUOTES = (('"', '"'), ("“", "”"), ("«", "»"), ("„", "“"), ("'", "'"))


@dataclass(frozen=True)
class Finding:
    """A problem with an answer: its kind (a flag name) and a sentence for people."""

    kind: str
    message: str


def clean(answer: str) -> str:
    """The answer without reasoning, code fences, an introduction or wrapping quotes."""
    text = strip_reasoning(answer).strip()
    text = _PREAMBLE.sub("", text).strip()
    text = _FENCE.sub("", text).strip()
    for opening, closing in _QUOTES:
        if len(text) > 1 and text[0] == opening and text[-1] == closing:
            text = text[1:-1].strip()
    return "\n".join(line.rstrip() for line in text.splitlines())


def problem(text: str, source_lang: str) -> Finding | None:
    """Why an answer cannot stand as the text of the image, or None."""
    if not text.strip() or text.strip() in ("[?]", "..."):
        return Finding("empty", "the model gave no text for the image")
    language = parse_tag(source_lang).language
    guessed = guess_language(text)
    if guessed is not None and guessed != language:
        return Finding(
            "wrong_language",
            f"the answer is in {guessed!r}, not in {language!r} as the page is written "
            "(a translation instead of a transcription?)",
        )
    return None


def fitted_lines(text: str, expected: int) -> tuple[list[str], Finding | None]:
    """The answer's lines matched to the box's `expected` lines: surplus lines join the
    last one, missing ones stay empty, and either is flagged."""
    lines = [line for line in text.split("\n") if line.strip()] or [""]
    if expected <= 0 or len(lines) == expected:
        return lines, None
    finding = Finding(
        "line_count",
        f"the model gave {len(lines)} line(s) for the {expected} found in the image; "
        "check which line is which",
    )
    if len(lines) > expected:
        lines = [*lines[: expected - 1], " ".join(lines[expected - 1 :])]
    return lines + [""] * (expected - len(lines)), finding


# Spellings of the 18th and early 19th century and their modern forms, per language: a
# correction that turns the first into the second modernised the text.
_OLD_NEW: dict[str, list[tuple[str, str]]] = {
    "fr": [
        (r"oi(t|ent|s|e)$", r"ai\1"),  # étoit → était, avoient → avaient
        (r"ans$", r"ants"),  # enfans → enfants
        (r"^tems$", r"temps"),
        (r"^sçav", r"sav"),
        (r"^&$", r"et"),
    ],
    "de": [
        (r"^th", r"t"),  # Theil → Teil
        (r"ey", r"ei"),  # seyn → sein
        (r"ß$", r"ss"),  # daß → dass
    ],
    "en": [
        (r"^shew", r"show"),
        (r"ick$", r"ic"),  # publick → public
        (r"eat$", r"ete"),  # compleat → complete
    ],
}


def modernised(before: str, after: str, source_lang: str) -> list[Finding]:
    """Words a correction made modern (or old) that the OCR read in the page's spelling."""
    language = parse_tag(source_lang).language
    pairs = _changed_words(before, after)
    modern = [f"{a} → {b}" for a, b in pairs if _modernises(a, b, language)]
    older = [f"{a} → {b}" for a, b in pairs if _modernises(b, a, language)]
    found = []
    if modern:
        found.append(Finding("modernised", "modern spellings put in: " + ", ".join(modern[:8])))
    if older:
        found.append(Finding("historicised", "older spellings put in: " + ", ".join(older[:8])))
    return found


def _changed_words(before: str, after: str) -> list[tuple[str, str]]:
    """Word pairs a diff replaced one for one."""
    diff = [(op, text) for op, text in word_diff(before, after) if text.strip()]
    pairs = []
    for (op, old), (next_op, new) in itertools.pairwise(diff):
        if op is DiffOp.REMOVED and next_op is DiffOp.ADDED:
            olds, news = old.split(), new.split()
            pairs += list(zip(olds, news, strict=False)) if len(olds) == len(news) else []
    return pairs


def _modernises(old: str, new: str, language: str) -> bool:
    """Whether `new` is `old` in a later spelling."""
    a, b = old.casefold().strip(".,;:!?"), new.casefold().strip(".,;:!?")
    if a == b:
        return False
    if "ſ" in a and normalise(a) == b:  # the long s dropped
        return True
    for pattern, replacement in _OLD_NEW.get(language, []):
        if re.search(pattern, a) and re.sub(pattern, replacement, a) == b:
            return True
    return False
