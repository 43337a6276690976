"""The `eval-translation` command: translate parallel sets, score them, print and write."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.config import get_settings
from service.errors import PalimpsestError
from service.translation import backends, evaluation
from service.translation.backends.base import Task, TranslationBackend
from service.translation.chunking import budget_for
from service.translation.modes import choose_unit, dictionary
from service.translation.work import Spec


@dataclass(frozen=True)
class Run:
    """One parallel set translated by one model in one unit, and what it took."""

    parallel: evaluation.ParallelSet
    label: str
    unit: str
    scored: list[evaluation.Scored]
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The run's figures as the JSON report holds them."""
        speed = evaluation.tokens_per_second(self.scored)
        return {
            "set": self.parallel.name,
            "pair": f"{self.parallel.source_lang}-{self.parallel.target_lang}",
            "model": self.label,
            "unit": self.unit,
            "items": len(self.scored),
            "chrf": round(evaluation.corpus_chrf(self.scored), 2),
            "tokens_per_s": round(speed, 1) if speed else None,
            "tokens_out": sum(s.tokens_out for s in self.scored),
            "generation_s": round(sum(s.generation_ms for s in self.scored) / 1000, 2),
            "seconds": round(self.seconds, 1),
            "failed": sum(1 for s in self.scored if s.error),
            "flagged": sum(1 for s in self.scored if s.flags),
            "flags": dict(sorted(evaluation.flag_counts(self.scored).items())),
        }


def run_evaluation(
    *,
    files: list[Path],
    backend: str | None,
    model: str | None,
    unit: str | None,
    references: bool,
    limit: int | None,
    output: Path,
) -> int:
    """Evaluate each file; print the table, write Markdown and JSON; return the exit code."""
    try:
        sets = [_limited(evaluation.load(f), limit) for f in files]
        runs = [_evaluate(p, backend, model, unit, references) for p in sets]
    except PalimpsestError as exc:
        print(f"eval-translation: {exc.message}", file=sys.stderr)
        return 2
    report = render(runs)
    print(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".md").write_text(report, encoding="utf-8")
    output.with_suffix(".json").write_text(
        json.dumps(_json(runs), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(f"written to {output.with_suffix('.md')} and .json", file=sys.stderr)
    return 0


def _limited(parallel: evaluation.ParallelSet, limit: int | None) -> evaluation.ParallelSet:
    if limit is None:
        return parallel
    items = parallel.items[:limit]
    return evaluation.ParallelSet(parallel.name, parallel.source_lang, parallel.target_lang, items)


def _evaluate(
    parallel: evaluation.ParallelSet,
    backend: str | None,
    model: str | None,
    unit: str | None,
    references: bool,
) -> Run:
    started = time.perf_counter()
    if references:
        spec = Spec(Task.TRANSLATE, parallel.source_lang, parallel.target_lang, 1200)
        spec = _with_dictionary(spec)
        scored = evaluation.check_references(parallel, spec)
        return Run(parallel, "human reference", "-", scored, time.perf_counter() - started)
    chosen, engine, spec = prepare(parallel, backend, model, unit)
    scored = evaluation.translate(parallel, engine, spec, progress=_progress)
    label = f"{chosen.backend.value}: {backends.stored_name(chosen)}"
    return Run(parallel, label, spec.unit.value, scored, time.perf_counter() - started)


def prepare(
    parallel: evaluation.ParallelSet, backend: str | None, model: str | None, unit: str | None
) -> tuple[backends.BackendChoice, TranslationBackend, Spec]:
    """The backend and the spec a document's run would use, as `plan_translation` sets them."""
    settings = get_settings()
    choice = backends.resolve(settings, backend, model)
    engine = backends.create(settings, choice)
    info = engine.describe()
    budget = budget_for(info.context_tokens, settings.translation_token_budget, info.reasoning)
    spec = Spec(
        Task.TRANSLATE,
        parallel.source_lang,
        parallel.target_lang,
        budget,
        unit=choose_unit(settings, info, unit),
    )
    return choice, engine, _with_dictionary(spec)


def _with_dictionary(spec: Spec) -> Spec:
    from dataclasses import replace

    return replace(spec, known=dictionary(spec.source_lang))


def _progress(scored: evaluation.Scored) -> None:
    kinds = ", ".join(sorted({str(f.get("kind")) for f in scored.flags})) or "no flag"
    failed = f" FAILED: {scored.error}" if scored.error else ""
    print(f"… {scored.item.id}: chrF {scored.chrf:.1f} ({kinds}){failed}", file=sys.stderr)


def render(runs: list[Run]) -> str:
    """The Markdown report: a summary table, then every item with its chrF and flags."""
    lines = [
        f"# Translation fidelity ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        "| set | pair | model | unit | items | corpus chrF | tokens/s | flagged | failed |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        s = run.summary()
        speed = "–" if s["tokens_per_s"] is None else f"{s['tokens_per_s']:.1f}"
        lines.append(
            f"| {s['set']} | {s['pair']} | {s['model']} | {s['unit']} | {s['items']} | "
            f"{s['chrf']:.1f} | {speed} | {s['flagged']} | {s['failed']} |"
        )
    lines += ["", "Flags by check (items flagged):", ""]
    for run in runs:
        flags = run.summary()["flags"]
        listed = ", ".join(f"{k} {v}" for k, v in flags.items()) or "none"
        lines.append(f"- {run.parallel.name}, {run.label}, {run.unit}: {listed}")
    for run in runs:
        lines += ["", f"## {run.parallel.name}: {run.label}, {run.unit}", ""]
        lines += ["| item | chrF | flags |", "|---|---:|---|"]
        for scored in run.scored:
            reasons = "; ".join(str(f.get("message")) for f in scored.flags)
            if scored.error:
                reasons = f"failed: {scored.error}"
            lines.append(f"| {scored.item.id} | {scored.chrf:.1f} | {_cell(reasons)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _json(runs: list[Run]) -> dict[str, Any]:
    return {
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [
            run.summary()
            | {
                "items_detail": [
                    {
                        "id": s.item.id,
                        "chrf": round(s.chrf, 2),
                        "hypothesis": s.hypothesis,
                        "flags": s.flags,
                        "error": s.error,
                    }
                    for s in run.scored
                ]
            }
            for run in runs
        ],
    }
