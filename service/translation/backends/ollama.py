"""Ollama through its official Python client: JSON batches, streamed, with clear errors."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import ollama

from service.errors import (
    BackendFailed,
    BackendOverloaded,
    BackendUnavailable,
    ModelNotFound,
    TransientError,
)
from service.translation import prompts
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    SegmentResult,
    split_cost,
    strip_reasoning,
)
from service.translation.chunking import SegmentText, estimate_tokens

log = logging.getLogger(__name__)

NUM_CTX = 8192
SEED = 42


class OllamaBackend:
    """Translates batches with a model served by Ollama; a bad answer is retried in halves."""

    name = "ollama"

    def __init__(self, host: str, model: str, timeout_s: float) -> None:
        self.host = host
        self.model = model
        self.timeout_s = timeout_s
        self.client = ollama.Client(host=host, timeout=httpx.Timeout(timeout_s, connect=5.0))

    def translate(self, request: BatchRequest) -> BatchResult:
        """Translate the batch; segments missing from the answer are retried in smaller batches."""
        result = BatchResult()
        self._translate_into(request, request.segments, result)
        return result

    def _translate_into(
        self, request: BatchRequest, segments: list[SegmentText], result: BatchResult
    ) -> None:
        answer, stats = self._chat(request, segments)
        parsed = _parse_answer(answer, {s.id for s in segments})
        if len(parsed) == len(segments):
            _record(result, segments, parsed, stats)
            return
        if len(segments) == 1:
            result.failures[segments[0].id] = (
                f"{self.model} gave no usable translation for this segment: {_describe(answer)}"
            )
            return
        log.info("ollama answer had %d of %d ids; splitting", len(parsed), len(segments))
        middle = len(segments) // 2
        self._translate_into(request, segments[:middle], result)
        self._translate_into(request, segments[middle:], result)

    def _chat(
        self, request: BatchRequest, segments: list[SegmentText]
    ) -> tuple[str, dict[str, Any]]:
        messages = [
            {
                "role": "system",
                "content": prompts.system_prompt(request.source_lang, request.target_lang),
            },
            {"role": "user", "content": prompts.user_message(segments)},
        ]
        started = time.perf_counter()
        try:
            stream = self.client.chat(
                model=self.model,
                messages=messages,
                stream=True,
                format=prompts.RESPONSE_SCHEMA,
                options=self._options(segments),
                keep_alive="10m",
            )
            parts: list[str] = []
            final: Any = None
            for chunk in stream:
                parts.append(chunk.message.content or "")
                final = chunk
        except Exception as exc:
            raise self._translate_error(exc) from exc
        stats = {
            "tokens_in": getattr(final, "prompt_eval_count", None),
            "tokens_out": getattr(final, "eval_count", None),
            "duration_ms": (time.perf_counter() - started) * 1000,
        }
        return "".join(parts), stats

    def _options(self, segments: list[SegmentText]) -> dict[str, Any]:
        expected = sum(estimate_tokens(s.text) for s in segments)
        reasoning = "deepseek-r1" in self.model.lower()
        return {
            "num_ctx": NUM_CTX,
            "seed": SEED,
            "temperature": 0.6 if reasoning else 0.2,
            "num_predict": min(NUM_CTX // 2, 3 * expected + 64 + (1024 if reasoning else 0)),
        }

    def _translate_error(self, exc: Exception) -> Exception:
        if isinstance(exc, ConnectionError | httpx.ConnectError):
            return BackendUnavailable(f"Ollama is not running at {self.host} (connection refused).")
        if isinstance(exc, httpx.TimeoutException):
            return BackendUnavailable(
                f"Ollama at {self.host} did not answer within {self.timeout_s:g} s."
            )
        if isinstance(exc, httpx.TransportError):
            return BackendUnavailable(f"Lost the connection to Ollama at {self.host}: {exc}")
        if isinstance(exc, ollama.ResponseError):
            return _response_error(exc, self.model, self.host)
        return exc


def _response_error(exc: ollama.ResponseError, model: str, host: str) -> Exception:
    if exc.status_code == 404:
        return ModelNotFound(
            f"Model '{model}' is not pulled on Ollama at {host}: run `ollama pull {model}`."
        )
    if exc.status_code == 503:
        return BackendOverloaded(f"Ollama at {host} is overloaded (503); will retry.")
    if exc.status_code >= 500 or exc.status_code < 0:
        return TransientError(f"Ollama at {host} failed: {exc.error}")
    return BackendFailed(f"Ollama at {host} refused the request: {exc.error}")


def _parse_answer(answer: str, wanted: set[int]) -> dict[int, str]:
    """Return {id: text} for the wanted ids found in a JSON answer; junk yields {}."""
    text = strip_reasoning(answer)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        return {}
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return {}
    items = data.get("translations") if isinstance(data, dict) else None
    found: dict[int, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        seg_id, value = item.get("id"), item.get("text")
        if (
            isinstance(seg_id, int)
            and seg_id in wanted
            and isinstance(value, str)
            and value.strip()
        ):
            found.setdefault(seg_id, value.strip())
    return found


def _record(
    result: BatchResult, segments: list[SegmentText], parsed: dict[int, str], stats: dict[str, Any]
) -> None:
    weights = [len(s.text) for s in segments]
    tokens_in = split_cost(stats["tokens_in"], weights)
    tokens_out = split_cost(stats["tokens_out"], [len(parsed[s.id]) for s in segments])
    share = stats["duration_ms"] / len(segments)
    for i, segment in enumerate(segments):
        result.translations[segment.id] = SegmentResult(
            text=parsed[segment.id],
            tokens_in=tokens_in[i],
            tokens_out=tokens_out[i],
            duration_ms=share,
        )


def _describe(answer: str) -> str:
    snippet = " ".join(answer.split())[:120]
    return f"answer was {snippet!r}" if snippet else "the answer was empty"
