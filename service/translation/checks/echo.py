"""Text of the prompt handed back as a translation: an example sentence, the instructions,
or the translation of the sentence before, given as context."""

from __future__ import annotations

from rapidfuzz import fuzz

from service.translation.checks.base import Answer, Finding, Problem
from service.translation.checks.language import squash

# How closely an answer must match a prompt text to be taken for a copy of it.
SIMILAR = 88
MIN_CHARS = 24


def prompt_echo(answer: Answer) -> Finding | None:
    """An example or instruction of the prompt, or the previous sentence, copied back."""
    text = squash(answer.text)
    source = squash(answer.source)
    for what, example in answer.echoes:
        copied = squash(example)
        if len(copied) < MIN_CHARS or _similar(copied, source):
            continue
        if _contains(text, copied):
            return Finding(
                Problem.PROMPT_ECHO, f"this is {what}, not a translation (“{example[:60]}…”)"
            )
    return _previous_echo(answer, text, source)


def _previous_echo(answer: Answer, text: str, source: str) -> Finding | None:
    if answer.previous is None:
        return None
    before_source, before = (squash(t) for t in answer.previous)
    if len(before) < MIN_CHARS or _similar(before_source, source):
        return None
    if _similar(before, text):
        return Finding(
            Problem.PROMPT_ECHO,
            "this repeats the translation of the sentence before, given as context",
        )
    return None


def _contains(text: str, copied: str) -> bool:
    """The prompt text makes up most of the answer, or sits whole inside it."""
    if _similar(copied, text):
        return True
    return len(text) > len(copied) and fuzz.partial_ratio(copied, text) >= SIMILAR + 4


def _similar(a: str, b: str) -> bool:
    return bool(a) and bool(b) and fuzz.ratio(a, b) >= SIMILAR
