"""One text per model call: few-shot completion for base models, or a model's own chat
format for one text (TranslateGemma), so alignment cannot go wrong."""

from __future__ import annotations

import re
from collections.abc import Callable

from service.translation.backends.base import BatchRequest, BatchResult, SegmentResult
from service.translation.backends.jsonbatch import Answer
from service.translation.chunking import estimate_tokens

# request, the text to answer, max tokens to generate → the model's reply for that text
TextCall = Callable[[BatchRequest, str, int], Answer]
# A model that goes on past its answer writes the next prompt line ("French: …").
_NEXT_TURN = re.compile(r"\n\s*\w[\w ()]{0,30}:.*", re.DOTALL)


def answer_limit(text: str) -> int:
    """Tokens a translation of the text may take: twice its estimate, and a little more."""
    return 2 * estimate_tokens(text) + 32


def translate_each(
    request: BatchRequest,
    call: TextCall,
    label: str,
    echoes: tuple[tuple[str, str], ...] = (),
) -> BatchResult:
    """Ask for each text of the request in turn."""
    result = BatchResult(echoes=echoes)
    for segment in request.segments:
        answer = call(request, segment.text, answer_limit(segment.text))
        result.tried([segment.id])
        text = _NEXT_TURN.sub("", answer.text).strip()
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
