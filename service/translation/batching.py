"""From segments to model requests and back: long texts split, answers checked, retried once.

Pure logic over a backend; the service loads the units and stores the outcomes. Requests
carry request-local ids (1…n), so a segment can be cut into sentence-sized parts that are
translated separately and joined again in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    GlossaryHint,
    Task,
    TranslationBackend,
)
from service.translation.checks import Finding, Problem, check
from service.translation.chunking import SegmentText, plan_batches, split_text
from service.translation.glossary import missing_renderings


@dataclass(frozen=True)
class Unit:
    """One segment to answer: its text, the texts before it and the glossary entries in it."""

    segment_id: int
    text: str
    context: tuple[str, ...] = ()
    glossary: tuple[GlossaryHint, ...] = ()


@dataclass(frozen=True)
class Spec:
    """What every request of a batch shares."""

    task: Task
    source_lang: str
    target_lang: str
    budget: int
    period: str | None = None
    genre: str | None = None
    route: int = 0


@dataclass
class Outcome:
    """A segment's answer or failure, with its cost and what it took."""

    segment_id: int
    text: str | None = None
    error: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float | None = None
    generation_ms: float | None = None
    tokens_per_s: float | None = None
    attempts: int = 0
    fallbacks: list[str] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    host: str | None = None
    digest: str | None = None
    memory_id: int | None = None

    def fallback(self, name: str) -> None:
        """Record a fallback once."""
        if name not in self.fallbacks:
            self.fallbacks.append(name)


@dataclass(frozen=True)
class _Part:
    local_id: int
    unit: int
    index: int
    text: str


def answer(units: list[Unit], backend: TranslationBackend, spec: Spec) -> list[Outcome]:
    """Answer every unit; retry once, more strictly, an answer that is copied or absurd."""
    outcomes = _answer_all(units, backend, spec, strict=None)
    for i, unit in enumerate(units):
        finding = _finding(spec, unit, outcomes[i])
        if finding is not None:
            outcomes[i] = _retry(unit, outcomes[i], finding, backend, spec)
        text = outcomes[i].text
        if spec.task is Task.TRANSLATE and text is not None:
            outcomes[i].flags.extend(missing_renderings(unit.glossary, unit.text, text))
    return outcomes


def _finding(spec: Spec, unit: Unit, outcome: Outcome) -> Finding | None:
    if outcome.text is None:
        return None
    return check(spec.task, unit.text, outcome.text, (spec.source_lang, spec.target_lang))


def _retry(
    unit: Unit, first: Outcome, finding: Finding, backend: TranslationBackend, spec: Spec
) -> Outcome:
    second = _answer_all([unit], backend, spec, strict=finding.message)[0]
    second.attempts += first.attempts
    _add_cost(second, first.tokens_in, first.tokens_out, first.duration_ms, first.generation_ms)
    for name in [*first.fallbacks, "strict retry"]:
        second.fallback(name)
    again = _finding(spec, unit, second) if second.text is not None else finding
    if again is None:
        return second
    best = second if second.text is not None else first
    best.attempts, best.fallbacks = second.attempts, second.fallbacks
    if again.problem in (Problem.UNTRANSLATED, Problem.WRONG_LANGUAGE, Problem.PLACEHOLDER):
        best.text = None
        best.error = f"{again.message}, also after a stricter retry"
        best.flags.append({"kind": again.problem.value, "message": again.message})
        return best
    best.flags.append({"kind": again.problem.value, "message": again.message})
    return best


def _answer_all(
    units: list[Unit], backend: TranslationBackend, spec: Spec, strict: str | None
) -> list[Outcome]:
    parts = _parts(units, spec.budget)
    results: dict[int, tuple[BatchResult, str | None]] = {}
    requests = plan_batches([SegmentText(p.local_id, p.text) for p in parts], spec.budget)
    for ids in requests:
        chosen = [parts[i - 1] for i in ids]
        result = backend.translate(_request(units, parts, chosen, spec, strict))
        for part in chosen:
            results[part.local_id] = (result, result.failures.get(part.local_id))
    return [_assemble(i, unit, parts, results) for i, unit in enumerate(units)]


def _parts(units: list[Unit], budget: int) -> list[_Part]:
    parts: list[_Part] = []
    for u, unit in enumerate(units):
        for index, text in enumerate(split_text(unit.text, budget)):
            parts.append(_Part(len(parts) + 1, u, index, text))
    return parts


def _request(
    units: list[Unit], parts: list[_Part], chosen: list[_Part], spec: Spec, strict: str | None
) -> BatchRequest:
    first = chosen[0]
    if first.index == 0:
        context = units[first.unit].context
    else:
        context = tuple(p.text for p in parts if p.unit == first.unit and p.index < first.index)
    hints: dict[str, GlossaryHint] = {}
    for part in chosen:
        for hint in units[part.unit].glossary:
            hints.setdefault(hint.term, hint)
    return BatchRequest(
        source_lang=spec.source_lang,
        target_lang=spec.target_lang,
        segments=[SegmentText(p.local_id, p.text) for p in chosen],
        task=spec.task,
        context=context[-3:],
        glossary=tuple(hints.values()),
        period=spec.period,
        genre=spec.genre,
        strict=strict,
        route=spec.route + units[first.unit].segment_id,
    )


def _assemble(
    u: int, unit: Unit, parts: list[_Part], results: dict[int, tuple[BatchResult, str | None]]
) -> Outcome:
    mine = [p for p in parts if p.unit == u]
    outcome = Outcome(unit.segment_id)
    texts: list[str] = []
    for part in mine:
        result, failure = results[part.local_id]
        outcome.attempts = max(outcome.attempts, result.attempts.get(part.local_id, 0))
        outcome.host, outcome.digest = result.host, result.digest
        for name in result.fallbacks.get(part.local_id, []):
            outcome.fallback(name)
        done = result.translations.get(part.local_id)
        if done is None:
            outcome.error = outcome.error or failure or "The model returned nothing for this text."
            continue
        texts.append(done.text)
        _add_cost(outcome, done.tokens_in, done.tokens_out, done.duration_ms, done.generation_ms)
        outcome.tokens_per_s = done.tokens_per_s
    if len(mine) > 1:
        outcome.fallback(f"split into {len(mine)} parts at sentence boundaries")
    if outcome.error is None:
        outcome.text = " ".join(texts)
    return outcome


def _add_cost(
    outcome: Outcome,
    tokens_in: int | None,
    tokens_out: int | None,
    duration_ms: float | None,
    generation_ms: float | None,
) -> None:
    outcome.tokens_in = _plus(outcome.tokens_in, tokens_in)
    outcome.tokens_out = _plus(outcome.tokens_out, tokens_out)
    outcome.duration_ms = _plus(outcome.duration_ms, duration_ms)
    outcome.generation_ms = _plus(outcome.generation_ms, generation_ms)


N = TypeVar("N", int, float)


def _plus(a: N | None, b: N | None) -> N | None:
    if a is None:
        return b
    return a if b is None else a + b
