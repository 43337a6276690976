"""From segments to model requests and back: answers checked, and retried once when flagged.

Pure logic over a backend; the service loads the units and stores the outcomes. In segment
mode, requests carry request-local ids (1…n), so a segment can be cut into sentence-sized
parts that are translated separately and joined again in order; a flagged translation is
retried sentence by sentence. In sentence mode (small models) every sentence is its own
request (see `by_sentence`). Either way every answer passes the checks, and what they
still find after the retry is kept as the translation's flags.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.translation import by_sentence, checks
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    GlossaryHint,
    Task,
    TranslationBackend,
)
from service.translation.backends.base import Unit as PromptUnit
from service.translation.checks import Answer, Finding
from service.translation.chunking import SegmentText, plan_batches, split_text
from service.translation.glossary import missing_renderings
from service.translation.work import Outcome, Spec, Unit

__all__ = ["Outcome", "Spec", "Unit", "answer"]


def answer(units: list[Unit], backend: TranslationBackend, spec: Spec) -> list[Outcome]:
    """Answer every unit, check every answer, and retry once, more strictly, what is flagged."""
    if spec.task is Task.TRANSLATE and spec.unit is PromptUnit.SENTENCE:
        outcomes = by_sentence.translate(units, backend, spec)
    else:
        first = _answer_all(units, backend, spec, strict=None)
        outcomes = [_checked(u, o, backend, spec) for u, o in zip(units, first, strict=True)]
    if spec.task is Task.TRANSLATE:
        for unit, outcome in zip(units, outcomes, strict=True):
            if outcome.text is not None:
                outcome.flags.extend(missing_renderings(unit.glossary, unit.text, outcome.text))
    return outcomes


def _checked(unit: Unit, outcome: Outcome, backend: TranslationBackend, spec: Spec) -> Outcome:
    found = _findings(spec, unit, outcome)
    if not found:
        return outcome
    if spec.task is Task.TRANSLATE:
        second, _ = by_sentence.translate_unit(unit, backend, spec, strict=found[0].message)
        second.fallbacks.insert(0, f"strict retry after: {found[0].message}")
    else:
        second = _answer_all([unit], backend, spec, strict=found[0].message)[0]
        second.fallbacks.insert(0, f"strict retry after: {found[0].message}")
        second.flags = [f.flag() for f in _findings(spec, unit, second)]
    return _better(outcome, found, second)


def _findings(spec: Spec, unit: Unit, outcome: Outcome) -> list[Finding]:
    if outcome.text is None:
        return []
    answer = Answer(
        unit.text,
        outcome.text,
        spec.source_lang,
        spec.target_lang,
        outcome.echoes,
        None,
        spec.known,
    )
    found = checks.findings(spec.task, answer)
    missed = missing_renderings(unit.glossary, unit.text, outcome.text)
    return found + [Finding(checks.Problem.GLOSSARY, m["message"]) for m in missed]


def _better(first: Outcome, found: list[Finding], second: Outcome) -> Outcome:
    """The retry where it is no worse; the first answer's flags go with it otherwise."""
    second.attempts += first.attempts
    second.add_cost_of(first)
    second.fallbacks = [
        *first.fallbacks,
        *(f for f in second.fallbacks if f not in first.fallbacks),
    ]
    unusable = [f for f in found if f.problem in checks.UNUSABLE]
    if second.text is not None and _doubts(second) <= len(found):
        return second
    if unusable:
        second.text, second.error = None, f"{unusable[0].message}, also after a stricter retry"
        second.flags = [unusable[0].flag()]
        return second
    first.attempts, first.fallbacks = second.attempts, second.fallbacks
    first.tokens_in, first.tokens_out = second.tokens_in, second.tokens_out
    first.duration_ms, first.generation_ms = second.duration_ms, second.generation_ms
    first.flags = [f.flag() for f in found if f.problem is not checks.Problem.GLOSSARY]
    return first


def _doubts(outcome: Outcome) -> int:
    return sum(1 for flag in outcome.flags if checks.is_doubt(flag))


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


@dataclass(frozen=True)
class _Part:
    local_id: int
    unit: int
    index: int
    text: str


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
        attempt=0 if strict is None else 1,
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
        outcome.echoes = result.echoes
        for name in result.fallbacks.get(part.local_id, []):
            outcome.fallback(name)
        done = result.translations.get(part.local_id)
        if done is None:
            outcome.error = outcome.error or failure or "The model returned nothing for this text."
            continue
        texts.append(done.text)
        outcome.add_cost(done.tokens_in, done.tokens_out, done.duration_ms, done.generation_ms)
        outcome.tokens_per_s = done.tokens_per_s
    if len(mine) > 1:
        outcome.fallback(f"split into {len(mine)} parts at sentence boundaries")
    if outcome.error is None:
        outcome.text = " ".join(texts)
    return outcome
