"""The translation backend interface, shared request/result types and answer cleaning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from service.translation.chunking import SegmentText


class Task(StrEnum):
    """What the model is asked to do with each text."""

    TRANSLATE = "translate"
    CORRECT = "correct"


@dataclass(frozen=True)
class GlossaryHint:
    """An agreed rendering the model must use when the term occurs."""

    term: str
    translation: str
    note: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    """Consecutive texts of one document to handle together, with what the model should know.

    `segments` carry request-local ids; the caller maps them back to segments. `context`
    holds the texts just before the first one (not to be translated), `glossary` only the
    entries whose term occurs in the batch. `strict` asks again after an unusable answer;
    `route` spreads batches over several servers.
    """

    source_lang: str
    target_lang: str
    segments: list[SegmentText]
    task: Task = Task.TRANSLATE
    context: tuple[str, ...] = ()
    glossary: tuple[GlossaryHint, ...] = ()
    period: str | None = None
    genre: str | None = None
    strict: str | None = None
    route: int = 0


@dataclass(frozen=True)
class SegmentResult:
    """One text's answer with its share of the batch's cost."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float | None = None
    generation_ms: float | None = None
    tokens_per_s: float | None = None


@dataclass
class BatchResult:
    """Answers by id, a reason for each id that got none, and what it took to get them."""

    translations: dict[int, SegmentResult] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    fallbacks: dict[int, list[str]] = field(default_factory=dict)
    host: str | None = None
    digest: str | None = None

    def note(self, ids: list[int], fallback: str) -> None:
        """Record a fallback taken for these ids."""
        for seg_id in ids:
            taken = self.fallbacks.setdefault(seg_id, [])
            if fallback not in taken:
                taken.append(fallback)

    def tried(self, ids: list[int]) -> None:
        """Count one more model request that carried these ids."""
        for seg_id in ids:
            self.attempts[seg_id] = self.attempts.get(seg_id, 0) + 1


@dataclass(frozen=True)
class ModelInfo:
    """What a run needs to know about its model before it starts."""

    name: str
    digest: str | None
    context_tokens: int
    reasoning: bool = False
    detail: str = ""


class TranslationBackend(Protocol):
    """Turns a batch of texts into answers per id."""

    name: str
    model: str

    def translate(self, request: BatchRequest) -> BatchResult:
        """Answer every text or say why not; raise TransientError to retry the batch."""
        ...

    def describe(self) -> ModelInfo:
        """Check the model is there and say what it is (digest, context size)."""
        ...


_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LONE_CLOSE = re.compile(r"^.*?</think>", re.DOTALL | re.IGNORECASE)
_UNCLOSED = re.compile(r"<think>.*\Z", re.DOTALL | re.IGNORECASE)


def strip_reasoning(answer: str) -> str:
    """Remove DeepSeek-R1 style `<think>…</think>` reasoning, even an unopened or unclosed block."""
    cleaned = _THINK_BLOCK.sub("", answer)
    cleaned = _LONE_CLOSE.sub("", cleaned)
    cleaned = _UNCLOSED.sub("", cleaned)
    return cleaned.strip()


def split_cost(total: int | None, weights: list[int]) -> list[int | None]:
    """Share a batch's token count among its segments in proportion to their lengths."""
    if total is None:
        return [None] * len(weights)
    whole = sum(weights) or 1
    return [round(total * w / whole) for w in weights]


def is_reasoning_model(model: str) -> bool:
    """DeepSeek-R1 and its distills think aloud and want temperature 0.6."""
    lowered = model.lower()
    return "deepseek-r1" in lowered or "r1-distill" in lowered or "-r1-" in lowered
