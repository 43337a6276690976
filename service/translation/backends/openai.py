"""Any OpenAI-compatible server (llama.cpp's server, vLLM, LM Studio) over plain HTTP.

Chat models get JSON batches with a JSON-schema `response_format` (the `json_schema` form,
or llama-cpp-python's `json_object` + `schema` form when a server refuses the first);
base models get one few-shot `/completions` call per text. Answers are streamed (server-
sent events) so a long one never hits the read timeout. Such servers publish no model
digest, so provenance and the translation memory use the served model's name.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from service.errors import (
    BackendFailed,
    BackendOverloaded,
    BackendUnavailable,
    ModelNotFound,
    TransientError,
)
from service.translation.backends import completion, jsonbatch
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    ModelInfo,
    PromptStyle,
    is_reasoning_model,
    parse_size,
)
from service.translation.prompts import fewshot

log = logging.getLogger(__name__)

# Servers found to refuse the `json_schema` response format, by base URL.
_SCHEMA_STYLE: dict[str, str] = {}


@dataclass(frozen=True)
class OpenAIOptions:
    """Connection and sampling settings for one endpoint."""

    api_key: str | None = None
    timeout_s: float = 600.0
    connect_timeout_s: float = 5.0
    context_tokens: int = 8192
    seed: int = 42
    temperature: float = 0.2
    prompt_style: str = "chat"


class OpenAIBackend:
    """Translates with a model behind an OpenAI-compatible `/v1` endpoint."""

    name = "openai"

    def __init__(self, base_url: str, model: str, options: OpenAIOptions) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.options = options
        self.reasoning = is_reasoning_model(model)
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self.client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(options.timeout_s, connect=options.connect_timeout_s),
        )

    def translate(self, request: BatchRequest) -> BatchResult:
        """Translate the batch in the configured prompt style."""
        if self.options.prompt_style == "completion":
            result = completion.translate_each(
                request, self._complete, self.model, fewshot.echoes(request)
            )
        else:
            ceiling = self.options.context_tokens // 2
            result = jsonbatch.translate(request, self._chat, self.model, ceiling, self.reasoning)
        result.host = self.base_url
        return result

    def describe(self) -> ModelInfo:
        """Check that the server serves the model."""
        try:
            response = self.client.get("/models", timeout=30.0)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        self._raise_for_status(response)
        served = [str(m.get("id")) for m in response.json().get("data", [])]
        if self.model not in served:
            raise ModelNotFound(
                f"The server at {self.base_url} serves no model {self.model!r}"
                f" (it serves: {', '.join(served) or 'nothing'})."
            )
        completing = self.options.prompt_style == "completion"
        style = PromptStyle.COMPLETION if completing else PromptStyle.CHAT
        return ModelInfo(
            self.model,
            None,
            self.options.context_tokens,
            self.reasoning,
            parameters=parse_size(self.model),
            style=style,
        )

    def _chat(
        self, messages: list[dict[str, str]], schema: dict[str, Any], limit: int
    ) -> jsonbatch.Answer:
        body = self._sampling(limit) | {"messages": messages}
        style = _SCHEMA_STYLE.get(self.base_url, "json_schema")
        try:
            return self._stream("/chat/completions", body | _response_format(style, schema))
        except (BackendFailed, TransientError) as exc:
            # llama-cpp-python's server knows only `json_object` and says so with a 500.
            if style != "json_schema" or "json_schema" not in exc.message:
                raise
        log.info("%s refuses json_schema; using json_object with a schema", self.base_url)
        _SCHEMA_STYLE[self.base_url] = "json_object"
        return self._stream("/chat/completions", body | _response_format("json_object", schema))

    def _complete(self, request: BatchRequest, text: str, limit: int) -> jsonbatch.Answer:
        prompt = fewshot.completion_prompt(request, text)
        greedy = 0.0 if request.attempt == 0 else 0.4
        body = self._sampling(limit, request.attempt) | {
            "prompt": prompt,
            "stop": ["\n"],
            "temperature": greedy,
        }
        return self._stream("/completions", body)

    def _sampling(self, limit: int, attempt: int = 0) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_tokens": limit,
            "temperature": 0.6 if self.reasoning else self.options.temperature,
            "seed": self.options.seed + attempt,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    def _stream(self, path: str, body: dict[str, Any]) -> jsonbatch.Answer:
        started = time.perf_counter()
        try:
            with self.client.stream("POST", path, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise_for_status(response)
                state = _collect(_events(response.iter_lines()), started)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        return state.answer((time.perf_counter() - started) * 1000)

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        status, reason = response.status_code, _error_text(response)
        where = f"the server at {self.base_url}"
        if status == 404:
            raise ModelNotFound(f"Model {self.model!r} is not served at {self.base_url}: {reason}")
        if status in (429, 503):
            raise BackendOverloaded(f"{where} is overloaded ({status}); will retry.")
        if status >= 500:
            raise TransientError(f"{where} failed ({status}): {reason}")
        if status in (401, 403):
            raise BackendFailed(f"{where} refused the API key ({status}): {reason}")
        raise BackendFailed(f"{where} refused the request ({status}): {reason}")

    def _transport_error(self, exc: httpx.HTTPError) -> Exception:
        if isinstance(exc, httpx.ConnectError):
            return BackendUnavailable(
                f"No OpenAI-compatible server is running at {self.base_url} (connection refused)."
            )
        if isinstance(exc, httpx.TimeoutException):
            return BackendUnavailable(
                f"The server at {self.base_url} did not answer within {self.options.timeout_s:g} s."
            )
        return BackendUnavailable(f"Lost the connection to {self.base_url}: {exc}")


def _response_format(style: str, schema: dict[str, Any]) -> dict[str, Any]:
    if style == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "translations", "schema": schema, "strict": True},
        }
    }


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    error = data.get("error", data) if isinstance(data, dict) else data
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or error)[:300]


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except json.JSONDecodeError:
            continue


@dataclass
class _Stream:
    parts: list[str]
    chunks: int = 0
    first_token: float | None = None
    usage: dict[str, Any] | None = None
    finish: str | None = None

    def answer(self, wall_ms: float) -> jsonbatch.Answer:
        usage = self.usage or {}
        # Without usage, llama.cpp and vLLM stream one token per content chunk.
        tokens_out = usage.get("completion_tokens") or self.chunks or None
        generation = None
        if self.first_token is not None:
            generation = max(wall_ms - self.first_token, 1e-3)
        return jsonbatch.Answer(
            text="".join(self.parts),
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=tokens_out,
            wall_ms=wall_ms,
            generation_ms=generation,
            done_reason=self.finish,
        )


def _collect(events: Iterator[dict[str, Any]], started: float) -> _Stream:
    state = _Stream(parts=[])
    for event in events:
        if event.get("usage"):
            state.usage = event["usage"]
        for choice in event.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
            if piece:
                if state.first_token is None:
                    state.first_token = (time.perf_counter() - started) * 1000
                state.parts.append(piece)
                state.chunks += 1
            state.finish = choice.get("finish_reason") or state.finish
    return state
