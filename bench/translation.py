"""Translation benchmark: pipeline overhead per segment, and tokens/s vs direct model calls.

    PALIMPSEST_DATABASE_URL=postgresql+psycopg://…/dev .venv/bin/python -m bench.translation

1. Overhead: a document of N segments through the pipeline steps (plan → batches → store →
   fan-in → finalize, every step in its own transaction on the real Postgres) with a
   backend that answers instantly; time per segment.
2. Throughput with the embedded Gemma 3 270M, generated tokens per second of wall time:
   - pipeline side: ONE document whose page holds every sentence of an 18th-century French
     page as its segments, translated by the pipeline steps run inline (plan → batches →
     store → finalize, each in its own transaction), the translation memory emptied first
     (untimed), so every segment is generated; timed from plan to finalize;
   - direct side: the very BatchRequests the pipeline sent (same grouping into batches,
     same context, glossary, period, genre and strict fields), replayed in the same order
     on the same backend objects, with nothing else timed. They are captured by wrapping
     the backend the pipeline makes (`Context.make_backend`) in a recorder that appends a
     reference to each request and its answer, in an untimed warm-up pass and in every
     timed pass (so each round checks the requests did not change, and that both sides
     generated the same tokens).
   The same again with one single-segment document per sentence: the worst case, where
   the pipeline's fixed cost per document (about 40 SQL statements in their transactions)
   is spread over one short generation.

Figures are medians of several rounds whose sides alternate (which goes first swaps each
round; the machine is shared and noisy) and go to bench/results/translation.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bench.common import Figure, machine
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
from service.jobs.context import Context
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.migrate import upgrade
from service.text import normalise
from service.translation import backends
from service.translation.backends.base import (
    BatchRequest,
    BatchResult,
    ModelInfo,
    SegmentResult,
    TranslationBackend,
)
from service.translation.backends.llamacpp import ensure_default_model
from service.translation.chunking import split_text
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


def translate_document(ctx: Context, document_id: int) -> float:
    """Wall seconds for the whole translation stage of one document, through finalize."""
    started = time.perf_counter()
    run_inline(ctx, [Step(TaskName.PLAN_TRANSLATION, (document_id,))], max_retries=0)
    return time.perf_counter() - started


def overhead(segments: int, rounds: int) -> dict[str, float]:
    """Milliseconds of pipeline time per segment with the instant backend."""
    settings = get_settings()
    ctx = Context(
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


@dataclass(frozen=True)
class Call:
    """One request the pipeline sent, the backend object it went to, and its answer."""

    backend: TranslationBackend
    request: BatchRequest
    result: BatchResult


class Recorder:
    """The backend the pipeline made, wrapped: every call is appended (by reference) to `calls`."""

    def __init__(self, inner: TranslationBackend, calls: list[Call]) -> None:
        self.inner, self.calls = inner, calls
        self.name, self.model = inner.name, inner.model

    def translate(self, request: BatchRequest) -> BatchResult:
        """Pass the request on and keep it with its answer."""
        result = self.inner.translate(request)
        self.calls.append(Call(self.inner, request, result))
        return result

    def describe(self) -> ModelInfo:
        """The wrapped backend's model."""
        return self.inner.describe()


def recording_context(calls: list[Call]) -> Context:
    """The pipeline's context, its backends made as usual (`backends.create`) but recorded."""
    settings = get_settings()
    return Context(
        settings,
        pipeline.default_context().storage,
        make_backend=lambda choice: Recorder(backends.create(settings, choice), calls),
    )


@dataclass(frozen=True)
class Pass:
    """One side's pass over all the texts: the calls it made and the wall time they took."""

    calls: list[Call]
    seconds: float

    @property
    def tokens(self) -> int:
        """Generated tokens, as the backend counted them."""
        return sum(r.tokens_out or 0 for c in self.calls for r in c.result.translations.values())

    @property
    def rate(self) -> float:
        """Generated tokens per second of wall time."""
        return self.tokens / self.seconds


def through_pipeline(ctx: Context, calls: list[Call], layout: list[list[str]], model: str) -> Pass:
    """Each document of the layout through the pipeline steps, memory emptied first (untimed)."""
    calls.clear()
    seconds = 0.0
    for texts in layout:
        with unit_of_work() as s:
            s.execute(delete(MemoryEntry))
            document_id = make_document(s, texts, "embedded", model)
        seconds += translate_document(ctx, document_id)
    return Pass(list(calls), seconds)


def direct(recorded: list[Call]) -> Pass:
    """The recorded requests replayed in order on the backend objects that answered them."""
    calls: list[Call] = []
    started = time.perf_counter()
    for call in recorded:
        calls.append(Call(call.backend, call.request, call.backend.translate(call.request)))
    return Pass(calls, time.perf_counter() - started)


def requests(p: Pass) -> list[BatchRequest]:
    """The requests of a pass, without `route` (it holds the run and segment ids)."""
    return [replace(c.request, route=0) for c in p.calls]


def answers(p: Pass) -> list[dict[int, tuple[str, int | None]]]:
    """Text and generated tokens of every answer, call by call."""
    return [{i: (r.text, r.tokens_out) for i, r in c.result.translations.items()} for c in p.calls]


@dataclass
class Comparison:
    """Alternating rounds of both sides over one layout of the texts into documents."""

    documents: int
    segments: int
    batches: int
    direct: list[Pass] = field(default_factory=list)
    pipeline: list[Pass] = field(default_factory=list)
    drifted: int = 0  # pipeline passes whose requests differ from the recorded ones
    differing: int = 0  # calls whose answers differ between the two sides of a round

    @property
    def ratios(self) -> list[float]:
        """Pipeline tokens/s over direct tokens/s, round by round."""
        return [p.rate / d.rate for p, d in zip(self.pipeline, self.direct, strict=True)]

    @property
    def best_ratio(self) -> float:
        """Best pipeline pass over best direct pass: the ones least slowed by other work."""
        return max(p.rate for p in self.pipeline) / max(d.rate for d in self.direct)

    def rate(self, side: list[Pass]) -> float:
        """All rounds' tokens over all rounds' seconds."""
        return sum(p.tokens for p in side) / sum(p.seconds for p in side)

    def add(self, direct_pass: Pass, pipeline_pass: Pass, recorded: Pass) -> None:
        """Keep a round, checking its requests and answers against each other."""
        self.direct.append(direct_pass)
        self.pipeline.append(pipeline_pass)
        self.drifted += requests(pipeline_pass) != requests(recorded)
        mine, theirs = answers(pipeline_pass), answers(direct_pass)
        self.differing += abs(len(mine) - len(theirs))
        self.differing += sum(a != b for a, b in zip(mine, theirs, strict=False))


def compare(layout: list[list[str]], model: str, rounds: int) -> Comparison:
    """Record the pipeline's requests (untimed), then rounds of both sides, in turn first."""
    calls: list[Call] = []
    ctx = recording_context(calls)
    recorded = through_pipeline(ctx, calls, layout, model)  # also loads the model
    result = Comparison(len(layout), sum(map(len, layout)), len(recorded.calls))
    for r in range(rounds):
        if r % 2 == 0:
            d = direct(recorded.calls)
            p = through_pipeline(ctx, calls, layout, model)
        else:
            p = through_pipeline(ctx, calls, layout, model)
            d = direct(recorded.calls)
        result.add(d, p, recorded)
    return result


def throughput(rounds: int) -> tuple[Comparison, Comparison]:
    """Generated tokens/s with the embedded model, pipeline vs direct: the texts as one
    document (as a real page), then as one single-segment document each (the worst case)."""
    model = str(ensure_default_model(get_settings().embedded_model_file))
    texts = sample_texts()
    return compare([texts], model, rounds), compare([[t] for t in texts], model, rounds)


def extra_ms(c: Comparison) -> float:
    """Median over rounds of the pipeline's extra wall time per document, in ms."""
    gaps = [
        (p.seconds - d.seconds) / c.documents for p, d in zip(c.pipeline, c.direct, strict=True)
    ]
    return statistics.median(gaps) * 1000


ROWS = (
    ("documents / segments / batches sent", ""),
    ("generated tokens per pass", ""),
    ("direct, seconds per pass (median)", ""),
    ("pipeline, seconds per pass (median)", ""),
    ("direct, tokens/s (all rounds)", ""),
    ("pipeline, tokens/s (all rounds)", ""),
    ("**pipeline / direct (median of rounds)**", "≥ 0.95 (whole document)"),
    ("pipeline / direct (worst round)", ""),
    ("the rounds' ratios, in order", ""),
    ("best pipeline pass / best direct pass", ""),
    ("pipeline − direct, ms per document (median)", ""),
    ("passes that sent other requests / answers differing between sides", "0 / 0"),
)


def column(c: Comparison) -> list[str]:
    """One layout's values, in the order of ROWS."""
    return [
        f"{c.documents} / {c.segments} / {c.batches}",
        f"{statistics.median(p.tokens for p in c.pipeline):.0f}",
        f"{statistics.median(p.seconds for p in c.direct):.2f}",
        f"{statistics.median(p.seconds for p in c.pipeline):.2f}",
        f"{c.rate(c.direct):.1f}",
        f"{c.rate(c.pipeline):.1f}",
        f"{statistics.median(c.ratios):.3f}",
        f"{min(c.ratios):.3f}",
        ", ".join(f"{x:.3f}" for x in c.ratios),
        f"{c.best_ratio:.3f}",
        f"{extra_ms(c):.0f}",
        f"{c.drifted} / {c.differing}",
    ]


def throughput_rows(whole: Comparison, single: Comparison) -> list[str]:
    """The table of both layouts side by side."""
    return [
        f"| figure | one document of {whole.segments} segments | one segment per document "
        "(worst case) | goal |",
        "|---|---|---|---|",
        *(
            f"| {label} | {a} | {b} | {goal} |"
            for (label, goal), a, b in zip(ROWS, column(whole), column(single), strict=True)
        ),
    ]


def report(
    over: dict[str, float],
    thru: tuple[Comparison, Comparison] | None,
    segments: int,
    rounds: int,
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
        whole, single = thru
        lines += [
            "",
            "## Tokens/s through the pipeline vs direct calls (embedded Gemma 3 270M)",
            "",
            f"{whole.segments} sentences of an 18th-century French page. Pipeline side: one "
            "document holding them all as the segments of its page, translated by the "
            "pipeline steps (plan, batches, store, finalize, each in its own transaction) "
            "with the translation memory emptied first, so every segment is generated; timed "
            "from plan to finalize. Direct side: the BatchRequests that pipeline sent, "
            "recorded by wrapping the backend it made, replayed in order on the same backend "
            "objects; only the calls are timed. Worst case: the same with one single-segment "
            "document per sentence. Which side goes first alternates round by round "
            f"({len(whole.ratios)} rounds per layout). Both sides count the tokens the backend "
            "reports generating; the last row checks that every round sent the recorded "
            "requests and that both sides generated the same answers.",
            "",
            *throughput_rows(whole, single),
            "",
            f"Single rounds ranged from {min(whole.ratios):.2f} to {max(whole.ratios):.2f} "
            f"(whole document) and {min(single.ratios):.2f} to {max(single.ratios):.2f} "
            "(worst case): other work on the machine slows either side by up to several times "
            "from one pass to the next, while the pipeline's own cost is tens of ms a document "
            "(the overhead table above), so one run resolves the ratio only on a quiet "
            "machine. The best passes of each side are the ones least slowed by other work.",
        ]
    return "\n".join(lines) + "\n"


def figures() -> list[Figure]:
    """`make bench`: overhead with the instant backend, tokens/s pipeline vs direct."""
    over = overhead(500, int(os.environ.get("PALIMPSEST_BENCH_OVERHEAD_ROUNDS", "5")))
    whole, single = throughput(int(os.environ.get("PALIMPSEST_BENCH_MODEL_ROUNDS", "6")))
    ms = over["ms_per_segment"]
    return [
        *model_figures(whole, single),
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


def model_figures(whole: Comparison, single: Comparison) -> list[Figure]:
    """The headline (one whole document) and the worst case (one segment per document)."""
    ratio = statistics.median(whole.ratios)
    return [
        Figure(
            "translation",
            f"pipeline / direct tokens/s, embedded Gemma 3 270M, one {whole.segments}-segment "
            "document",
            whole.rate(whole.pipeline),
            "tokens/s",
            "direct llama.cpp calls replaying the pipeline's recorded requests",
            whole.rate(whole.direct),
            ratio,
            "pipeline / direct, median of rounds",
            "≥ 0.95",
            ratio >= 0.95,
            f"{whole.batches} batch(es), {whole.pipeline[0].tokens} tokens a pass; worst "
            f"round {min(whole.ratios):.2f}, best passes {whole.best_ratio:.2f}; "
            f"{agreement(whole)}",
            [p.rate for p in whole.pipeline],
        ),
        Figure(
            "translation",
            f"worst case, one segment per document ({single.documents} documents): pipeline / "
            "direct tokens/s",
            single.rate(single.pipeline),
            "tokens/s",
            "direct llama.cpp calls replaying the pipeline's recorded requests",
            single.rate(single.direct),
            statistics.median(single.ratios),
            "pipeline / direct, median of rounds",
            spread=f"worst round {min(single.ratios):.2f}, best passes {single.best_ratio:.2f}; "
            f"pipeline {extra_ms(single):.0f} ms "
            f"more per document; {agreement(single)}",
            runs=[p.rate for p in single.pipeline],
        ),
    ]


def agreement(c: Comparison) -> str:
    """Whether both sides sent the same requests and got the same answers."""
    if c.drifted == 0 and c.differing == 0:
        return "same requests and answers on both sides"
    return f"{c.drifted} pass(es) sent other requests, {c.differing} answer(s) differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model-rounds", type=int, default=8)
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
