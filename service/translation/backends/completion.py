"""Base models: one few-shot completion per text, so alignment cannot go wrong."""

from __future__ import annotations

from collections.abc import Callable

from service.translation import prompts
from service.translation.backends.base import BatchRequest, BatchResult, SegmentResult
from service.translation.backends.jsonbatch import Answer
from service.translation.chunking import estimate_tokens

# prompt, max tokens to generate → the model's reply (which stops at the end of the line)
CompleteCall = Callable[[str, int], Answer]


def translate_each(request: BatchRequest, complete: CompleteCall, label: str) -> BatchResult:
    """Complete the few-shot prompt for each text in turn."""
    result = BatchResult()
    for segment in request.segments:
        prompt = prompts.completion_prompt(request, segment.text)
        answer = complete(prompt, 2 * estimate_tokens(segment.text) + 32)
        result.tried([segment.id])
        text = answer.text.strip()
        if not text:
            result.failures[segment.id] = f"{label} returned an empty answer."
            continue
        speed = None
        if answer.tokens_out and answer.generation_ms:
            speed = answer.tokens_out / (answer.generation_ms / 1000)
        result.translations[segment.id] = SegmentResult(
            text=text,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            duration_ms=answer.wall_ms,
            generation_ms=answer.generation_ms,
            tokens_per_s=speed,
        )
    return result
