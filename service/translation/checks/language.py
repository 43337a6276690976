"""Which language a text is in, and answers that are no translation at all.

Cheap heuristics, tuned to stay quiet on short texts (names, numbers, headings) where a
translation may rightly equal its source.
"""

from __future__ import annotations

import re

from service.errors import InvalidInput
from service.languages import parse_tag
from service.translation.checks.base import Finding, Problem

MIN_WORDS = 4
LANGUAGE_MIN_WORDS = 8
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Small models sometimes echo the prompt's answer template instead of answering.
_PLACEHOLDER = re.compile(r"^<[^<>]{1,40}>$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Frequent function words: enough to tell the languages we translate from and into apart.
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


def language_of(tag: str) -> str:
    """The primary language subtag of a BCP-47 tag (`de` for `de-Latf`), or the tag itself."""
    try:
        return parse_tag(tag).language
    except InvalidInput:
        return tag.split("-")[0].split("+")[0].casefold()


def squash(text: str) -> str:
    """Lower-cased words only: what two texts share once punctuation and case are set aside."""
    return " ".join(WORD.findall(text.casefold()))


def placeholder(source: str, answer: str) -> Finding | None:
    """An answer that is a template placeholder or holds no word at all."""
    if _PLACEHOLDER.match(answer.strip()) or (
        not WORD.search(answer) and len(WORD.findall(source)) >= MIN_WORDS
    ):
        return Finding(Problem.PLACEHOLDER, f"the answer {answer[:40]!r} is not a text")
    return None


def untranslated(source: str, answer: str) -> Finding | None:
    """The source handed back instead of a translation."""
    if len(WORD.findall(source)) < MIN_WORDS:
        return None
    if squash(source) == squash(answer):
        return Finding(Problem.UNTRANSLATED, "the model returned the source text unchanged")
    return None


def wrong_language(answer: str, source_lang: str, target_lang: str) -> Finding | None:
    """An answer whose function words are clearly those of another language than the target."""
    source, target = language_of(source_lang), language_of(target_lang)
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
    words = [w.casefold() for w in WORD.findall(text)]
    if len(words) < LANGUAGE_MIN_WORDS:
        return None
    scores = {lang: sum(w in stop for w in words) / len(words) for lang, stop in STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 0.12 and top >= 1.4 * second else None
