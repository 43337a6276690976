"""Translation benchmark: pipeline overhead per segment, and tokens/s vs direct model calls.

    PALIMPSEST_DATABASE_URL=postgresql+psycopg://…/dev .venv/bin/python -m bench.translation

1. Overhead: a document of N segments through the pipeline steps (plan → batches → store →
   fan-in → finalize, every step in its own transaction on the real Postgres) with a
   backend that answers instantly; time per segment.
2. Throughput: the same French text through the embedded Gemma 3 270M, once by calling the
   backend directly with the batches the pipeline makes, once through the pipeline steps;
   generated tokens per second of wall time on each side, and their ratio.

Figures are medians of several alternating rounds (the machine is shared and noisy) and
go to bench/results/translation.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bench.common import Figure
from service.config import get_settings
from service.db import unit_of_work
from service.documents.models import (
    Document,
    DocumentStatus,
    FileStatus,
    OcrStatus,
    Page,
    Segment,
    SourceFile,
)
from service.jobs import pipeline
from service.jobs import service as jobs
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.migrate import upgrade
from service.ocr.text import normalise
from service.translation import backends
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    ModelInfo,
    SegmentResult,
    TranslationBackend,
)
from service.translation.backends.llamacpp import ensure_default_model
from service.translation.chunking import SegmentText, split_text
from service.translation.models import MemoryEntry, Translation

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "translation.md"
SAMPLE = ROOT / "tests" / "samples" / "fra-18c-borrdisc-p0019.gt.txt"


class InstantBackend:
    """Answers every text at once: what is left of the time is the pipeline's own."""

    name = "ollama"
    model = "instant"

    def translate(self, request: BatchRequest) -> BatchResult:
        """Answer each text with an English sentence of about its length."""
        result = BatchResult()
        for s in request.segments:
            text = f"The town council paid for the bridge, as the text of {len(s.text)} says."
            result.translations[s.id] = SegmentResult(text, 10, 10, 0.01, 0.01, 1e6)
        result.tried([s.id for s in request.segments])
        return result

    def describe(self) -> ModelInfo:
        """A model with a large context."""
        return ModelInfo("instant", "sha256:instant", 8192)


def make_document(session: Session, texts: list[str], backend: str, model: str | None) -> int:
    """A read document with the given segments, ready for translation."""
    document = Document(
        title="bench",
        source_lang="fr",
        target_lang="en",
        status=DocumentStatus.PROCESSING,
        backend=backend,
        model=model,
    )
    session.add(document)
    session.flush()
    jobs.create_for_document(session, document.id, translate=True)
    source = SourceFile(
        document_id=document.id,
        position=0,
        filename="bench.png",
        size=1,
        sha256="0" * 64,
        media_type="image/png",
        page_count=1,
        status=FileStatus.INGESTED,
    )
    session.add(source)
    session.flush()
    page = Page(
        document_id=document.id,
        file_id=source.id,
        number=1,
        file_index=0,
        ocr_status=OcrStatus.DONE,
    )
    session.add(page)
    session.flush()
    session.add_all(
        Segment(
            document_id=document.id,
            page_id=page.id,
            position=i,
            text=t,
            normalized=normalise(t),
            x0=0,
            y0=0,
            x1=1,
            y1=1,
            lines=[],
        )
        for i, t in enumerate(texts)
    )
    return document.id


def translate_document(ctx: pipeline.Context, document_id: int) -> float:
    """Wall seconds for the whole translation stage of one document, through finalize."""
    started = time.perf_counter()
    run_inline(ctx, [Step(TaskName.PLAN_TRANSLATION, (document_id,))], max_retries=0)
    return time.perf_counter() - started


def overhead(segments: int, rounds: int) -> dict[str, float]:
    """Milliseconds of pipeline time per segment with the instant backend."""
    settings = get_settings()
    ctx = pipeline.Context(
        settings, pipeline.default_context().storage, make_backend=lambda _: InstantBackend()
    )
    per_segment, remembered = [], []
    for r in range(rounds):
        texts = [
            f"Article {r}-{i}: le conseil de la ville a payé {i * 7} livres pour le pont."
            for i in range(segments)
        ]
        with unit_of_work() as s:
            first = make_document(s, texts, "ollama", "instant")
            again = make_document(s, texts, "ollama", "instant")
        per_segment.append(translate_document(ctx, first) * 1000 / segments)
        remembered.append(translate_document(ctx, again) * 1000 / segments)
        check_translated(first, segments)
        check_translated(again, segments)
    return {
        "ms_per_segment": statistics.median(per_segment),
        "ms_per_segment_min": min(per_segment),
        "ms_per_segment_from_memory": statistics.median(remembered),
        "segments_per_s": 1000 / statistics.median(per_segment),
    }


def check_translated(document_id: int, expected: int) -> None:
    with unit_of_work() as s:
        done = s.scalar(
            select(func.count())
            .select_from(Translation)
            .where(Translation.document_id == document_id, Translation.text != "")
        )
    if done != expected:
        raise SystemExit(f"document {document_id}: {done} of {expected} translated")


def sample_texts() -> list[str]:
    """Sentences of an 18th-century French page (ground truth), as reading text."""
    paragraphs = [normalise(p) for p in SAMPLE.read_text().split("\n\n")[1:]]
    pieces = [piece for p in paragraphs for piece in split_text(p, budget=40)]
    return [p for p in pieces if len(p.split()) > 5]


@dataclass
class Side:
    tokens: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds

    def add(self, tokens: int, seconds: float) -> None:
        self.tokens += tokens
        self.seconds += seconds


def direct(engine: TranslationBackend, text: str) -> tuple[int, float]:
    """The backend called straight with the one-segment batch the pipeline makes."""
    started = time.perf_counter()
    result = engine.translate(BatchRequest("fr", "en", [SegmentText(1, text)]))
    seconds = time.perf_counter() - started
    return sum(r.tokens_out or 0 for r in result.translations.values()), seconds


def through_pipeline(ctx: pipeline.Context, text: str, model: str) -> tuple[int, float]:
    """The same text as a document through the pipeline steps (memory emptied first)."""
    with unit_of_work() as s:
        s.execute(delete(MemoryEntry))
        document_id = make_document(s, [text], "embedded", model)
    seconds = translate_document(ctx, document_id)
    with unit_of_work() as s:
        tokens = s.scalar(
            select(func.coalesce(func.sum(Translation.tokens_out), 0)).where(
                Translation.document_id == document_id
            )
        )
    return int(tokens or 0), seconds


def throughput(rounds: int) -> dict[str, float]:
    """Generated tokens/s with the embedded model: direct calls vs the pipeline.

    The two sides alternate text by text (in turn first), so bursts of load from other
    work on this shared machine fall on both alike.
    """
    settings = get_settings()
    model = ensure_default_model(settings.embedded_model_file)
    choice = backends.BackendChoice(backends.BackendName.EMBEDDED, str(model))
    engine = backends.create(settings, choice)
    ctx = pipeline.Context(settings, pipeline.default_context().storage)
    texts = sample_texts()
    direct(engine, texts[0])  # load the model once, outside the timing
    ratios, totals = [], {"direct": Side(), "pipeline": Side()}
    for r in range(rounds):
        sides = {"direct": Side(), "pipeline": Side()}
        for i, text in enumerate(texts):
            order = ["direct", "pipeline"] if (i + r) % 2 == 0 else ["pipeline", "direct"]
            for name in order:
                if name == "direct":
                    sides[name].add(*direct(engine, text))
                else:
                    sides[name].add(*through_pipeline(ctx, text, str(model)))
        ratios.append(sides["pipeline"].rate / sides["direct"].rate)
        for name, side in sides.items():
            totals[name].add(side.tokens, side.seconds)
    return {
        "segments": len(texts),
        "tokens": totals["direct"].tokens / rounds,
        "direct_tokens_per_s": totals["direct"].rate,
        "pipeline_tokens_per_s": totals["pipeline"].rate,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "direct_s": totals["direct"].seconds / rounds,
        "pipeline_s": totals["pipeline"].seconds / rounds,
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load average {load}"
    )


def report(
    over: dict[str, float], thru: dict[str, float] | None, segments: int, rounds: int
) -> str:
    lines = [
        "# Translation benchmark",
        "",
        f"Machine: {machine()} — shared with other work, so figures are medians of "
        f"{rounds} rounds.",
        f"Run: `python -m bench.translation` on {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "## Pipeline overhead per segment (instant backend)",
        "",
        f"A document of {segments} segments through plan → batch tasks → store → fan-in → "
        "finalize, each step its own transaction on Postgres, with a backend that answers "
        "at once.",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
        f"| ms per segment (median) | {over['ms_per_segment']:.3f} | ≤ 2 |",
        f"| ms per segment (best round) | {over['ms_per_segment_min']:.3f} | |",
        f"| segments per second | {over['segments_per_s']:.0f} | ≥ 500 |",
        "| ms per segment, all from translation memory | "
        f"{over['ms_per_segment_from_memory']:.3f} | |",
    ]
    if thru is not None:
        lines += [
            "",
            "## Tokens/s through the pipeline vs direct calls (embedded Gemma 3 270M)",
            "",
            f"{thru['segments']:.0f} sentences of an 18th-century French page "
            f"({thru['tokens']:.0f} generated tokens per pass). Text by text, the direct side "
            "calls the backend with the batch the pipeline would send; the pipeline side makes "
            "a document of it and runs plan, batch, store and finalize with the memory "
            "emptied, so every segment is generated. The sides alternate text by text.",
            "",
            "| figure | value | goal |",
            "|---|---|---|",
            f"| direct, tokens/s | {thru['direct_tokens_per_s']:.1f} | |",
            f"| pipeline, tokens/s | {thru['pipeline_tokens_per_s']:.1f} | |",
            "| pipeline / direct (all rounds' tokens over all rounds' time) | "
            f"{thru['pipeline_tokens_per_s'] / thru['direct_tokens_per_s']:.3f} | ≥ 0.95 |",
            f"| pipeline / direct (median of rounds) | {thru['ratio']:.3f} | ≥ 0.95 |",
            f"| pipeline / direct (worst round) | {thru['ratio_min']:.3f} | |",
            f"| seconds per pass, direct / pipeline | {thru['direct_s']:.1f} / "
            f"{thru['pipeline_s']:.1f} | |",
        ]
    return "\n".join(lines) + "\n"


def figures() -> list[Figure]:
    """`make bench`: overhead with the instant backend, tokens/s pipeline vs direct."""
    over = overhead(500, int(os.environ.get("PALIMPSEST_BENCH_OVERHEAD_ROUNDS", "5")))
    thru = throughput(int(os.environ.get("PALIMPSEST_BENCH_MODEL_ROUNDS", "3")))
    ms = over["ms_per_segment"]
    ratio = thru["ratio"]
    return [
        Figure(
            "translation",
            "pipeline / direct tokens/s, embedded Gemma 3 270M",
            thru["pipeline_tokens_per_s"],
            "tokens/s",
            "direct llama.cpp calls, same model and prompts",
            thru["direct_tokens_per_s"],
            ratio,
            "pipeline / direct, median of rounds",
            "≥ 0.95",
            ratio >= 0.95,
            f"{thru['segments']:.0f} sentences, {thru['tokens']:.0f} tokens a pass; worst "
            f"round {thru['ratio_min']:.2f}",
        ),
        Figure(
            "translation",
            "pipeline overhead per segment (instant backend, 500 segments)",
            ms,
            "ms",
            "translation from memory (no backend call)",
            over["ms_per_segment_from_memory"],
            ms / over["ms_per_segment_from_memory"],
            "fresh / from memory",
            "≤ 2 ms",
            ms <= 2,
            f"best round {over['ms_per_segment_min']:.2f} ms",
        ),
        Figure(
            "translation",
            "segments per second through plan → batch → store → finalize",
            over["segments_per_s"],
            "segments/s",
            goal="≥ 500",
            met=over["segments_per_s"] >= 500,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model-rounds", type=int, default=3)
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args()
    upgrade()
    over = overhead(args.segments, args.rounds)
    thru = None if args.skip_model else throughput(args.model_rounds)
    text = report(over, thru, args.segments, args.rounds)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
