"""What a check looks at and what it reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Problem(StrEnum):
    """What can be wrong with an answer; the value is the flag's `kind`."""

    UNTRANSLATED = "untranslated"
    PLACEHOLDER = "placeholder"
    WRONG_LANGUAGE = "wrong_language"
    LENGTH_RATIO = "length_ratio"
    OMISSION = "omission"
    INVENTED_NUMBER = "invented_number"
    DROPPED_NUMBER = "dropped_number"
    DROPPED_NAME = "dropped_name"
    PROMPT_ECHO = "prompt_echo"
    REFUSAL = "refusal"
    COMMENTARY = "commentary"
    REPETITION = "repetition"
    GLOSSARY = "glossary"
    PARTLY_UNTRANSLATED = "partly_untranslated"


# Answers that are no translation at all: after the stricter retry they fail the segment.
UNUSABLE = frozenset({Problem.UNTRANSLATED, Problem.PLACEHOLDER, Problem.WRONG_LANGUAGE})
# Flags that put a translation in doubt (status `needs_check`). Other flags, such as
# `same_request`, only say how an answer was obtained.
DOUBTS = frozenset(Problem) - UNUSABLE


@dataclass(frozen=True)
class Finding:
    """A problem with an answer and a sentence saying what it was."""

    problem: Problem
    message: str

    def flag(self) -> dict[str, Any]:
        """The finding as stored on a translation: `{kind, message}`."""
        return {"kind": self.problem.value, "message": self.message}


@dataclass(frozen=True)
class Answer:
    """One translation to check, with what it is checked against.

    `echoes` are the texts of the prompt (instructions and few-shot examples) that must
    never come back as a translation, each with what to call it; `previous` is the sentence
    before and its translation, where they were given as context; `known` tells whether a
    lower-case word is in the source language's dictionary, where one is at hand (it
    sharpens the dropped-names check).
    """

    source: str
    text: str
    source_lang: str
    target_lang: str
    echoes: tuple[tuple[str, str], ...] = ()
    previous: tuple[str, str] | None = None
    known: Callable[[str], bool] | None = None


def is_doubt(flag: dict[str, Any]) -> bool:
    """Whether a stored flag puts its translation in doubt."""
    return flag.get("kind") in DOUBTS
