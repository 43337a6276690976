"""`make bench` translation quality: chrF of the bundled model on the dev sets, both units.

Each dev set (French and German prose of the 18th and 19th centuries with human English
translations, ../shared/data/parallel) is translated by the embedded Gemma 3 270M through
the real path (`palimpsest eval-translation`'s code: prompts, checks, retries), sentence by
sentence and in whole segments, and scored with chrF. Also measured in the same run: the
time per output token of sentence mode over segment mode (llama.cpp reuses the few-shot
prefix's KV cache, so asking per sentence should cost little more per token), and the
checks' false alarms on the human references themselves. The full per-item report goes to
bench/results/translation-quality.md.

These texts are famous and the model may have seen them: the figures compare settings,
they do not rank models.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import RESULTS, Figure, write_results
from bench.scanned import scanned
from service.translation import evaluation
from service.translation.eval_command import Run, prepare, render

SETS = ("fr-en-dev.json", "de-en-dev.json")
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "parallel"
_SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "samples" / "parallel"
CHRF_GOAL = 40.0
TOKEN_TIME_GOAL = 1.3
FALSE_ALARM_GOAL = 0.05


def _path(name: str) -> Path:
    return _SHARED / name if (_SHARED / name).exists() else _SAMPLES / name


def measure() -> list[Run]:
    """Every dev set in both units with the embedded model, from its text and from a
    printed page through OCR, and the references checked."""
    from service.ocr.service import get_engine

    engine = get_engine(300)
    runs: list[Run] = []
    for name in SETS:
        parallel = evaluation.load(_path(name))
        for unit in ("sentence", "segment"):
            runs.append(_translated(parallel, unit))
        runs.append(_translated(scanned(parallel, engine), "sentence"))
        runs.append(_references(parallel))
    return runs


def _translated(parallel: evaluation.ParallelSet, unit: str) -> Run:
    import time

    started = time.perf_counter()
    choice, engine, spec = prepare(parallel, "embedded", None, unit)
    scored = evaluation.translate(parallel, engine, spec)
    label = f"embedded: {Path(choice.model).name}"
    return Run(parallel, label, unit, scored, time.perf_counter() - started)


def _references(parallel: evaluation.ParallelSet) -> Run:
    _, _, spec = prepare(parallel, "embedded", None, "segment")
    scored = evaluation.check_references(parallel, spec)
    return Run(parallel, "human reference", "-", scored, 0.0)


def ms_per_token(run: Run) -> float:
    """Generation time per output token over the whole run."""
    tokens = sum(s.tokens_out for s in run.scored)
    return sum(s.generation_ms for s in run.scored) / tokens if tokens else float("nan")


def figures() -> list[Figure]:
    """The section's figures; the per-item report is written beside them."""
    runs = measure()
    write_results(
        "translation-quality",
        "Translation quality: the bundled model on the dev sets",
        render(runs).split("\n", 2)[2],
    )
    (RESULTS / "translation-quality.json").write_text(
        json.dumps([r.summary() for r in runs], indent=1, ensure_ascii=False)
    )
    return [f for name in SETS for f in _set_figures(name, runs)]


def _set_figures(name: str, runs: list[Run]) -> list[Figure]:
    mine = {r.unit: r for r in runs if r.parallel.name == Path(name).stem}
    sentence, segment, refs = mine["sentence"], mine["segment"], mine["-"]
    scan = next(r for r in runs if r.parallel.name == f"{Path(name).stem} (scanned)")
    chrf_scan = evaluation.corpus_chrf(scan.scored)
    pair = sentence.summary()["pair"]
    chrf_sentence = evaluation.corpus_chrf(sentence.scored)
    chrf_segment = evaluation.corpus_chrf(segment.scored)
    per_token = ms_per_token(sentence) / ms_per_token(segment)
    false_alarms = sum(1 for s in refs.scored if s.flags) / len(refs.scored)
    return [
        Figure(
            "quality",
            f"{pair} corpus chrF end to end from a printed page (OCR, then the bundled model)",
            chrf_scan,
            "chrF",
            "the same passages from their text",
            chrf_sentence,
            chrf_scan / chrf_sentence,
            "scan / text",
            f"≥ {CHRF_GOAL:g}",
            chrf_scan >= CHRF_GOAL,
            f"{scan.summary()['flagged']} of {len(scan.scored)} items flagged",
        ),
        Figure(
            "quality",
            f"{pair} corpus chrF, bundled model, sentence by sentence",
            chrf_sentence,
            "chrF",
            "the same model on whole segments",
            chrf_segment,
            chrf_sentence / chrf_segment,
            "sentence / segment",
            f"≥ {CHRF_GOAL:g}",
            chrf_sentence >= CHRF_GOAL,
            f"{sentence.summary()['flagged']} of {len(sentence.scored)} items flagged",
        ),
        Figure(
            "quality",
            f"{pair} time per output token, sentence mode",
            ms_per_token(sentence),
            "ms/token",
            "segment mode",
            ms_per_token(segment),
            per_token,
            "sentence / segment",
            f"≤ {TOKEN_TIME_GOAL:g}×",
            per_token <= TOKEN_TIME_GOAL,
        ),
        Figure(
            "quality",
            f"{pair} human references flagged by the checks (false alarms)",
            100 * false_alarms,
            "%",
            goal=f"≤ {100 * FALSE_ALARM_GOAL:g} %",
            met=false_alarms <= FALSE_ALARM_GOAL,
            spread=f"{sum(1 for s in refs.scored if s.flags)} of {len(refs.scored)}",
        ),
    ]
