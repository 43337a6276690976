"""What a batch of translation work is made of: units in, outcomes out, a spec for both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.translation.backends.base import GlossaryHint, Task
from service.translation.backends.base import Unit as PromptUnit


@dataclass(frozen=True)
class Unit:
    """One segment to answer: its text, the texts before it and the glossary entries in it."""

    segment_id: int
    text: str
    context: tuple[str, ...] = ()
    glossary: tuple[GlossaryHint, ...] = ()


@dataclass(frozen=True)
class Spec:
    """What every request of a batch shares.

    `unit` says whether a model is asked for whole segments or one sentence at a time;
    `known` tells whether a lower-case word is in the source language's dictionary, where
    one is at hand (the dropped-names check uses it).
    """

    task: Task
    source_lang: str
    target_lang: str
    budget: int
    period: str | None = None
    genre: str | None = None
    route: int = 0
    unit: PromptUnit = PromptUnit.SEGMENT
    known: Callable[[str], bool] | None = None


@dataclass
class Outcome:
    """A segment's answer or failure, with its cost, what it took, and its flags."""

    segment_id: int
    text: str | None = None
    error: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float | None = None
    generation_ms: float | None = None
    tokens_per_s: float | None = None
    attempts: int = 0
    fallbacks: list[str] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    host: str | None = None
    digest: str | None = None
    memory_id: int | None = None
    # The prompt's own texts (examples, instructions) the answer was checked against.
    echoes: tuple[tuple[str, str], ...] = ()

    def fallback(self, name: str) -> None:
        """Record a fallback once."""
        if name not in self.fallbacks:
            self.fallbacks.append(name)

    def add_cost(
        self,
        tokens_in: int | None,
        tokens_out: int | None,
        duration_ms: float | None,
        generation_ms: float | None,
    ) -> None:
        """Add one request's cost to the outcome's."""
        self.tokens_in = _plus(self.tokens_in, tokens_in)
        self.tokens_out = _plus(self.tokens_out, tokens_out)
        self.duration_ms = _plus(self.duration_ms, duration_ms)
        self.generation_ms = _plus(self.generation_ms, generation_ms)

    def add_cost_of(self, other: Outcome) -> None:
        """Add what another attempt at the same segment cost."""
        self.add_cost(other.tokens_in, other.tokens_out, other.duration_ms, other.generation_ms)
        if self.generation_ms and self.tokens_out:
            self.tokens_per_s = self.tokens_out / (self.generation_ms / 1000)


N = TypeVar("N", int, float)


def _plus(a: N | None, b: N | None) -> N | None:
    if a is None:
        return b
    return a if b is None else a + b
