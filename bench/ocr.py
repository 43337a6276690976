"""OCR throughput: the full pipeline vs the `tesseract` CLI vs OCRmyPDF, on the same pages.

Eight printed pages of ../shared/data in three languages (German Fraktur, English, French),
read per round twice by the pipeline and the CLI with 2 processes (16 pages), once with 1
process, and once by OCRmyPDF:

- **pipeline**: the three documents are uploaded to a running `palimpsest serve` (one
  multipart POST each, translation off) and read by a real `palimpsest worker --queues
  ocr,default` with 1 or 2 processes; the clock runs from the first upload to the moment
  every page's OCR is stored (segments, word boxes, the image as read where preparation
  changed it). Each page is decoded, preprocessed as its script wants (Fraktur: deskew,
  grayscale, 3×3 median; Antiqua: grayscale), read by Tesseract with `image_to_data`, laid
  out in reading order and stored in Postgres; a TIFF is also stored as JPEG (PNG if black
  and white) for the browser.
- **tesseract**: `tesseract IMAGE stdout -l MODELS` on the original files with the models
  the pipeline uses, 1 or 2 processes at a time (plain text out, no preprocessing).
- **OCRmyPDF**: each document's images wrapped losslessly into one PDF by img2pdf
  beforehand (not timed), then `ocrmypdf -j 2 -l MODELS in.pdf out.pdf`, the documents one
  after another: it rasterises each page, runs Tesseract (hOCR), lays the text under the
  image and writes a PDF/A-2b (its default output).

Every process runs Tesseract on one thread (OMP_THREAD_LIMIT=1). The sides alternate
within each round, so load from other work on this shared machine falls on all of them.
Besides wall time, each round records CPU seconds: for the pipeline, the worker's process
tree with its Tesseracts, the web process, and every Postgres and Redis process (the
benchmark's own polling included); for the CLI, its Tesseract processes. Before the rounds,
one page of each document warms every pool process and builds each language's word list.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx

from bench import procs
from bench.common import Figure, median, ratio_of

DATA = Path(os.environ.get("PALIMPSEST_BENCH_PAGES", procs.ROOT.parent / "shared" / "data"))
GROUPS: dict[str, list[str]] = {
    "de-Latf": [
        "deu-fraktur-1815-clauren-mimili-p0023",
        "deu-fraktur-1771-anekdoten-p0084",
        "deu-fraktur-c1799-briedefra-p0133",
    ],
    "en": [
        "eng-antiqua-1868-corset-e066",
        "eng-antiqua-1892-florida-g020",
        "eng-antiqua-1823-landseer-b029",
    ],
    "fr": ["fra-antiqua-18c-borrdisc-p0019", "fra-antiqua-1783-montesquieu-posthumes-f14"],
}
ROUNDS = int(os.environ.get("PALIMPSEST_BENCH_OCR_ROUNDS", "3"))
# With 2 processes the pipeline and the CLI read the eight pages twice per round (six
# documents, 16 pages): with 8 pages on 2 processes the last page left one core idle for up
# to a second, and which side drew the longer tail decided the ratio as much as the work did.
# One process has no such tail and reads them once, which keeps `make bench` well under 15
# minutes on a slow day.
COPIES = 2


def copies(processes: int) -> int:
    """How many times a round reads the pages with `processes` worker/CLI processes."""
    return COPIES if processes > 1 else 1


ONE_THREAD = {"OMP_THREAD_LIMIT": "1"}


@dataclass
class Group:
    """The pages of one document: its language tag, the Tesseract models, the files."""

    tag: str
    models: str
    images: list[Path]
    pdf: Path | None = None


@dataclass
class Results:
    """Seconds per round for each side and process count; memory peaks per worker size."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    memory: dict[int, dict[str, float]] = field(default_factory=dict)
    # CPU seconds per round: the pipeline's worker tree (Tesseract included), web process,
    # Postgres and Redis; the CLI's Tesseract processes.
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def add(self, side: str, seconds: float) -> None:
        """Record one round of one side."""
        self.seconds.setdefault(side, []).append(seconds)


def groups() -> list[Group]:
    """The benchmark's documents, with their images found in the data folder."""
    from service.ocr.evaluation import discover
    from service.ocr.languages import ocr_models

    pages = {p.id: p for p in discover(DATA)}
    return [
        Group(tag, ocr_models(tag).models, [pages[i].image for i in ids])
        for tag, ids in GROUPS.items()
    ]


def page_count(docs: list[Group]) -> int:
    """Pages in one round."""
    return sum(len(g.images) for g in docs)


def run_tesseract(docs: list[Group], processes: int) -> float:
    """Wall seconds for the tesseract CLI over every page, `processes` at a time."""
    jobs = [(image, g.models) for g in docs for image in g.images]

    def one(job: tuple[Path, str]) -> None:
        subprocess.run(
            ["tesseract", str(job[0]), "stdout", "-l", job[1]],
            capture_output=True,
            check=True,
            env=os.environ | ONE_THREAD,
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(processes) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - start


def make_pdfs(docs: list[Group], folder: Path) -> None:
    """One PDF per document for OCRmyPDF, images embedded losslessly (not timed)."""
    import img2pdf  # type: ignore[import-untyped]

    for g in docs:
        g.pdf = folder / f"{g.tag}.pdf"
        g.pdf.write_bytes(img2pdf.convert([str(p) for p in g.images]))


def run_ocrmypdf(docs: list[Group], processes: int, folder: Path) -> float:
    """Wall seconds for OCRmyPDF over every document, one after another, -j processes."""
    ocrmypdf = str(Path(sys.executable).parent / "ocrmypdf")
    start = time.perf_counter()
    for g in docs:
        assert g.pdf is not None
        out = str(folder / "out.pdf")
        subprocess.run(
            [ocrmypdf, "-q", "-j", str(processes), "-l", g.models, str(g.pdf), out],
            capture_output=True,
            check=True,
            env=os.environ | ONE_THREAD,
        )
    return time.perf_counter() - start


class Pipeline:
    """Uploads to the running web app and waits until the workers stored every page."""

    def __init__(self, base: str, token: str) -> None:
        from service.accounts.middleware import SESSION_COOKIE

        self.http = httpx.Client(
            base_url=base, cookies={SESSION_COOKIE: token}, headers={"origin": base}, timeout=120
        )

    def run(self, docs: list[Group]) -> float:
        """Wall seconds from the first upload to the last page's OCR stored."""
        payloads = [(g.tag, [(p.name, p.read_bytes()) for p in g.images]) for g in docs]
        start = time.perf_counter()
        ids = [self.upload(tag, files) for tag, files in payloads]
        self.wait(ids, page_count(docs))
        seconds = time.perf_counter() - start
        self.check(ids)
        return seconds

    def upload(self, tag: str, files: list[tuple[str, bytes]]) -> int:
        """POST /api/documents, translation off; the document's id."""
        response = self.http.post(
            "/api/documents",
            data={"source_lang": tag, "translate": "false", "title": f"bench {tag}"},
            files=[("files", f) for f in files],
        )
        response.raise_for_status()
        return int(response.json()["id"])

    def wait(self, ids: list[int], pages: int, timeout: float = 600) -> None:
        """Poll Postgres until every page of the documents has left `pending`."""
        from sqlalchemy import func, select

        from service.db import get_sessionmaker
        from service.documents.models import OcrStatus, Page

        query = select(func.count()).where(
            Page.document_id.in_(ids), Page.ocr_status != OcrStatus.PENDING
        )
        deadline = time.monotonic() + timeout
        with get_sessionmaker()() as session:
            while session.scalar(query) != pages:
                session.rollback()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"OCR of documents {ids} did not finish")
                time.sleep(0.05)

    def check(self, ids: list[int]) -> None:
        """Every page was read into segments (a benchmark of failures would be worthless)."""
        from sqlalchemy import select

        from service.db import get_sessionmaker
        from service.documents.models import OcrStatus, Page

        with get_sessionmaker()() as session:
            pages = session.scalars(select(Page).where(Page.document_id.in_(ids))).all()
            bad = [p.id for p in pages if p.ocr_status is not OcrStatus.DONE or not p.segments]
        if bad:
            raise RuntimeError(f"pages {bad} were not read; see the worker log")


def _rotate(sides: list[tuple[str, Callable[[], float]]], r: int, results: Results) -> None:
    for name, side in sides[r % len(sides) :] + sides[: r % len(sides)]:
        results.add(name, side())


def measure(base: str, token: str, web_pid: int) -> Results:
    """All rounds: 2 worker processes (with OCRmyPDF), then 1."""
    docs, results = groups(), Results()
    pipeline = Pipeline(base, token)
    firsts = [Group(g.tag, g.models, g.images[:1]) for g in docs]
    with tempfile.TemporaryDirectory(prefix="palimpsest-bench-ocr-") as tmp:
        folder = Path(tmp)
        make_pdfs(docs, folder)
        run_tesseract(firsts, 2)  # page cache
        for n in (2, 1):
            with procs.worker("ocr,default", n) as pid:
                idle = procs.Sampler(pid)
                idle.sample()
                for _ in range(n):  # every pool process warm, every language's word list built
                    pipeline.run(firsts)

                sides = [
                    _side(
                        results,
                        f"tesseract-{n}",
                        _children_cpu,
                        partial(run_tesseract, docs * copies(n), n),
                    ),
                    _side(
                        results,
                        f"pipeline-{n}",
                        partial(_pipeline_cpu, pid, web_pid),
                        partial(pipeline.run, docs * copies(n)),
                    ),
                ]
                if n == 2:
                    sides.append(("ocrmypdf-2", lambda: run_ocrmypdf(docs, 2, folder)))
                with procs.Sampler(pid) as busy:
                    for r in range(ROUNDS):
                        _rotate(sides, r, results)
                results.memory[n] = _memory(idle, busy)
    return results


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _pipeline_cpu(worker_pid: int, web_pid: int) -> float:
    return (
        procs.tree_cpu_seconds(worker_pid)
        + procs.tree_cpu_seconds(web_pid)
        + procs.server_cpu_seconds()
    )


def _side(
    results: Results, name: str, cpu: Callable[[], float], run: Callable[[], float]
) -> tuple[str, Callable[[], float]]:
    """A named side whose run also records the CPU seconds `cpu` counts across it."""

    def counted() -> float:
        before = cpu()
        seconds = run()
        results.cpu.setdefault(name, []).append(cpu() - before)
        return seconds

    return name, counted


def _memory(idle: procs.Sampler, busy: procs.Sampler) -> dict[str, float]:
    return {
        "idle_pss": idle.peak.pss_total,
        "busy_pss": busy.peak.pss_total,
        **{f"idle_{k}": v for k, v in idle.peak.rss_by_role.items()},
        **{f"busy_{k}": v for k, v in busy.peak.rss_by_role.items()},
    }


def figures(results: Results) -> list[Figure]:
    """Pages/min of each side, the goals' ratios, and worker memory."""
    pages = page_count(groups())
    per_min = {
        side: [pages * _side_copies(side) * 60 / x for x in runs]
        for side, runs in results.seconds.items()
    }
    out = []
    for n in (2, 1):
        pipe, tess = per_min[f"pipeline-{n}"], per_min[f"tesseract-{n}"]
        goal = "≥ 0.97 of tesseract" if n == 2 else ""
        ratio = ratio_of(pipe, tess)
        out.append(
            Figure(
                "ocr",
                f"pipeline, {n} worker process{'es' if n > 1 else ''}, pages/min",
                median(pipe),
                "pages/min",
                f"tesseract CLI, {n} at a time",
                median(tess),
                ratio,
                "pipeline / tesseract",
                goal,
                ratio >= 0.97 if goal else None,
                runs=pipe,
            )
        )
    ocrmypdf = per_min["ocrmypdf-2"]
    ratio = ratio_of(per_min["pipeline-2"], ocrmypdf)
    out.append(
        Figure(
            "ocr",
            "pipeline, 2 worker processes, pages/min",
            median(per_min["pipeline-2"]),
            "pages/min",
            "OCRmyPDF -j 2 (PDF/A out)",
            median(ocrmypdf),
            ratio,
            "pipeline / OCRmyPDF",
            "≥ 1.3× OCRmyPDF",
            ratio >= 1.3,
            runs=ocrmypdf,
        )
    )
    scale = median(per_min["pipeline-2"]) / median(per_min["pipeline-1"])
    reference = median(per_min["tesseract-2"]) / median(per_min["tesseract-1"])
    out.append(
        Figure(
            "ocr",
            "scaling: pipeline 2 workers / 1 worker",
            scale,
            "×",
            "tesseract CLI 2 at a time / 1",
            reference,
            scale / reference,
            "pipeline scaling / tesseract scaling",
            "≥ 1.8×",
            scale >= 1.8,
        )
    )
    out += _cpu_figures(results, pages)
    for n, mem in results.memory.items():
        out.append(
            Figure(
                "ocr",
                f"OCR worker ({n} process{'es' if n > 1 else ''}): memory per pool process, peak",
                mem.get("busy_child", 0.0),
                "MB RSS",
                "tesseract process, peak",
                mem.get("busy_tesseract", 0.0),
                spread=(
                    f"main {mem.get('busy_main', 0):.0f} MB; whole worker PSS idle "
                    f"{mem['idle_pss']:.0f} MB, busy {mem['busy_pss']:.0f} MB"
                ),
            )
        )
    return out


def _side_copies(side: str) -> int:
    """Copies of the pages a side reads per round (OCRmyPDF: once; others by processes)."""
    return 1 if side.startswith("ocrmypdf") else copies(int(side.rsplit("-", 1)[1]))


def _cpu_figures(results: Results, pages: int) -> list[Figure]:
    """CPU seconds per page of each side (`pages` a copy): steadier than wall time on a
    shared machine."""
    out = []
    for n in (2, 1):
        read = pages * copies(n)
        pipe = [x / read for x in results.cpu.get(f"pipeline-{n}", [])]
        tess = [x / read for x in results.cpu.get(f"tesseract-{n}", [])]
        if not pipe or not tess:
            continue
        out.append(
            Figure(
                "ocr",
                f"CPU per page, pipeline with {n} worker process{'es' if n > 1 else ''} "
                "(worker with its Tesseracts, web, Postgres, Redis)",
                median(pipe),
                "s",
                "tesseract CLI, the same pages",
                median(tess),
                median(tess) / median(pipe),
                "tesseract CPU / pipeline CPU",
                spread=f"rounds: pipeline {_list(pipe)} s, tesseract {_list(tess)} s",
            )
        )
    return out


def _list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)
