"""Ollama vision models (qwen2.5vl, qwen3-vl, llama3.2-vision, gemma3, minicpm-v…): the
image goes in the message's `images` field, through the official client.

A model is used only when its `/api/show` capabilities include `vision`; errors, hosts,
timeouts, `think: false` for thinking models and the digest for provenance come from the
translation backend for Ollama, which this one holds.
"""

from __future__ import annotations

import time
from typing import Any

from service.config import Settings
from service.errors import ModelNotFound, PipelineError
from service.transcription.vision.base import VisionAnswer, VisionModel, VisionRequest
from service.translation.backends.ollama import OllamaBackend, OllamaOptions


class OllamaVision:
    """Reads images with a vision model served by Ollama (the first host that has it)."""

    name = "ollama"

    def __init__(self, server: OllamaBackend) -> None:
        self.server = server
        self.model = server.model
        self.host = server.host

    @classmethod
    def from_settings(cls, settings: Settings, model: str) -> OllamaVision:
        """The backend for a model on the configured hosts."""
        options = OllamaOptions(
            num_ctx=settings.ollama_context(model),
            seed=settings.translation_seed,
            temperature=0.0,
            keep_alive=settings.ollama_keep_alive,
            timeout_s=settings.vision_timeout_s,
            connect_timeout_s=settings.ollama_connect_timeout_s,
        )
        return cls(OllamaBackend(settings.ollama_host_list, model, options))

    def describe(self) -> VisionModel:
        """The model's digest, once a host says it is pulled and reads images."""
        errors: list[PipelineError] = []
        for host in self.server.hosts:
            try:
                info = self.server.host_model(host)
            except PipelineError as exc:
                errors.append(exc)
                continue
            if "vision" not in info.capabilities:
                raise ModelNotFound(
                    f"Model '{self.model}' on Ollama at {host} cannot read images (its "
                    f"capabilities: {', '.join(info.capabilities) or 'none'}); choose a "
                    "vision model such as qwen2.5vl:7b or llama3.2-vision:11b."
                )
            self.host = host
            return VisionModel(self.model, info.digest, "thinking" in info.capabilities)
        raise errors[0]

    def read(self, request: VisionRequest) -> VisionAnswer:
        """One chat request with the image; the answer streamed (no read timeout on it)."""
        model = self.describe()
        client = self.server._client(self.host)
        started = time.perf_counter()
        try:
            stream = client.chat(
                model=self.model,
                messages=_messages(request),
                stream=True,
                options=self._vision_options(request.max_tokens),
                keep_alive=self.server.options.keep_alive,
                think=False if model.thinking else None,
            )
            parts: list[str] = []
            final: Any = None
            for chunk in stream:
                parts.append(chunk.message.content or "")
                final = chunk
        except Exception as exc:
            raise self.server._error(exc, self.host) from exc
        return VisionAnswer(
            text="".join(parts),
            tokens_in=getattr(final, "prompt_eval_count", None),
            tokens_out=getattr(final, "eval_count", None),
            duration_ms=(time.perf_counter() - started) * 1000,
            host=self.host,
            done_reason=getattr(final, "done_reason", None),
        )

    def _vision_options(self, limit: int) -> dict[str, Any]:
        return {
            "num_ctx": self.server.options.num_ctx,
            "seed": self.server.options.seed,
            "temperature": 0.0,
            "num_predict": limit,
        }


def _messages(request: VisionRequest) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.user, "images": [request.image]},
    ]
