"""From a page's OCR being done to its rows on screen, on a document page already open.

A historian uploads a book and watches its document page: each page's rows should appear
as soon as that page is read, without reloading (issue 18; before it, they came with the
translation, 20–40 s later, or with a manual reload). Against the real processes of
`make bench` — `palimpsest serve`, an OCR worker with two processes and the model worker
translating with the embedded model, as `make run` starts them — and Debian's Chromium:

- each round uploads a 4-page document (printed French paragraphs rendered at 300 DPI)
  and, as soon as the upload is answered, opens each of its pages in a browser window of
  its own (1440×900), before any page has been read;
- a thread in this process polls Postgres every 20 ms and notes when each page's OCR
  result is committed (its status leaves `pending`): that is "OCR done";
- a MutationObserver in each window notes when the first row of its page is in the
  document; the figure is the difference, per page (same clock, same machine);
- every window must still be the document it first loaded (no reload), or the round fails.

Reference, in the same rounds: the time a freshly opened window takes to show the same
page's rows once its OCR is done (navigation start to the rows in the DOM), what a
manual reload costs at best. The document's translation is cancelled after each round.

    .venv/bin/python -m bench.live_rows        # alone, against a scratch database
    .venv/bin/python -m bench --only live      # as a section of `make bench`

Figures go to bench/results/live-rows.md.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench import procs
from bench.common import Figure, median, percentile, write_results

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROUNDS = 3
PAGES = 4
POLL_S = 0.02
GOAL_S = 2.0
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
TEXT = [
    ["Le conseil de {town} s'est assemblé le {n} du mois", "de mai, en la maison commune."],
    ["On a résolu de réparer le pont de {town} avant", "l'hiver prochain, aux frais communs."],
    ["Les échevins de {town} ont signé la présente", "délibération, le jour et an susdits."],
]
TOWNS = ["Lyon", "Nantes", "Rouen", "Dijon", "Reims", "Amiens", "Tours", "Blois"]
WATCH_ROWS = """
window.__rowsAt = null;
const seen = () => {
  if (window.__rowsAt === null && document.querySelector("article.segment")) {
    window.__rowsAt = Date.now();
  }
};
new MutationObserver(seen).observe(document, { childList: true, subtree: true });
"""


@dataclass
class Round:
    """One document: per page, OCR committed and rows seen (epoch seconds)."""

    document_id: int
    ocr_done: dict[int, float] = field(default_factory=dict)
    rows_seen: dict[int, float] = field(default_factory=dict)
    reload_s: dict[int, float] = field(default_factory=dict)

    def latencies(self) -> list[float]:
        """Seconds from each page's OCR commit to its rows in the open window."""
        return [self.rows_seen[n] - self.ocr_done[n] for n in sorted(self.ocr_done)]


def book(round_no: int) -> bytes:
    """A multi-page TIFF, three paragraphs a page, no two pages alike."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(FONT), 42)
    pages = []
    for n in range(PAGES):
        town = TOWNS[(round_no * PAGES + n) % len(TOWNS)]
        image = Image.new("L", (2000, 1400), 255)
        draw = ImageDraw.Draw(image)
        y = 150
        for paragraph in TEXT:
            for line in paragraph:
                draw.text((150, y), line.format(town=town, n=n + 2), font=font, fill=0)
                y += 63
            y += 63
        pages.append(image)
    out = io.BytesIO()
    pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:])
    return out.getvalue()


def chromium() -> str:
    """Debian's Chromium (Playwright's own download does not work offline)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("chromium is not installed: apt-get install chromium")


@contextmanager
def watching(document_id: int, found: dict[int, float]) -> Iterator[None]:
    """Note, in a thread, when each page's OCR result is committed."""
    from sqlalchemy import select

    from service.db import get_sessionmaker
    from service.documents.models import OcrStatus, Page

    stop = threading.Event()
    query = select(Page.number).where(
        Page.document_id == document_id, Page.ocr_status != OcrStatus.PENDING
    )

    def poll() -> None:
        with get_sessionmaker()() as session:
            while not stop.is_set():
                now = time.time()
                for number in session.scalars(query):
                    found.setdefault(number, now)
                session.rollback()
                time.sleep(POLL_S)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def run_round(base: str, token: str, round_no: int, browser: Browser) -> Round:
    """Upload a document, open its pages at once, wait until every one shows its rows."""
    from service.accounts.middleware import SESSION_COOKIE

    http = httpx.Client(
        base_url=base, cookies={SESSION_COOKIE: token}, headers={"origin": base}, timeout=120
    )
    cookie = {"name": SESSION_COOKIE, "value": token, "url": base}
    windows = []
    for _ in range(PAGES):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([cookie])  # type: ignore[list-item]  # a SetCookieParam
        context.add_init_script(WATCH_ROWS)
        windows.append(context)
    response = http.post(
        "/api/documents",
        data={"source_lang": "fr", "target_lang": "en", "backend": "embedded"},
        files=[("files", (f"minutes-{round_no}.tif", book(round_no), "image/tiff"))],
    )
    response.raise_for_status()
    result = Round(int(response.json()["id"]))
    try:
        with watching(result.document_id, result.ocr_done):
            pages = []
            for n, context in enumerate(windows, start=1):
                page = context.new_page()
                page.goto(f"{base}/documents/{result.document_id}?page={n}")
                page.evaluate("window.__sameDocument = true")
                pages.append(page)
            _wait_rows(pages, result)
        for n, page in enumerate(pages, start=1):
            if page.evaluate("window.__sameDocument") is not True:
                raise RuntimeError(f"the window of page {n} reloaded")
        _reload_reference(windows, base, result)
    finally:
        http.post(f"/api/documents/{result.document_id}/cancel-translation")
        for context in windows:
            context.close()
    return result


def _wait_rows(pages: list[Page], result: Round, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(result.rows_seen) < len(pages):
        for n, page in enumerate(pages, start=1):
            seen = page.evaluate("window.__rowsAt")
            if seen is not None and n not in result.rows_seen:
                result.rows_seen[n] = seen / 1000
        if time.monotonic() > deadline:
            raise RuntimeError(f"rows did not appear on pages {sorted(result.rows_seen)}")
        time.sleep(0.05)
    # The database poller looks every 20 ms: let it note the last commits it has not seen.
    while set(result.rows_seen) - set(result.ocr_done):
        if time.monotonic() > deadline:
            raise RuntimeError("rows appeared for pages whose OCR was never seen done")
        time.sleep(POLL_S)


def _reload_reference(windows: list[BrowserContext], base: str, result: Round) -> None:
    """A fresh window per page: navigation start to the rows in the DOM."""
    for n, context in enumerate(windows, start=1):
        page = context.new_page()
        page.goto(f"{base}/documents/{result.document_id}?page={n}")
        page.wait_for_function("window.__rowsAt !== null")
        result.reload_s[n] = page.evaluate("window.__rowsAt - performance.timeOrigin") / 1000
        page.close()


def measure(base: str, token: str) -> list[Round]:
    """Every round with the workers `make run` starts."""
    from playwright.sync_api import sync_playwright

    rounds = []
    with (
        procs.worker("ocr,default", 2),
        procs.worker("llm", 1),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for r in range(ROUNDS):
                rounds.append(run_round(base, token, r, browser))
        finally:
            browser.close()
    return rounds


def figures(rounds: list[Round]) -> list[Figure]:
    """The latency's median over every page of every round, and its worst."""
    latencies = [x for r in rounds for x in r.latencies()]
    reloads = [x for r in rounds for x in r.reload_s.values()]
    spread = (
        f"{len(latencies)} pages in {len(rounds)} rounds; p95 {percentile(latencies, 95):.2f} s, "
        f"max {max(latencies):.2f} s"
    )
    return [
        Figure(
            "live",
            "OCR of a page done → its rows on the open document page (no reload)",
            median(latencies),
            "s",
            "a freshly opened window showing the same rows (navigation to rows)",
            median(reloads),
            None,
            "",
            f"< {GOAL_S:.0f} s",
            max(latencies) < GOAL_S,
            spread,
            latencies,
        )
    ]


def write(rounds: list[Round], figure: Figure) -> Path:
    """bench/results/live-rows.md: the figure and every page's latency."""
    lines = [
        "| round | page | OCR committed → rows seen, s | fresh window: navigation → rows, s |",
        "|---|---|---:|---:|",
    ]
    for i, r in enumerate(rounds, start=1):
        for n in sorted(r.ocr_done):
            latency = r.rows_seen[n] - r.ocr_done[n]
            lines.append(f"| {i} | {n} | {latency:.2f} | {r.reload_s.get(n, 0):.2f} |")
    body = (
        f"Median **{figure.value:.2f} s** from a page's OCR result being committed to its rows "
        f"in the DOM of the document page opened before any page was read, without reload "
        f"(goal < {GOAL_S:.0f} s; {figure.spread}). A freshly opened window shows the same "
        f"rows {figure.reference_value or 0:.2f} s after its navigation starts. The page "
        "asks for changes every second while work is under way; OCR worker with 2 "
        "processes and the embedded model translating meanwhile, Chromium on the same "
        "2 cores.\n\n" + "\n".join(lines)
    )
    return write_results("live-rows", "Rows appearing as pages are read", body)


def main() -> int:
    """Measure against a scratch database and write the results."""
    from bench.setup import bench_database, login_token

    with bench_database():
        procs.use_bench_redis()
        token = login_token()
        with procs.web_server() as (base, _pid):
            rounds = measure(base, token)
    (figure,) = figures(rounds)
    print(write(rounds, figure).read_text())
    return 0 if figure.met else 1


if __name__ == "__main__":
    os.environ.setdefault("PALIMPSEST_LOG_LEVEL", "warning")
    sys.exit(main())
