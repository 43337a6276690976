"""The translation backend interface, shared request/result types and answer cleaning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from service.translation.chunking import SegmentText


@dataclass(frozen=True)
class BatchRequest:
    """Consecutive segments of one document to translate together."""

    source_lang: str
    target_lang: str
    segments: list[SegmentText]


@dataclass(frozen=True)
class SegmentResult:
    """One segment's translation with its share of the batch's cost."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float | None = None


@dataclass
class BatchResult:
    """Translations by segment id, and a reason for each segment that got none."""

    translations: dict[int, SegmentResult] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)


class TranslationBackend(Protocol):
    """Turns a batch of source segments into target-language text per segment id."""

    name: str
    model: str

    def translate(self, request: BatchRequest) -> BatchResult:
        """Translate every segment or say why not; raise TransientError to retry the batch."""
        ...


_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LONE_CLOSE = re.compile(r"^.*?</think>", re.DOTALL | re.IGNORECASE)


def strip_reasoning(answer: str) -> str:
    """Remove DeepSeek-R1 style `<think>…</think>` reasoning, even an unopened block."""
    cleaned = _THINK_BLOCK.sub("", answer)
    cleaned = _LONE_CLOSE.sub("", cleaned)
    return cleaned.strip()


def split_cost(total: int | None, weights: list[int]) -> list[int | None]:
    """Share a batch's token count among its segments in proportion to their lengths."""
    if total is None:
        return [None] * len(weights)
    whole = sum(weights) or 1
    return [round(total * w / whole) for w in weights]
