"""Grouping consecutive segments into LLM batches under a token budget, and splitting giants."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# Historical European text runs at about 3.5 characters per token for the models we use;
# erring low keeps batches inside the context window.
CHARS_PER_TOKEN = 3.5
# Tokens of the system prompt, glossary, context segments and JSON framing.
PROMPT_RESERVE = 700
# The answer repeats each text translated plus JSON framing; targets run a little longer.
ANSWER_FACTOR = 1.6
# Reasoning models think before they answer, inside the same context.
REASONING_RESERVE = 1024


@dataclass(frozen=True)
class SegmentText:
    """A segment id and the text that will be translated."""

    id: int
    text: str


def estimate_tokens(text: str) -> int:
    """Rough token count of a text (no tokenizer needed in the planner)."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def budget_for(context_tokens: int, configured: int, reasoning: bool = False) -> int:
    """Source tokens per batch: what the model's context holds with room for the answer."""
    room = context_tokens - PROMPT_RESERVE - (REASONING_RESERVE if reasoning else 0)
    return max(32, min(configured, int(room / (1 + ANSWER_FACTOR))))


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


# A sentence ends at . ! ? ; or : followed by space and a capital, digit or opening quote.
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'«„“(\[A-ZÀ-ÖØ-Þ0-9])")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")


def split_text(text: str, budget: int) -> list[str]:
    """Cut a text longer than the budget into pieces at sentence boundaries, in order.

    Joining the pieces with single spaces gives the text back (whitespace normalised). A
    single sentence that is still too long is cut at clause boundaries, then between words.
    """
    if estimate_tokens(text) <= budget:
        return [text]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        pieces.extend(_fit(sentence, budget))
    return _merge_small(pieces, budget)


def _fit(sentence: str, budget: int) -> list[str]:
    if estimate_tokens(sentence) <= budget:
        return [sentence]
    clauses = _CLAUSE_END.split(sentence)
    if len(clauses) > 1:
        return _merge_small([p for c in clauses for p in _fit(c, budget)], budget)
    words, limit = sentence.split(), int(budget * CHARS_PER_TOKEN)
    out, current = [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > limit:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*out, current] if current else out


def _merge_small(pieces: list[str], budget: int) -> list[str]:
    merged: list[str] = []
    for piece in pieces:
        if merged and estimate_tokens(f"{merged[-1]} {piece}") <= budget:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged
