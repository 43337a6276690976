"""Vision backends: a local model reads an image (a region, a line) and answers in text.

Backends are chosen by configuration (PALIMPSEST_VISION_BACKEND, _MODEL) and imported
lazily by `create`, so the web process never loads a model client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.config import Settings

if TYPE_CHECKING:
    from service.transcription.vision.base import VisionBackend

BACKENDS = ("ollama", "openai")


def create(settings: Settings, backend: str, model: str) -> VisionBackend:
    """The vision backend for a backend name and model."""
    if backend == "openai":
        from service.transcription.vision.openai import OpenAIVision

        return OpenAIVision.from_settings(settings, model)
    from service.transcription.vision.ollama import OllamaVision

    return OllamaVision.from_settings(settings, model)
