"""Fidelity measured: translate a parallel set through the real path and score it with chrF.

Each item's source goes through the same prompts, backend, checks and retries as a
document's segment (`batching.answer`), in batches planned as a run plans them, with the
items before it (of the same work) as context. The answers are scored against the human
reference with chrF (sacrebleu), per item and for the whole corpus, and every flag the
checks raised is counted by kind. `references=True` feeds the references themselves
through the checks instead, which measures the checks' false alarms.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.errors import InvalidInput
from service.translation import batching, checks
from service.translation.backends.base import Task, TranslationBackend
from service.translation.chunking import SegmentText, plan_batches
from service.translation.work import Outcome, Spec, Unit

CONTEXT_ITEMS = 2


@dataclass(frozen=True)
class Item:
    """One passage with its human translation."""

    id: str
    src: str
    ref: str
    work: str = ""


@dataclass(frozen=True)
class ParallelSet:
    """A file of passages in one language pair."""

    name: str
    source_lang: str
    target_lang: str
    items: list[Item]


@dataclass
class Scored:
    """One item's translation, its chrF and its flags."""

    item: Item
    hypothesis: str
    chrf: float
    flags: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    tokens_out: int = 0
    generation_ms: float = 0.0


def load(path: Path) -> ParallelSet:
    """Read a parallel set: `{source_lang, target_lang, items: [{id, src, ref}]}`, or the
    Candide file's `{pairs: [{id, fr_clean, en}]}`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read a JSON parallel set ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        items = [
            Item(str(i["id"]), str(i["src"]), str(i["ref"]), str(i.get("work", "")))
            for i in data["items"]
        ]
        return ParallelSet(path.stem, str(data["source_lang"]), str(data["target_lang"]), items)
    if isinstance(data, dict) and isinstance(data.get("pairs"), list):
        items = [Item(str(p["id"]), str(p["fr_clean"]), str(p["en"])) for p in data["pairs"]]
        return ParallelSet(path.stem, "fr", "en", items)
    raise InvalidInput(
        f"{path}: expected {{source_lang, target_lang, items: [{{id, src, ref}}]}} as in "
        "../shared/data/parallel"
    )


def units(items: list[Item]) -> list[Unit]:
    """The items as a document's units: each with the passages before it as context."""
    made: list[Unit] = []
    for n, item in enumerate(items):
        before = [p.src for p in items[max(0, n - CONTEXT_ITEMS) : n] if p.work == item.work]
        made.append(Unit(n + 1, item.src, tuple(before)))
    return made


def translate(
    parallel: ParallelSet,
    backend: TranslationBackend,
    spec: Spec,
    progress: Callable[[Scored], None] | None = None,
) -> list[Scored]:
    """Every item through `batching.answer`, batch by batch as a run would send them."""
    todo = units(parallel.items)
    batches = plan_batches([SegmentText(u.segment_id, u.text) for u in todo], spec.budget)
    scored: list[Scored] = []
    for ids in batches:
        chosen = [todo[i - 1] for i in ids]
        for unit, outcome in zip(chosen, batching.answer(chosen, backend, spec), strict=True):
            result = _score(parallel.items[unit.segment_id - 1], outcome)
            scored.append(result)
            if progress is not None:
                progress(result)
    return scored


def check_references(parallel: ParallelSet, spec: Spec) -> list[Scored]:
    """The human references run through the checks as though a model had answered them."""
    scored: list[Scored] = []
    for item in parallel.items:
        answer = checks.Answer(
            item.src, item.ref, parallel.source_lang, parallel.target_lang, known=spec.known
        )
        found = checks.findings(Task.TRANSLATE, answer)
        scored.append(Scored(item, item.ref, 100.0, [f.flag() for f in found]))
    return scored


def _score(item: Item, outcome: Outcome) -> Scored:
    from sacrebleu.metrics.chrf import CHRF

    text = outcome.text or ""
    chrf = CHRF().sentence_score(text, [item.ref]).score
    return Scored(
        item,
        text,
        chrf,
        list(outcome.flags),
        outcome.error,
        outcome.tokens_out or 0,
        outcome.generation_ms or 0.0,
    )


def corpus_chrf(scored: list[Scored]) -> float:
    """chrF of all hypotheses against all references at once (sacrebleu's corpus score)."""
    from sacrebleu.metrics.chrf import CHRF

    return float(
        CHRF().corpus_score([s.hypothesis for s in scored], [[s.item.ref for s in scored]]).score
    )


def flag_counts(scored: list[Scored]) -> Counter[str]:
    """How many items each check flagged (an item counts once per kind)."""
    counted: Counter[str] = Counter()
    for s in scored:
        counted.update({str(f.get("kind")) for f in s.flags})
    return counted


def tokens_per_second(scored: list[Scored]) -> float | None:
    """Output tokens over generation time, for the whole set."""
    seconds = sum(s.generation_ms for s in scored) / 1000
    tokens = sum(s.tokens_out for s in scored)
    return tokens / seconds if seconds > 0 and tokens else None
