"""The `eval-ocr` command: discover pages, run both readers, print and write the table."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from service.config import get_settings
from service.ocr import eval_report, installed
from service.ocr.evaluation import PageResult, discover, evaluate
from service.ocr.preprocess import PrepStep
from service.ocr.service import get_engine


def run_evaluation(
    *,
    folder: Path,
    split: Path | None,
    steps: str | None,
    pages: str | None,
    baseline: bool,
    output: Path,
) -> int:
    """Evaluate the folder; return the exit code."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    if not (folder / "pages").is_dir():
        print(
            f"{folder}: no pages/ folder (expected the layout of ../shared/data)", file=sys.stderr
        )
        return 2
    chosen = discover(folder)
    if pages:
        wanted = [p.strip() for p in pages.split(",") if p.strip()]
        chosen = [p for p in chosen if any(w in p.id for w in wanted)]
    problem = installed.missing_message(
        {m for page in chosen for m in installed.needed(page.tag, plain=baseline)}
    )
    if problem:
        print(problem, file=sys.stderr)
        return 2
    tuning = set(json.loads(split.read_text())["tuning"]) if split else set()
    step_set = _steps(steps)
    engine = get_engine(get_settings().ocr_timeout_s)
    results = evaluate(chosen, engine, step_set, baseline, progress=_progress)
    report = eval_report.render(results, tuning, _header(folder, split, step_set, engine))
    print(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report)
    print(f"written to {output}", file=sys.stderr)
    return 0


def _steps(spec: str | None) -> frozenset[PrepStep] | None:
    if spec is None:
        return None
    return frozenset(PrepStep(s.strip()) for s in spec.split(",") if s.strip())


def _progress(result: PageResult) -> None:
    print(
        f"… {result.page.id}: ours {result.ours['normalised']:.2%} in {result.ours_s:.1f}s"
        + (
            f", tesseract {result.baseline['normalised']:.2%} in {result.baseline_s:.1f}s"
            if result.baseline
            else ""
        ),
        file=sys.stderr,
    )


def _header(
    folder: Path, split: Path | None, steps: frozenset[PrepStep] | None, engine: object
) -> str:
    chosen = "per-script defaults" if steps is None else ", ".join(sorted(steps)) or "none"
    return "\n".join(
        [
            "# OCR evaluation",
            "",
            f"`palimpsest eval-ocr {folder}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{getattr(engine, 'name', 'engine')}; preprocessing: {chosen}; "
            f"split: {split or 'none (every printed page counts as held-out)'}.",
            "",
            "CER = edit distance / ground-truth length, both sides normalised the same way. "
            "Diplomatic: NFC, whitespace collapsed. Normalised: the service's reading form "
            "(ſ→s, aͤ→ä, words rejoined across line-break hyphens). Pages marked * have an "
            "ambiguous reading order (table, title page, marginalia): their headline CER is "
            "the order-independent one (lines matched first). 'base' is plain "
            "`tesseract IMAGE stdout -l <lang>` (`frk` for Fraktur) in the same run; both "
            "with OMP_THREAD_LIMIT=1, times are wall-clock per page including decoding.",
        ]
    )
