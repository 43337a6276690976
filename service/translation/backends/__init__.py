"""Backend selection by name; imports are lazy so the web process never loads an LLM client."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import httpx

from service.config import Settings
from service.translation.backends.base import TranslationBackend

log = logging.getLogger(__name__)


class BackendName(StrEnum):
    """Translation backends a document can ask for."""

    OLLAMA = "ollama"
    EMBEDDED = "embedded"


@dataclass(frozen=True)
class BackendChoice:
    """A resolved backend and model, and why it was chosen when it was automatic."""

    backend: BackendName
    model: str
    reason: str = ""


def resolve(settings: Settings, backend: str | None, model: str | None) -> BackendChoice:
    """Resolve `auto`: Ollama when it answers and has the model, else the embedded model."""
    if backend == BackendName.OLLAMA:
        return BackendChoice(BackendName.OLLAMA, model or settings.ollama_model)
    if backend == BackendName.EMBEDDED:
        return BackendChoice(BackendName.EMBEDDED, model or str(settings.embedded_model_file))
    wanted = model or settings.ollama_model
    available = ollama_models(settings)
    if available is None:
        reason = f"Ollama does not answer at {settings.ollama_host}; using the embedded model."
    elif _has_model(available, wanted):
        return BackendChoice(BackendName.OLLAMA, wanted)
    else:
        reason = (
            f"Ollama at {settings.ollama_host} has no model {wanted!r}; using the embedded model."
        )
    log.info(reason)
    return BackendChoice(BackendName.EMBEDDED, str(settings.embedded_model_file), reason)


def ollama_models(settings: Settings) -> list[str] | None:
    """Names of the models Ollama has pulled, or None when it does not answer."""
    try:
        response = httpx.get(
            f"{settings.ollama_host.rstrip('/')}/api/tags", timeout=settings.ollama_probe_timeout_s
        )
        response.raise_for_status()
        return [str(m.get("name") or m.get("model")) for m in response.json().get("models", [])]
    except (httpx.HTTPError, ValueError):
        return None


def _has_model(available: list[str], wanted: str) -> bool:
    names = set(available)
    return wanted in names or (":" not in wanted and f"{wanted}:latest" in names)


def create(settings: Settings, choice: BackendChoice) -> TranslationBackend:
    """Instantiate the chosen backend."""
    if choice.backend is BackendName.OLLAMA:
        from service.translation.backends.ollama import OllamaBackend

        return OllamaBackend(settings.ollama_host, choice.model, settings.ollama_timeout_s)
    from pathlib import Path

    from service.translation.backends.llamacpp import EmbeddedBackend, ensure_default_model

    path = Path(choice.model)
    if path == settings.embedded_model_file:
        ensure_default_model(path)
    return EmbeddedBackend(path, settings.embedded_n_ctx, settings.embedded_threads)
