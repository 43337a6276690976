"""JSON batches for chat models: ids in, ids out, validated, split in halves on any mismatch.

Every chat backend (Ollama, OpenAI-compatible, embedded instruct GGUFs) sends a batch as
JSON and gets JSON back. An answer is accepted only when it holds exactly the ids asked
for, each once, each with text; otherwise the batch is split in halves and each half is
asked again, down to single segments. A text can therefore only land on the id the model
put it under, and a segment the model never answers for fails with the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.translation import prompts
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    SegmentResult,
    split_cost,
    strip_reasoning,
)
from service.translation.chunking import SegmentText, estimate_tokens
from service.translation.prompts import chat as chat_prompts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """One model reply: its text, token counts and timings, and why generation stopped."""

    text: str
    tokens_in: int | None
    tokens_out: int | None
    wall_ms: float
    generation_ms: float | None = None
    done_reason: str | None = None


# messages, JSON schema of the answer, max tokens to generate → the model's reply
ChatCall = Callable[[list[dict[str, str]], dict[str, Any], int], Answer]


def max_answer_tokens(segments: list[SegmentText], ceiling: int, reasoning: bool = False) -> int:
    """A cap on generated tokens: generous for the texts, never the whole context."""
    expected = sum(estimate_tokens(s.text) for s in segments)
    return max(64, min(ceiling, 2 * expected + 24 * len(segments) + 64 + (1024 * reasoning)))


def translate(
    request: BatchRequest, call: ChatCall, label: str, ceiling: int, reasoning: bool = False
) -> BatchResult:
    """Answer the batch through `call`, splitting in halves until every id is answered or failed."""
    result = BatchResult(echoes=chat_prompts.echoes(request))
    _translate_into(request, request.segments, result, _Driver(call, label, ceiling, reasoning))
    return result


@dataclass(frozen=True)
class _Driver:
    call: ChatCall
    label: str
    ceiling: int
    reasoning: bool


def _translate_into(
    request: BatchRequest, segments: list[SegmentText], result: BatchResult, driver: _Driver
) -> None:
    ids = [s.id for s in segments]
    answer = driver.call(
        prompts.messages(request, segments),
        prompts.response_schema(ids),
        max_answer_tokens(segments, driver.ceiling, driver.reasoning),
    )
    result.tried(ids)
    parsed, problem = parse_answer(answer.text, ids)
    if problem and answer.done_reason == "length":
        problem = f"the answer was cut off at the {answer.tokens_out or '?'}-token limit"
    if problem is None:
        _record(result, segments, parsed, answer)
        return
    if len(segments) == 1:
        result.failures[ids[0]] = f"{driver.label} gave no usable answer: {problem}"
        return
    log.info("%s: %s for %d segments; splitting the batch", driver.label, problem, len(ids))
    result.note(ids, "split")
    middle = len(segments) // 2
    _translate_into(request, segments[:middle], result, driver)
    _translate_into(request, segments[middle:], result, driver)


def parse_answer(answer: str, ids: list[int]) -> tuple[dict[int, str], str | None]:
    """Texts by id from a JSON answer, and what is wrong with it (None when it is complete)."""
    text = strip_reasoning(answer)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return {}, f"no JSON in the answer ({_snippet(answer)})"
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return {}, f"the answer is not valid JSON ({_snippet(answer)})"
    items = data.get("translations") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return {}, f"the answer has no list of translations ({_snippet(answer)})"
    return _match(items, ids)


def _match(items: list[Any], ids: list[int]) -> tuple[dict[int, str], str | None]:
    found: dict[int, str] = {}
    problems: list[str] = []
    for item in items:
        seg_id = item.get("id") if isinstance(item, dict) else None
        value = item.get("text") if isinstance(item, dict) else None
        if not isinstance(seg_id, int) or seg_id not in ids:
            problems.append(f"unknown id {seg_id!r}")
        elif seg_id in found:
            problems.append(f"id {seg_id} twice")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"no text for id {seg_id}")
        else:
            found[seg_id] = value.strip()
    missing = [i for i in ids if i not in found]
    if missing:
        problems.append(f"{len(missing)} of {len(ids)} ids missing")
    return found, "; ".join(problems) or None


def _record(
    result: BatchResult, segments: list[SegmentText], parsed: dict[int, str], answer: Answer
) -> None:
    tokens_in = split_cost(answer.tokens_in, [len(s.text) for s in segments])
    tokens_out = split_cost(answer.tokens_out, [len(parsed[s.id]) for s in segments])
    speed = None
    if answer.tokens_out and answer.generation_ms:
        speed = answer.tokens_out / (answer.generation_ms / 1000)
    n = len(segments)
    for i, segment in enumerate(segments):
        result.translations[segment.id] = SegmentResult(
            text=parsed[segment.id],
            tokens_in=tokens_in[i],
            tokens_out=tokens_out[i],
            duration_ms=answer.wall_ms / n,
            generation_ms=None if answer.generation_ms is None else answer.generation_ms / n,
            tokens_per_s=speed,
        )


def _snippet(answer: str) -> str:
    snippet = " ".join(answer.split())[:120]
    return f"answer was {snippet!r}" if snippet else "the answer was empty"
