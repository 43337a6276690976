"""Backend selection by name; imports are lazy so the web process never loads an LLM client."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import httpx

from service.config import Settings
from service.translation.backends.base import TranslationBackend

log = logging.getLogger(__name__)


class BackendName(StrEnum):
    """Translation backends a document or run can ask for."""

    OLLAMA = "ollama"
    EMBEDDED = "embedded"
    OPENAI = "openai"


@dataclass(frozen=True)
class BackendChoice:
    """A resolved backend and model, and why it was chosen when it was automatic."""

    backend: BackendName
    model: str
    reason: str = ""


def resolve(settings: Settings, backend: str | None, model: str | None) -> BackendChoice:
    """Resolve `auto`: Ollama when a host answers and has the model, else the embedded model."""
    if backend == BackendName.OLLAMA:
        return BackendChoice(BackendName.OLLAMA, model or settings.ollama_model)
    if backend == BackendName.EMBEDDED:
        return BackendChoice(BackendName.EMBEDDED, model or str(settings.embedded_model_file))
    if backend == BackendName.OPENAI:
        return BackendChoice(BackendName.OPENAI, model or settings.openai_model)
    wanted = model or settings.ollama_model
    hosts = settings.ollama_host_list
    answers = [ollama_models(settings, host) for host in hosts]
    if any(a is not None and _has_model(a, wanted) for a in answers):
        return BackendChoice(BackendName.OLLAMA, wanted)
    where = ", ".join(hosts)
    if all(a is None for a in answers):
        reason = f"Ollama does not answer at {where}; using the embedded model."
    else:
        reason = f"Ollama at {where} has no model {wanted!r}; using the embedded model."
    log.info(reason)
    return BackendChoice(BackendName.EMBEDDED, str(settings.embedded_model_file), reason)


def ollama_models(settings: Settings, host: str | None = None) -> list[str] | None:
    """Names of the models an Ollama host has pulled, or None when it does not answer."""
    try:
        response = httpx.get(
            f"{(host or settings.ollama_host).rstrip('/')}/api/tags",
            timeout=settings.ollama_probe_timeout_s,
        )
        response.raise_for_status()
        return [str(m.get("name") or m.get("model")) for m in response.json().get("models", [])]
    except (httpx.HTTPError, ValueError):
        return None


def _has_model(available: list[str], wanted: str) -> bool:
    names = set(available)
    return wanted in names or (":" not in wanted and f"{wanted}:latest" in names)


def stored_name(choice: BackendChoice) -> str:
    """The model name translations record: a GGUF's file name rather than its full path."""
    if choice.backend is BackendName.EMBEDDED:
        return Path(choice.model).name
    return choice.model


def create(settings: Settings, choice: BackendChoice) -> TranslationBackend:
    """Instantiate the chosen backend."""
    if choice.backend is BackendName.OLLAMA:
        from service.translation.backends.ollama import OllamaBackend, OllamaOptions

        options = OllamaOptions(
            num_ctx=settings.ollama_context(choice.model),
            seed=settings.translation_seed,
            temperature=settings.translation_temperature,
            keep_alive=settings.ollama_keep_alive,
            timeout_s=settings.ollama_timeout_s,
            connect_timeout_s=settings.ollama_connect_timeout_s,
        )
        return OllamaBackend(settings.ollama_host_list, choice.model, options)
    if choice.backend is BackendName.OPENAI:
        return _openai(settings, choice)
    return _embedded(settings, choice)


def _openai(settings: Settings, choice: BackendChoice) -> TranslationBackend:
    from service.translation.backends.openai import OpenAIBackend, OpenAIOptions

    key = settings.openai_api_key
    options = OpenAIOptions(
        api_key=key.get_secret_value() if key else None,
        timeout_s=settings.openai_timeout_s,
        context_tokens=settings.openai_context_tokens,
        seed=settings.translation_seed,
        temperature=settings.translation_temperature,
        prompt_style=settings.openai_prompt_style,
    )
    return OpenAIBackend(settings.openai_base_url, choice.model, options)


def _embedded(settings: Settings, choice: BackendChoice) -> TranslationBackend:
    from service.translation.backends.llamacpp import EmbeddedBackend, ensure_default_model

    path = Path(choice.model)
    if path == settings.embedded_model_file:
        ensure_default_model(path)
    return EmbeddedBackend(
        path,
        settings.embedded_n_ctx,
        settings.embedded_threads,
        settings.embedded_prompt_style,
        settings.translation_seed,
    )


_ENGINES_TTL_S = 30.0
_options_cache: dict[str, tuple[float, list[BackendModelOption]]] = {}


@dataclass(frozen=True)
class BackendModelOption:
    """A `backend|model` a form offers, and whether its server answers right now."""

    value: str
    label: str
    answers: bool = True


def backend_model_options(settings: Settings) -> list[BackendModelOption]:
    """Every backend|model choice a form offers, each marked by whether its server answers.

    Asking the servers costs a round trip (up to the probe timeout when one is down), so
    the answer is kept for half a minute.
    """
    now = time.monotonic()
    key = f"{settings.ollama_host} {settings.openai_base_url}"
    cached = _options_cache.get(key)
    if cached and now - cached[0] < _ENGINES_TTL_S:
        return cached[1]
    backend_models = _backend_model_options(settings)
    _options_cache[key] = (now, backend_models)
    return backend_models


def backend_model_value(backend: str | None, model: str | None) -> str:
    """The form value (`backend|model`) of a document's model: Ollama's by name; the
    embedded and OpenAI-compatible ones by backend (their model is configured)."""
    if backend == BackendName.OLLAMA:
        return f"ollama|{model or ''}"
    return f"{backend}|"


def preferred(options: list[BackendModelOption], wanted: str) -> str | None:
    """The option to preselect: `wanted` if its server answers, else the first that does."""
    answering = [o.value for o in options if o.answers and o.value != "auto"]
    if wanted in answering:
        return wanted
    return answering[0] if answering else None


def _backend_model_options(settings: Settings) -> list[BackendModelOption]:
    backend_models = [
        BackendModelOption(
            "auto", "Automatic: Ollama if it runs with the model, else the embedded model"
        )
    ]
    models = ollama_models(settings)
    if models is None:
        label = f"Ollama at {settings.ollama_host}: not answering"
        backend_models.append(BackendModelOption("ollama|", label, answers=False))
    else:
        backend_models += [
            BackendModelOption(f"ollama|{name}", f"Ollama: {name}") for name in sorted(models)
        ]
    embedded = settings.embedded_model_file.name
    backend_models.append(BackendModelOption("embedded|", f"Embedded (llama.cpp): {embedded}"))
    openai = f"OpenAI-compatible server at {settings.openai_base_url}"
    if openai_answers(settings):
        backend_models.append(BackendModelOption("openai|", openai))
    else:
        backend_models.append(
            BackendModelOption("openai|", f"{openai}: not answering", answers=False)
        )
    return backend_models


def openai_answers(settings: Settings) -> bool:
    """Whether an OpenAI-compatible server answers at the configured address at all."""
    key = settings.openai_api_key
    headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
    try:
        httpx.get(
            f"{settings.openai_base_url.rstrip('/')}/models",
            headers=headers,
            timeout=settings.ollama_probe_timeout_s,
        )
    except httpx.HTTPError:
        return False
    return True
