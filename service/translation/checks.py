"""Checks on a model's answer for one text: copied source, wrong language, absurd length.

They are cheap heuristics, tuned to stay quiet on short texts (names, numbers, headings)
where a translation may rightly equal its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from service.ocr.languages import parse_tag
from service.translation.backends.base import Task

MIN_WORDS = 4
LANGUAGE_MIN_WORDS = 8
RATIO_MIN_CHARS = 40
RATIO_BOUNDS = {Task.TRANSLATE: (0.3, 3.0), Task.CORRECT: (0.7, 1.4)}


# Frequent function words: enough to tell the languages we translate from and into apart.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the of and to in a is that for it with as was on be by his her which this have from "
        "at not but are or they were their had been all would there we an has"
    ),
    "fr": _words(
        "le la les de des du et en un une est que qui dans pour pas par sur au aux ce il elle "
        "se ne sont avec son sa ses leur nous vous ont été fut"
    ),
    "de": _words(
        "der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als "
        "auch es an er so dass wie aus bei sind hat war wird sie ihr"
    ),
    "la": _words(
        "et in est non ad cum quod ut sed qui quae per ex de si enim autem vel esse sunt eius "
        "nec atque ac quam hoc etiam"
    ),
    "es": _words(
        "el la los las de del y en que un una por con para es se no al lo como su sus más fue "
        "ha sido"
    ),
    "it": _words(
        "il lo la gli le di del della e che in un una per con non è si da al dei delle come sono fu"
    ),
    "nl": _words(
        "de het een en van in dat op te is met voor niet aan zijn er door als bij ook om werd "
        "hij zij"
    ),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Small models sometimes echo the prompt's answer template instead of answering.
_PLACEHOLDER = re.compile(r"^<[^<>]{1,40}>$")


class Problem(StrEnum):
    """What can be wrong with an answer."""

    UNTRANSLATED = "untranslated"
    PLACEHOLDER = "placeholder"
    WRONG_LANGUAGE = "wrong_language"
    LENGTH_RATIO = "length_ratio"


@dataclass(frozen=True)
class Finding:
    """A problem with an answer and a sentence saying what it was."""

    problem: Problem
    message: str


def check(task: Task, source: str, answer: str, languages: tuple[str, str]) -> Finding | None:
    """The first problem with an answer, or None when it looks like a real answer."""
    if _PLACEHOLDER.match(answer.strip()) or (
        not _WORD.search(answer) and len(_WORD.findall(source)) >= MIN_WORDS
    ):
        return Finding(Problem.PLACEHOLDER, f"the answer {answer[:40]!r} is not a text")
    if task is Task.TRANSLATE:
        found = _untranslated(source, answer) or _wrong_language(answer, languages)
        if found:
            return found
    return _length_ratio(task, source, answer)


def _untranslated(source: str, answer: str) -> Finding | None:
    if len(_WORD.findall(source)) < MIN_WORDS:
        return None
    if _squash(source) == _squash(answer):
        return Finding(Problem.UNTRANSLATED, "the model returned the source text unchanged")
    return None


def _squash(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _wrong_language(answer: str, languages: tuple[str, str]) -> Finding | None:
    source, target = (parse_tag(tag).language for tag in languages)
    if source == target or target not in STOPWORDS:
        return None
    guessed = guess_language(answer)
    if guessed is None or guessed == target:
        return None
    return Finding(
        Problem.WRONG_LANGUAGE, f"the answer is in {guessed!r}, not in {target!r} as asked"
    )


def guess_language(text: str) -> str | None:
    """The language whose function words a text uses most, when it is clear enough."""
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(words) < LANGUAGE_MIN_WORDS:
        return None
    scores = {lang: sum(w in stop for w in words) / len(words) for lang, stop in STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 0.12 and top >= 1.4 * second else None


def _length_ratio(task: Task, source: str, answer: str) -> Finding | None:
    if len(source) < RATIO_MIN_CHARS:
        return None
    low, high = RATIO_BOUNDS[task]
    ratio = len(answer) / len(source)
    if low <= ratio <= high:
        return None
    return Finding(
        Problem.LENGTH_RATIO,
        f"the answer is {ratio:.2f} times as long as the source (expected {low}–{high})",
    )
