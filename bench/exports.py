"""Export time and peak memory on synthetic books of 100 and 300 pages.

    PALIMPSEST_DATABASE_URL=postgresql+psycopg://…/DB .venv/bin/python -m bench.exports

Each page has 8 segments of 6 lines of 9 words with boxes and confidences, a translation
and an annotation, like a dense printed page after OCR and translation. Every export runs
in a fresh process with the garbage collector settled as in the web server; its peak
resident memory is reported above the process's own footprint just before exporting, so
the figure is what the export itself needs.
Results go to bench/results/exports.md.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Figure, median, ratio_of

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "exports.md"
SIZES = (100, 300)
FORMATS = ("tei", "page", "alto", "tmx", "json", "csv", "txt", "md", "docx", "pdf", "iiif")
NOTE = """
Reading: every streamed format stays at about the same memory for 100 and 300 pages
(the pages are read 20 at a time and written as they come). DOCX is built whole by
python-docx, so its memory grows with the book (about 0.45 MB a page here) and it is the
slowest; the synthetic pages are its worst case (44 % of words below the confidence
threshold, so runs alternate highlighted and plain). IIIF zips the manifest, one
annotation page per page (built and validated by iiif-prezi3, then written) and the TEI,
so it takes about three times the TEI's time; no images here. Times are
wall-clock on a machine shared with other jobs: take them as orders of magnitude.
"""
WORDS = ["der", "kaiſer", "friedrich", "kam", "nach", "berlin", "am", "dritten", "may"]


def build(pages: int) -> int:
    """Create (once) a synthetic document of `pages` pages; return its id."""
    from sqlalchemy import insert, select

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
    from service.review.models import Annotation, AnnotationLayer, AnnotationType
    from service.translation.models import Translation, TranslationStatus

    title = f"bench-{pages}-pages"
    with unit_of_work() as session:
        found = session.scalar(select(Document.id).where(Document.title == title))
        if found:
            return int(found)
        doc = Document(
            title=title, source_lang="de-Latf", target_lang="en", status=DocumentStatus.DONE
        )
        session.add(doc)
        session.flush()
        source = SourceFile(
            document_id=doc.id, position=0, filename="book.pdf", size=1, status=FileStatus.INGESTED
        )
        session.add(source)
        session.flush()
        page_ids = session.scalars(
            insert(Page).returning(Page.id),
            [
                {
                    "document_id": doc.id,
                    "file_id": source.id,
                    "number": n + 1,
                    "file_index": n,
                    "width": 2480,
                    "height": 3508,
                    "dpi": 300,
                    "ocr_status": OcrStatus.DONE,
                    "ocr_engine": "tesseract 5.3.0",
                }
                for n in range(pages)
            ],
        ).all()
        rows = [_segment(doc.id, page_id, i) for page_id in page_ids for i in range(8)]
        seg_ids = session.scalars(insert(Segment).returning(Segment.id), rows).all()
        session.execute(
            insert(Translation),
            [
                {
                    "segment_id": s,
                    "document_id": doc.id,
                    "backend": "ollama",
                    "model": "llama3.2:3b",
                    "text": "The emperor Frederick came to Berlin on the third of May. " * 4,
                    "status": TranslationStatus.MACHINE,
                    "source_hash": "0" * 64,
                }
                for s in seg_ids
            ],
        )
        session.execute(
            insert(Annotation),
            [
                {
                    "segment_id": s,
                    "layer": AnnotationLayer.SOURCE,
                    "start": 4,
                    "end": 10,
                    "type": AnnotationType.PERSON,
                    "body": "Friedrich II.",
                }
                for s in seg_ids
            ],
        )
        return doc.id


def _segment(document_id: int, page_id: int, position: int) -> dict[str, object]:
    from service.documents.spans import word_spans

    lines, texts = [], []
    top = 200 + position * 400
    for n in range(6):
        y = top + n * 60
        words = [
            {"text": w, "bbox": [150 + 200 * i, y, 330 + 200 * i, y + 45], "conf": 40.0 + 6 * i}
            for i, w in enumerate(WORDS)
        ]
        texts.append(" ".join(WORDS))
        lines.append({"bbox": [150, y, 2130, y + 45], "text": texts[-1], "words": words})
    text = "\n".join(texts)
    return {
        # What the ORM stores beside the boxes on every row the OCR writes (bulk inserts skip it).
        "word_spans": word_spans(text, lines),
        "document_id": document_id,
        "page_id": page_id,
        "position": position,
        "text": text,
        "normalized": text.replace("ſ", "s").replace("\n", " "),
        "x0": 150,
        "y0": top,
        "x1": 2130,
        "y1": top + 360,
        "lines": lines,
        "confidence": 64.0,
        "min_confidence": 40.0,
    }


def _rss_mb() -> float:
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def measure(document_id: int, fmt: str) -> dict[str, float]:
    """Export once into a temporary file; report seconds, bytes and memory (MB).

    Resident memory is sampled every 5 ms during the export (ru_maxrss would also count
    the import of the libraries, which peaks before the export starts)."""
    import tempfile
    import threading

    from service import heap
    from service.db import get_sessionmaker
    from service.exports import (  # noqa: F401 - loaded before the baseline
        docx,
        iiif,
        model,
        pagexml,
        pdf,
        service,
        tabular,
        tei,
    )

    heap.settle()  # as the web server, which serves the downloads, does after start-up
    session = get_sessionmaker()()
    baseline = _rss_mb()
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        if fmt == "load":
            size = sum(len(page.segments) for page in model.load(session, document_id).pages)
        else:
            service.export_to(session, document_id, service.ExportFormat(fmt), out)
            size = out.tell()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return {"seconds": seconds, "bytes": size, "baseline_mb": baseline, "peak_mb": peak[0]}


def run_measure(document_id: int, fmt: str) -> dict[str, float]:
    """One export in a fresh process (so memory figures are the export's own)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.exports", "--measure", str(document_id), fmt],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def figures(rounds: int = 3) -> list[Figure]:
    """`make bench`: TEI and DOCX of 300 pages beside reading the same rows (no writing)."""
    document_id = build(300)
    runs: dict[str, list[dict[str, float]]] = {"load": [], "tei": [], "docx": []}
    for _ in range(rounds):
        for fmt in runs:
            runs[fmt].append(run_measure(document_id, fmt))
    load = [r["seconds"] for r in runs["load"]]
    out = []
    for fmt, goal in (("tei", 2.0), ("docx", None)):
        seconds = [r["seconds"] for r in runs[fmt]]
        peak = max(r["peak_mb"] - r["baseline_mb"] for r in runs[fmt])
        size = runs[fmt][0]["bytes"] / 1e6
        out.append(
            Figure(
                "exports",
                f"{fmt.upper()} of 300 pages (2,400 segments, 130,000 words)",
                median(seconds),
                "s",
                "reading the same rows from Postgres, no output",
                median(load),
                ratio_of(seconds, load),
                "export / read",
                f"≤ {goal:.0f} s" if goal else "",
                median(seconds) <= goal if goal else None,
                f"peak memory {peak:.0f} MB above the process's own; {size:.1f} MB out",
                seconds,
            )
        )
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3])))
        return
    documents = {pages: build(pages) for pages in SIZES}
    rows = []
    for fmt in FORMATS:
        for pages, document_id in documents.items():
            result = run_measure(document_id, fmt)
            rows.append((fmt, pages, result))
            print(fmt, pages, result, file=sys.stderr)
    write(rows)


def write(rows: list[tuple[str, int, dict[str, float]]]) -> None:
    lines = [
        "# Export benchmark",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {os.cpu_count()} cores "
        f"(`bench/exports.py`). Synthetic book: 8 segments × 6 lines × 9 words per page, all "
        "translated and annotated (2,400 segments and 130,000 boxed words at 300 pages); no "
        "page images, so the PDF is its invisible text layer alone. Memory is the export "
        "process's peak resident size above its size just before exporting.",
        "",
        "| format | pages | seconds | output MB | memory above baseline MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for fmt, pages, r in rows:
        lines.append(
            f"| {fmt} | {pages} | {r['seconds']:.2f} | {r['bytes'] / 1e6:.1f} | "
            f"{r['peak_mb'] - r['baseline_mb']:.1f} |"
        )
    lines += NOTE.splitlines()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
