"""A 300-page PDF streams page by page: resident memory while its pages are rendered.

    .venv/bin/python -m bench.pdf_stream

Builds a 300-page text PDF (reportlab), uploads it as a document in a scratch database,
runs the ingest step (page count only) and then renders every page the way the OCR task
does — one page at a time from the PDF at 300 DPI — in this one process, recording the
process's peak resident memory as pages go by. Flat figures mean the PDF is never held
whole. It also times the full OCR step on the first pages. Results go to
bench/results/pdf-stream.md.
"""

from __future__ import annotations

import io
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.common import write_results
from bench.setup import bench_database

PAGES = 300
CHECKPOINTS = (1, 10, 50, 100, 200, 300)
OCR_PAGES = 3
TEXT = (
    "Plaignez, Messieurs, ces êtres infortunés, qui préfèrent de languir dans l'oisiveté "
    "à goûter les douceurs qu'on trouve à s'instruire, à enrichir leur esprit de nobles "
    "idées, et à mettre en valeur pour leur propre bien ce fonds si fertile. "
)


def build_pdf(path: Path) -> None:
    """A PDF of PAGES pages of French prose, one paragraph per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A4)
    for number in range(1, PAGES + 1):
        text = canvas.beginText(60, 780)
        text.setFont("Times-Roman", 13)
        words = (f"Page {number}. " + TEXT * 3).split()
        for start in range(0, len(words), 11):
            text.textLine(" ".join(words[start : start + 11]))
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    """Measure and write the results table."""
    with bench_database(), tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "book.pdf"
        build_pdf(pdf)
        from service.db import unit_of_work
        from service.documents import service as documents
        from service.jobs import pipeline
        from service.ocr import service as ocr

        ctx = pipeline.default_context()
        with unit_of_work() as session:
            spec = documents.NewDocument(title="300 pages", source_lang="fr", translate=False)
            uploads = [documents.Upload("book.pdf", io.BytesIO(pdf.read_bytes()))]
            document_id = documents.create(
                session, ctx.storage, spec, uploads, ctx.settings.max_upload_bytes
            ).id
        with unit_of_work() as session:
            steps = pipeline.ingest_document(session, ctx, document_id)
        page_ids = [s.args[0] for s in steps]
        baseline = peak_mb()
        rows, started = [], time.perf_counter()
        for n, page_id in enumerate(page_ids, start=1):
            with unit_of_work() as session:
                page = documents.get_page_or_raise(session, page_id)
                ocr.load_page_image(page, ctx.storage, ctx.settings.ocr_dpi)
            if n in CHECKPOINTS:
                rows.append((n, peak_mb(), time.perf_counter() - started))
        ocr_started = time.perf_counter()
        for page_id in page_ids[:OCR_PAGES]:
            with unit_of_work() as session:
                pipeline.ocr_page(session, ctx, page_id)
        ocr_s = (time.perf_counter() - ocr_started) / OCR_PAGES
        table = [
            "| pages rendered | peak RSS of the process (MB) | above the start (MB) | seconds |",
            "|---|---|---|---|",
        ]
        table += [f"| {n} | {mb:.0f} | {mb - baseline:.0f} | {s:.1f} |" for n, mb, s in rows]
        body = (
            f"A {PAGES}-page PDF ({pdf.stat().st_size / 1e6:.1f} MB, text pages, A4) uploaded "
            "and ingested (page count through pdfinfo); each page then rendered alone at "
            f"300 DPI as the OCR task does (pdf2image, first_page = last_page), in one "
            f"process. Start of rendering: {baseline:.0f} MB peak RSS.\n\n"
            + "\n".join(table)
            + f"\n\nFull OCR step (render, preprocess, Tesseract, store) on the first "
            f"{OCR_PAGES} pages: {ocr_s:.1f} s per page.\n"
        )
        path = write_results("pdf-stream", "300-page PDF: memory while streaming pages", body)
        print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
