"""OpenAI-compatible servers that read images (vLLM serving Qwen2.5-VL or a historical
model such as CHURRO-3B, llama.cpp's server with a multimodal projector, LM Studio): the
image goes as an `image_url` content part holding a data URI, as the OpenAI API has it."""

from __future__ import annotations

import base64
import time
from typing import Any

from service.config import Settings
from service.errors import ModelNotFound
from service.transcription.vision.base import VisionAnswer, VisionModel, VisionRequest
from service.translation.backends.openai import OpenAIBackend, OpenAIOptions


class OpenAIVision:
    """Reads images with a model behind an OpenAI-compatible `/v1` endpoint."""

    name = "openai"

    def __init__(self, server: OpenAIBackend) -> None:
        self.server = server
        self.model = server.model

    @classmethod
    def from_settings(cls, settings: Settings, model: str) -> OpenAIVision:
        """The backend for a model on the configured vision server."""
        key = settings.openai_api_key
        options = OpenAIOptions(
            api_key=key.get_secret_value() if key else None,
            timeout_s=settings.vision_timeout_s,
            seed=settings.translation_seed,
            temperature=0.0,
        )
        return cls(OpenAIBackend(settings.vision_base_url, model, options))

    def describe(self) -> VisionModel:
        """Check the server serves the model (such servers publish no digest)."""
        try:
            self.server.describe()
        except ModelNotFound as exc:
            raise ModelNotFound(exc.message + " Start it with a vision model.") from exc
        return VisionModel(self.model, None)

    def read(self, request: VisionRequest) -> VisionAnswer:
        """One streamed chat completion with the image as a data URI."""
        self.describe()
        body = self.server._sampling(request.max_tokens) | {"messages": _messages(request)}
        body["temperature"] = 0.0
        started = time.perf_counter()
        answer = self.server._stream("/chat/completions", body)
        return VisionAnswer(
            text=answer.text,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            duration_ms=(time.perf_counter() - started) * 1000,
            host=self.server.base_url,
            done_reason=answer.done_reason,
        )


def _messages(request: VisionRequest) -> list[dict[str, Any]]:
    uri = f"data:{request.media_type};base64,{base64.b64encode(request.image).decode()}"
    return [
        {"role": "system", "content": request.system},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": request.user},
                {"type": "image_url", "image_url": {"url": uri}},
            ],
        },
    ]
