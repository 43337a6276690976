"""Checks on every machine translation, for every backend and model.

Each check is cheap and language-aware and says in a plain sentence what it found. An
answer that is no translation at all (the source handed back, another language, a
placeholder) is unusable; every other finding is a doubt that a reviewer must see: an
omission, an invented or dropped number, a dropped name, an echo of the prompt, a refusal,
commentary, a loop, a missed glossary term.
"""

from __future__ import annotations

from collections.abc import Callable

from service.translation.backends.base import Task
from service.translation.checks import echo, names, numbers, shape
from service.translation.checks.base import (
    DOUBTS,
    UNUSABLE,
    Answer,
    Finding,
    Problem,
    is_doubt,
)
from service.translation.checks.language import (
    STOPWORDS,
    guess_language,
    placeholder,
    untranslated,
    wrong_language,
)

__all__ = [
    "DOUBTS",
    "STOPWORDS",
    "UNUSABLE",
    "Answer",
    "Finding",
    "Problem",
    "check",
    "findings",
    "guess_language",
    "is_doubt",
]

CORRECTION_BOUNDS = (0.7, 1.4)
CORRECTION_MIN_CHARS = 40

Check = Callable[[Answer], Finding | None]
# In the order a reviewer should read them: the worst first.
DOUBT_CHECKS: tuple[Check, ...] = (
    echo.prompt_echo,
    shape.refusal,
    shape.repetition,
    shape.omission,
    shape.commentary,
    numbers.invented,
    numbers.dropped,
    names.dropped,
)


def findings(task: Task, answer: Answer) -> list[Finding]:
    """Everything wrong with an answer: one unusable finding, or every doubt."""
    unusable = placeholder(answer.source, answer.text)
    if task is Task.CORRECT:
        return [f for f in (unusable or _correction_length(answer),) if f is not None]
    unusable = (
        unusable
        or untranslated(answer.source, answer.text)
        or wrong_language(answer.text, answer.source_lang, answer.target_lang)
    )
    if unusable is not None:
        return [unusable]
    return [f for f in (c(answer) for c in DOUBT_CHECKS) if f is not None]


def check(task: Task, source: str, text: str, languages: tuple[str, str]) -> Finding | None:
    """The first problem with an answer, or None when it passes every check."""
    found = findings(task, Answer(source, text, *languages))
    return found[0] if found else None


def _correction_length(answer: Answer) -> Finding | None:
    if len(answer.source) < CORRECTION_MIN_CHARS:
        return None
    low, high = CORRECTION_BOUNDS
    ratio = len(answer.text) / len(answer.source)
    if low <= ratio <= high:
        return None
    return Finding(
        Problem.LENGTH_RATIO,
        f"the answer is {ratio:.2f} times as long as the source (expected {low}–{high})",
    )
