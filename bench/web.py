"""Web figures against a real `palimpsest serve` (uvicorn) on loopback, logged in by cookie.

- The review page of one page holding 500 segments (every row with word boxes, a
  translation and low-confidence marks): server time, from the `Server-Timing` header the
  app adds to every answer (request in to headers out; the page is rendered whole before
  its headers go), sequential requests on a keep-alive connection. Reference: the round
  trip the client sees for the same requests (time to the last byte of the 1 MB page read
  by httpx); `GET /api/me` on the same server, the floor every logged-in request pays
  (authentication, routing, a tiny JSON answer), in the notes.
- 50 concurrent readers: an asyncio httpx client in this process keeps 50 connections;
  each reader opens a random page (25 segments, like a printed page) of a 20-page
  document, reads it for 1–3 s (uniformly random), and opens another. Reference: the same
  pages requested one at a time on an idle server.
- The dashboard (`/`, newest 200 documents with their page counts and progress per stage)
  with 10,000 documents. Reference: the same page with 100 documents, in the same run.
"""

from __future__ import annotations

import asyncio
import random
import time

import httpx

from bench import procs
from bench.common import Figure, median, percentile, ratio_of, timings_ms
from service.timing import server_ms

RUNS = 40
READERS = 50
LOAD_ROUNDS = 3
LOAD_SECONDS = 10.0
THINK_S = (1.0, 3.0)


def _client(base: str, token: str) -> httpx.Client:
    from service.accounts.middleware import SESSION_COOKIE

    return httpx.Client(base_url=base, cookies={SESSION_COOKIE: token}, timeout=60)


def _get(client: httpx.Client, url: str) -> None:
    response = client.get(url)
    response.raise_for_status()


def _seed(pages: int, segments: int) -> int:
    from bench.setup import seed_document
    from service.db import get_sessionmaker

    with get_sessionmaker()() as session:
        return seed_document(session, pages=pages, segments_per_page=segments)


def review_page(client: httpx.Client) -> list[Figure]:
    """Server time p50/p95 of the 500-segment review page (its Server-Timing header), beside
    the round trip as the client on loopback sees it and the floor of a logged-in request."""
    doc = _seed(1, 500)
    url = f"/documents/{doc}?page=1"
    assert client.get(url).text.count('<article class="segment') == 500
    floor, trip, server, api = [], [], [], []

    def page() -> None:
        response = client.get(url)
        response.raise_for_status()
        took = server_ms(response.headers)
        assert took is not None, "the page has no Server-Timing header"
        server.append(took)

    for _ in range(2):  # warm-up
        page()
    server.clear()
    for _ in range(4):  # rounds alternate the three requests
        floor += timings_ms(lambda: _get(client, "/api/me"), RUNS // 4)
        trip += timings_ms(page, RUNS // 4, warmup=0)
        api += timings_ms(lambda: _get(client, f"/api/documents/{doc}/segments?page=1"), RUNS // 4)
    p50, p95 = median(server), percentile(server, 95)
    return [
        Figure(
            "web",
            "review page, 500 segments, server time p50",
            p50,
            "ms",
            "round trip p50 (loopback, 1 MB of HTML read by httpx)",
            median(trip),
            p50 / median(trip),
            "server / round trip",
            "≤ 50 ms",
            p50 <= 50,
            f"GET /api/me round trip p50 {median(floor):.1f} ms; segments API (JSON) round "
            f"trip p50 {median(api):.0f} ms",
            server,
        ),
        Figure(
            "web",
            "review page, 500 segments, server time p95",
            p95,
            "ms",
            "round trip p95",
            percentile(trip, 95),
            p95 / percentile(trip, 95),
            "server / round trip",
        ),
    ]


async def _reader(
    client: httpx.AsyncClient, urls: list[str], until: float, latencies: list[float]
) -> None:
    await asyncio.sleep(random.uniform(*THINK_S))  # readers arrive spread out
    while time.monotonic() < until:
        start = time.perf_counter()
        response = await client.get(random.choice(urls))
        response.raise_for_status()
        latencies.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(random.uniform(*THINK_S))


async def _load(base: str, token: str, urls: list[str], seconds: float) -> list[float]:
    from service.accounts.middleware import SESSION_COOKIE

    latencies: list[float] = []
    limits = httpx.Limits(max_connections=READERS, max_keepalive_connections=READERS)
    async with httpx.AsyncClient(
        base_url=base, cookies={SESSION_COOKIE: token}, limits=limits, timeout=60
    ) as client:
        until = time.monotonic() + seconds
        await asyncio.gather(*(_reader(client, urls, until, latencies) for _ in range(READERS)))
    return latencies


def readers(
    client: httpx.Client, base: str, token: str, web_pid: int
) -> tuple[Figure, dict[str, float]]:
    """p95 of 50 readers on loopback beside the same pages requested on an idle server."""
    doc = _seed(20, 25)
    urls = [f"/documents/{doc}?page={n}" for n in range(1, 21)]
    idle = timings_ms(lambda: _get(client, random.choice(urls)), 40)
    rounds, count = [], 0
    with procs.Sampler(web_pid) as busy:
        for _ in range(LOAD_ROUNDS):
            latencies = asyncio.run(_load(base, token, urls, LOAD_SECONDS))
            rounds.append(percentile(latencies, 95))
            count += len(latencies)
    p95 = median(rounds)
    rate = count / (LOAD_ROUNDS * (LOAD_SECONDS + THINK_S[1]))
    figure = Figure(
        "web",
        f"{READERS} concurrent readers (1–3 s per page), review page of 25 segments, p95",
        p95,
        "ms",
        "same pages one at a time, idle server, p95",
        percentile(idle, 95),
        p95 / percentile(idle, 95),
        "loaded / idle",
        "≤ 200 ms",
        p95 <= 200,
        f"{count} requests in {LOAD_ROUNDS} rounds of {LOAD_SECONDS:.0f} s (about {rate:.0f}/s); "
        f"p95 per round {', '.join(f'{x:.0f}' for x in rounds)} ms",
        rounds,
    )
    return figure, {"busy_rss": busy.peak.rss_by_role.get("main", 0.0)}


def _many_documents(count: int) -> None:
    """Add `count` finished documents with their job rows, as bulk inserts."""
    if count <= 0:  # an empty parameter list would insert one row of defaults
        return
    from sqlalchemy import insert

    from service.db import unit_of_work
    from service.documents.models import Document, DocumentStatus
    from service.jobs.models import Job, JobStage, JobStatus

    with unit_of_work() as session:
        ids = session.scalars(
            insert(Document).returning(Document.id),
            [
                {
                    "title": f"Registre {n}",
                    "source_lang": "fr",
                    "target_lang": "en",
                    "status": DocumentStatus.DONE,
                }
                for n in range(count)
            ],
        ).all()
        session.execute(
            insert(Job),
            [
                {"document_id": i, "stage": s, "status": JobStatus.DONE, "total": 1, "done": 1}
                for i in ids
                for s in JobStage
            ],
        )


def dashboard(client: httpx.Client) -> Figure:
    """The document list with 10,000 documents beside the same list with 100."""
    from sqlalchemy import func, select

    from service.db import get_sessionmaker
    from service.documents.models import Document

    with get_sessionmaker()() as session:
        have = session.scalar(select(func.count()).select_from(Document)) or 0
    _many_documents(max(0, 100 - have))
    small = timings_ms(lambda: _get(client, "/"), RUNS // 2)
    _many_documents(10_000 - max(have, 100))
    large = timings_ms(lambda: _get(client, "/"), RUNS // 2)
    api = timings_ms(lambda: _get(client, "/api/documents?limit=100"), RUNS // 2)
    return Figure(
        "web",
        "document list (/) with 10,000 documents, p50",
        median(large),
        "ms",
        "the same list with 100 documents, p50",
        median(small),
        ratio_of([median(large)], [median(small)]),
        "10,000 / 100",
        spread=(
            f"p95 {percentile(large, 95):.0f} ms; the page shows the newest 200; "
            f"/api/documents?limit=100 p50 {median(api):.0f} ms"
        ),
        runs=large,
    )


def figures(base: str, web_pid: int, memory: dict[str, float]) -> list[Figure]:
    """Every web figure; records the web process's memory idle and under load."""
    from bench.setup import login_token

    editor = login_token("editor")
    with _client(base, editor) as client:
        memory["idle_rss"] = procs.rss_mb(web_pid)
        out = review_page(client)
        loaded, mem = readers(client, base, editor, web_pid)
        memory.update(mem)
        out.append(loaded)
        out.append(dashboard(client))
    return out
