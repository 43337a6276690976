"""The translation backend interface, shared request/result types and answer cleaning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from service.translation.chunking import SegmentText


class Task(StrEnum):
    """What the model is asked to do with each text."""

    TRANSLATE = "translate"
    CORRECT = "correct"


class Unit(StrEnum):
    """What one model request carries: a whole segment, or one sentence of it.

    The segment stays the unit of alignment, storage and review either way.
    """

    SEGMENT = "segment"
    SENTENCE = "sentence"


class PromptStyle(StrEnum):
    """How a model is prompted: JSON batches in chat, few-shot completion, or one text per
    chat turn in a model's own documented format (TranslateGemma)."""

    CHAT = "chat"
    COMPLETION = "completion"
    PLAIN = "plain"


@dataclass(frozen=True)
class GlossaryHint:
    """An agreed rendering the model must use when the term occurs."""

    term: str
    translation: str
    note: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    """Consecutive texts of one document to handle together, with what the model should know.

    `segments` carry request-local ids; the caller maps them back to segments. `context`
    holds the texts just before the first one (not to be translated), `glossary` only the
    entries whose term occurs in the batch. `previous` is the sentence before and its
    translation, given in sentence mode so that pronouns and names carry over. `strict` asks
    again after an unusable answer, and `attempt` counts such retries (a backend varies its
    seed with it); `route` spreads batches over several servers.
    """

    source_lang: str
    target_lang: str
    segments: list[SegmentText]
    task: Task = Task.TRANSLATE
    context: tuple[str, ...] = ()
    glossary: tuple[GlossaryHint, ...] = ()
    period: str | None = None
    genre: str | None = None
    strict: str | None = None
    route: int = 0
    previous: tuple[str, str] | None = None
    attempt: int = 0


@dataclass(frozen=True)
class SegmentResult:
    """One text's answer with its share of the batch's cost."""

    text: str
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float | None = None
    generation_ms: float | None = None
    tokens_per_s: float | None = None


@dataclass
class BatchResult:
    """Answers by id, a reason for each id that got none, and what it took to get them.

    `echoes` are the prompt's own texts (examples, instructions), each with what to call
    it: an answer must never be one of them.
    """

    translations: dict[int, SegmentResult] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    fallbacks: dict[int, list[str]] = field(default_factory=dict)
    host: str | None = None
    digest: str | None = None
    echoes: tuple[tuple[str, str], ...] = ()

    def note(self, ids: list[int], fallback: str) -> None:
        """Record a fallback taken for these ids."""
        for seg_id in ids:
            taken = self.fallbacks.setdefault(seg_id, [])
            if fallback not in taken:
                taken.append(fallback)

    def tried(self, ids: list[int]) -> None:
        """Count one more model request that carried these ids."""
        for seg_id in ids:
            self.attempts[seg_id] = self.attempts.get(seg_id, 0) + 1


@dataclass(frozen=True)
class ModelInfo:
    """What a run needs to know about its model before it starts.

    `parameters` is the model's size in billions where the server or file says it;
    `style` how the backend prompts it.
    """

    name: str
    digest: str | None
    context_tokens: int
    reasoning: bool = False
    detail: str = ""
    parameters: float | None = None
    style: PromptStyle = PromptStyle.CHAT


class TranslationBackend(Protocol):
    """Turns a batch of texts into answers per id."""

    name: str
    model: str

    def translate(self, request: BatchRequest) -> BatchResult:
        """Answer every text or say why not; raise TransientError to retry the batch."""
        ...

    def describe(self) -> ModelInfo:
        """Check the model is there and say what it is (digest, context size)."""
        ...


_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LONE_CLOSE = re.compile(r"^.*?</think>", re.DOTALL | re.IGNORECASE)
_UNCLOSED = re.compile(r"<think>.*\Z", re.DOTALL | re.IGNORECASE)


def strip_reasoning(answer: str) -> str:
    """Remove DeepSeek-R1 style `<think>…</think>` reasoning, even an unopened or unclosed block."""
    cleaned = _THINK_BLOCK.sub("", answer)
    cleaned = _LONE_CLOSE.sub("", cleaned)
    cleaned = _UNCLOSED.sub("", cleaned)
    return cleaned.strip()


def split_cost(total: int | None, weights: list[int]) -> list[int | None]:
    """Share a batch's token count among its segments in proportion to their lengths."""
    if total is None:
        return [None] * len(weights)
    whole = sum(weights) or 1
    return [round(total * w / whole) for w in weights]


_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def parse_size(text: str | None) -> float | None:
    """Billions of parameters from a size label or a model name (`3.2B`, `270M`,
    `qwen2.5:1.5b`, `Llama-3.2-1B-Instruct`); None when it says none."""
    if not text:
        return None
    sizes = [
        float(number) / (1000 if unit.lower() == "m" else 1)
        for number, unit in _SIZE.findall(text.replace("_", "-"))
    ]
    return max(sizes) if sizes else None


def is_translategemma(model: str) -> bool:
    """Google's translation-tuned Gemma 3, prompted in the format its model card documents."""
    return "translategemma" in model.lower().replace("-", "").replace("_", "")


def is_reasoning_model(model: str) -> bool:
    """DeepSeek-R1 and its distills think aloud and want temperature 0.6."""
    lowered = model.lower()
    return "deepseek-r1" in lowered or "r1-distill" in lowered or "-r1-" in lowered
