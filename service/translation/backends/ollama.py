"""Ollama through its official Python client: streamed JSON batches over one or more servers.

Every request carries the model's fixed `num_ctx` (a different one makes Ollama reload the
model), a seed, a temperature (0.6 for DeepSeek-R1 distills, as DeepSeek recommends), a
`num_predict` cap and `keep_alive`; `think=False` goes to models whose `/api/show` lists
the `thinking` capability, and think blocks are removed from answers anyway. Answers are
streamed so a long one never hits the read timeout. With several hosts, each batch goes
to one chosen by its route key and falls over to the others when that one is down, busy
or lacks the model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import ollama

from service.errors import (
    BackendFailed,
    BackendOverloaded,
    BackendUnavailable,
    ModelNotFound,
    PipelineError,
    TransientError,
)
from service.translation.backends import completion, jsonbatch
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    ModelInfo,
    PromptStyle,
    is_reasoning_model,
    is_translategemma,
    parse_size,
)
from service.translation.prompts import translategemma

log = logging.getLogger(__name__)

INFO_TTL_S = 300.0


@dataclass(frozen=True)
class OllamaOptions:
    """Per-request settings that stay the same for a model across every request."""

    num_ctx: int = 8192
    seed: int = 42
    temperature: float = 0.2
    keep_alive: str = "30m"
    timeout_s: float = 600.0
    connect_timeout_s: float = 5.0


@dataclass(frozen=True)
class HostModel:
    """What one host says about the model: its digest, capabilities and size (billions)."""

    digest: str | None
    capabilities: tuple[str, ...]
    parameters: float | None = None


_INFO: dict[tuple[str, str], tuple[float, HostModel]] = {}


class OllamaBackend:
    """Translates batches with a model served by Ollama on one or more hosts."""

    name = "ollama"

    def __init__(self, hosts: list[str] | str, model: str, options: OllamaOptions) -> None:
        self.hosts = [hosts] if isinstance(hosts, str) else list(hosts)
        self.host = self.hosts[0]
        self.model = model
        self.options = options
        self.reasoning = is_reasoning_model(model)
        self.style = PromptStyle.PLAIN if is_translategemma(model) else PromptStyle.CHAT

    def translate(self, request: BatchRequest) -> BatchResult:
        """Translate on the batch's host; fall over to the next hosts when it cannot serve."""
        first = request.route % len(self.hosts)
        order = self.hosts[first:] + self.hosts[:first]
        errors: list[PipelineError] = []
        for host in order:
            try:
                result = self._translate_on(host, request)
            except (BackendUnavailable, BackendOverloaded, ModelNotFound) as exc:
                log.warning("%s", exc.message)
                errors.append(exc)
                continue
            if errors:
                result.note(list(result.attempts), f"host failover to {host}")
            return result
        raise _worst(errors)

    def describe(self) -> ModelInfo:
        """Digest and context of the model on the first host that has it."""
        errors: list[PipelineError] = []
        for host in self.hosts:
            try:
                info = self.host_model(host)
            except PipelineError as exc:
                errors.append(exc)
                continue
            return ModelInfo(
                name=self.model,
                digest=info.digest,
                context_tokens=self.options.num_ctx,
                reasoning=self.reasoning and "thinking" not in info.capabilities,
                detail=f"on {host}" if len(self.hosts) > 1 else "",
                parameters=info.parameters,
                style=self.style,
            )
        raise _worst(errors)

    def host_model(self, host: str) -> HostModel:
        """Digest (from /api/tags) and capabilities (from /api/show), cached for a while."""
        cached = _INFO.get((host, self.model))
        if cached and time.monotonic() - cached[0] < INFO_TTL_S:
            return cached[1]
        client = self._client(host, probe=True)
        try:
            listed = {m.model: m.digest for m in client.list().models}
            shown = client.show(self.model)
        except Exception as exc:
            raise self._error(exc, host) from exc
        digest = listed.get(self.model) or listed.get(f"{self.model}:latest")
        info = HostModel(digest, tuple(shown.capabilities or ()), _parameters(shown, self.model))
        _INFO[(host, self.model)] = (time.monotonic(), info)
        return info

    def _translate_on(self, host: str, request: BatchRequest) -> BatchResult:
        info = self.host_model(host)
        thinking = "thinking" in info.capabilities
        client = self._client(host)
        ceiling = self.options.num_ctx // 2

        def call(
            messages: list[dict[str, str]], schema: dict[str, Any], limit: int
        ) -> jsonbatch.Answer:
            return self._chat(client, host, messages, schema, limit, thinking, request.attempt)

        label = f"{self.model} on {host}" if len(self.hosts) > 1 else self.model
        if self.style is PromptStyle.PLAIN:

            def one(request: BatchRequest, text: str, limit: int) -> jsonbatch.Answer:
                chat = translategemma.messages(request, text)
                return self._chat(client, host, chat, None, limit, thinking, request.attempt)

            result = completion.translate_each(request, one, label, translategemma.echoes(request))
        else:
            reasoning = self.reasoning and not thinking
            result = jsonbatch.translate(request, call, label, ceiling, reasoning)
        result.host, result.digest = host, info.digest
        return result

    def _chat(
        self,
        client: ollama.Client,
        host: str,
        messages: list[dict[str, str]],
        schema: dict[str, Any] | None,
        limit: int,
        thinking: bool,
        attempt: int = 0,
    ) -> jsonbatch.Answer:
        started = time.perf_counter()
        try:
            stream = client.chat(
                model=self.model,
                messages=messages,
                stream=True,
                format=schema,
                options=self._options(limit, attempt),
                keep_alive=self.options.keep_alive,
                think=False if thinking else None,
            )
            parts: list[str] = []
            final: Any = None
            for chunk in stream:
                parts.append(chunk.message.content or "")
                final = chunk
        except Exception as exc:
            raise self._error(exc, host) from exc
        return _answer("".join(parts), final, (time.perf_counter() - started) * 1000)

    def _options(self, limit: int, attempt: int = 0) -> dict[str, Any]:
        return {
            "num_ctx": self.options.num_ctx,
            "seed": self.options.seed + attempt,
            "temperature": 0.6 if self.reasoning else self.options.temperature,
            "num_predict": limit,
        }

    def _client(self, host: str, probe: bool = False) -> ollama.Client:
        read = min(self.options.timeout_s, 30.0) if probe else self.options.timeout_s
        timeout = httpx.Timeout(read, connect=self.options.connect_timeout_s)
        return ollama.Client(host=host, timeout=timeout)

    def _error(self, exc: Exception, host: str) -> Exception:
        if isinstance(exc, PipelineError):
            return exc
        if isinstance(exc, ConnectionError | httpx.ConnectError):
            return BackendUnavailable(f"Ollama is not running at {host} (connection refused).")
        if isinstance(exc, httpx.TimeoutException):
            return BackendUnavailable(
                f"Ollama at {host} did not answer within {self.options.timeout_s:g} s."
            )
        if isinstance(exc, httpx.TransportError):
            return BackendUnavailable(f"Lost the connection to Ollama at {host}: {exc}")
        if isinstance(exc, ollama.ResponseError):
            return _response_error(exc, self.model, host)
        return exc


def _parameters(shown: Any, model: str) -> float | None:
    """Billions of parameters from /api/show: `model_info`'s count, else the details' size
    label (`3.2B`), else the model's name."""
    info = getattr(shown, "modelinfo", None) or {}
    count = info.get("general.parameter_count") if isinstance(info, dict) else None
    if isinstance(count, int | float) and count > 0:
        return float(count) / 1e9
    details = getattr(shown, "details", None)
    return parse_size(getattr(details, "parameter_size", None)) or parse_size(model)


def _answer(text: str, final: Any, wall_ms: float) -> jsonbatch.Answer:
    eval_ns = getattr(final, "eval_duration", None)
    return jsonbatch.Answer(
        text=text,
        tokens_in=getattr(final, "prompt_eval_count", None),
        tokens_out=getattr(final, "eval_count", None),
        wall_ms=wall_ms,
        generation_ms=eval_ns / 1e6 if eval_ns else None,
        done_reason=getattr(final, "done_reason", None),
    )


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


def _worst(errors: list[PipelineError]) -> PipelineError:
    """One host's transient trouble outweighs another's missing model: retrying may help."""
    transient = [e for e in errors if isinstance(e, TransientError)]
    if len(errors) == 1:
        return errors[0]
    if transient:
        reasons = "; ".join(e.message for e in errors)
        return type(transient[0])(f"No Ollama host could take the batch: {reasons}")
    return errors[0]
