"""Grouping consecutive segments into LLM batches under a token budget."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Historical European text runs at about 3.5 characters per token for the models we use;
# erring low keeps batches inside the context window.
CHARS_PER_TOKEN = 3.5


@dataclass(frozen=True)
class SegmentText:
    """A segment id and the text that will be translated."""

    id: int
    text: str


def estimate_tokens(text: str) -> int:
    """Rough token count of a text (no tokenizer needed in the planner)."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def plan_batches(segments: Sequence[SegmentText], budget: int) -> list[list[int]]:
    """Split segments, in order, into batches of ids whose estimated tokens fit the budget.

    A batch never splits a segment; a segment larger than the budget gets a batch of its own.
    """
    batches: list[list[int]] = []
    current: list[int] = []
    used = 0
    for segment in segments:
        cost = estimate_tokens(segment.text)
        if current and used + cost > budget:
            batches.append(current)
            current, used = [], 0
        current.append(segment.id)
        used += cost
    if current:
        batches.append(current)
    return batches
