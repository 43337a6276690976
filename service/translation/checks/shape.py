"""The shape of an answer: too short, too long, a loop, a refusal, or talk about the text.

Lengths are compared with what the language pair usually gives: English runs about as long
as French or German prose and a quarter longer than Latin. Human translations of the dev
sets stay within 0.78–1.38 of their source's length; an answer under 0.55 of the expected
length, or with a third of the source's sentences, has left something out.
"""

from __future__ import annotations

import itertools
import re

from service.translation.checks.base import Answer, Finding, Problem
from service.translation.checks.language import language_of
from service.translation.sentences import count_sentences

MIN_CHARS = 60
SHORT = 0.55
LONG = 2.2
# Target length over source length, by (source, target) language, where it is not about 1.
EXPANSION: dict[tuple[str, str], float] = {
    ("la", "en"): 1.25,
    ("la", "fr"): 1.35,
    ("la", "de"): 1.35,
    ("la", "es"): 1.25,
    ("la", "it"): 1.25,
    ("en", "fr"): 1.15,
    ("en", "de"): 1.1,
    ("en", "es"): 1.1,
    ("en", "it"): 1.1,
    ("de", "fr"): 1.1,
    ("fr", "de"): 1.0,
    ("en", "la"): 0.8,
}

_REFUSAL = re.compile(
    r"\b(?:I (?:cannot|can ?not|can't|am unable to|am not able to|won't|will not|must decline)"
    r"|I'm (?:sorry|unable|not able)|I apologi[sz]e|as an AI|as a language model"
    r"|I do not feel comfortable|I'm not comfortable|against my (?:guidelines|principles)"
    r"|let(?:'s| us) (?:talk about|change the subject|discuss) something else"
    r"|helpful and harmless|I(?:'d| would) rather not (?:translate|discuss)"
    r"|beyond my (?:current )?scope"
    r"|je ne (?:peux|puis) pas|désolé|en tant qu'(?:IA|intelligence artificielle)"
    r"|ich kann (?:das |diese[nrs]? )?nicht|es tut mir leid|als (?:KI|Sprachmodell)"
    r"|no puedo|lo siento|non posso|mi dispiace)\b",
    re.IGNORECASE,
)
_COMMENTARY = re.compile(
    r"(?:^|\n)\s*(?:here(?:'s| is| are) (?:the|a|an|my|your) (?:\w+ )?"
    r"(?:translation|version|rendering|text)\b|sure[,!.]|certainly[,!.]|of course[,!.]"
    r"|translation\s*:|translated text\s*:|note\s*:|notes\s*:|\(note\b|\[note\b"
    r"|translator'?s? note|explanation\s*:|voici\b|hier ist\b|übersetzung\s*:|traduction\s*:)"
    r"|\b(?:I hope this helps|let me know if|this (?:text|passage|sentence) (?:is|describes|"
    r"says|means|appears)|the (?:original|source) text (?:is|says|reads)|in this passage)\b"
    r"|\*\*|```",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def expected_ratio(source_lang: str, target_lang: str) -> float:
    """How much longer than its source a translation into the target usually runs."""
    return EXPANSION.get((language_of(source_lang), language_of(target_lang)), 1.0)


def omission(answer: Answer) -> Finding | None:
    """Far shorter than the pair gives, or far fewer sentences than the source."""
    if len(answer.source) < MIN_CHARS:
        return None
    expected = expected_ratio(answer.source_lang, answer.target_lang) * len(answer.source)
    ratio = len(answer.text) / expected
    if ratio < SHORT:
        return Finding(
            Problem.OMISSION,
            f"the translation is {ratio:.0%} of the length expected for the source: "
            "something is left out",
        )
    have = count_sentences(answer.source, answer.source_lang)
    got = count_sentences(answer.text, answer.target_lang)
    if have >= 3 and got * 3 <= have:
        return Finding(Problem.OMISSION, f"the source has {have} sentences, the translation {got}")
    return None


def refusal(answer: Answer) -> Finding | None:
    """A refusal, an apology or a model speaking of itself instead of translating."""
    match = _REFUSAL.search(answer.text)
    if match is None or _REFUSAL.search(answer.source):
        return None
    return Finding(
        Problem.REFUSAL, f"the model refused or apologised: “{_around(answer.text, match)}”"
    )


def commentary(answer: Answer) -> Finding | None:
    """Notes, explanations, "Here is…", or sentences beyond the source."""
    match = _COMMENTARY.search(answer.text)
    if match is not None and _COMMENTARY.search(answer.source) is None:
        quoted = _around(answer.text, match)
        return Finding(
            Problem.COMMENTARY,
            f"the answer talks about the text instead of translating it: “{quoted}”",
        )
    if len(answer.source) < MIN_CHARS // 2:
        return None
    expected = expected_ratio(answer.source_lang, answer.target_lang) * len(answer.source)
    have = count_sentences(answer.source, answer.source_lang)
    got = count_sentences(answer.text, answer.target_lang)
    if len(answer.text) > LONG * expected and got >= have + 2:
        return Finding(
            Problem.COMMENTARY,
            f"the translation has {got} sentences where the source has {have}, and is "
            f"{len(answer.text) / expected:.1f} times the expected length: it adds text",
        )
    return None


def repetition(answer: Answer) -> Finding | None:
    """A phrase repeated in a loop, where the source has no such repetition."""
    words = [w.casefold() for w in _WORD.findall(answer.text)]
    phrase = _loop(words)
    if phrase is None or _loop([w.casefold() for w in _WORD.findall(answer.source)]):
        return None
    return Finding(Problem.REPETITION, f"“{' '.join(phrase)}” repeats in a loop")


def _loop(words: list[str]) -> tuple[str, ...] | None:
    """The longest phrase that a degenerate answer repeats: said again right after itself
    (three times for two words, four for one), again within two words for four words or
    more, or anywhere twice for six words or more and three times for four."""
    for size in range(10, 0, -1):
        grams = [tuple(words[i : i + size]) for i in range(len(words) - size + 1)]
        where: dict[tuple[str, ...], list[int]] = {}
        for i, gram in enumerate(grams):
            where.setdefault(gram, []).append(i)
        for gram, starts in where.items():
            if len(starts) > 1 and _degenerate(size, starts):
                return gram
    return None


def _degenerate(size: int, starts: list[int]) -> bool:
    gaps = [b - a - size for a, b in itertools.pairwise(starts)]
    in_a_row = _longest_run([g == 0 for g in gaps]) + 1
    if in_a_row >= (2 if size >= 3 else 3 if size == 2 else 4):
        return True
    if size >= 4 and any(0 <= g <= 2 for g in gaps):
        return True
    return (size >= 6 and len(starts) >= 2) or (size >= 4 and len(starts) >= 3)


def _longest_run(flags: list[bool]) -> int:
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


def _around(text: str, match: re.Match[str]) -> str:
    """The words from where the match starts, enough to recognise the answer by."""
    snippet = " ".join(text[match.start() : match.end() + 40].split())
    return snippet if len(snippet) <= 60 else snippet[:60].rsplit(" ", 1)[0] + "…"
