"""Server time of the review page holding 500 segments, and of the dashboard.

Run with `.venv/bin/python -m bench.review_page` against a scratch database (it creates and
drops `palimpsest_bench`). Figures go to bench/results/review-page.md.
"""

from __future__ import annotations

import os
import sys

from bench.common import median, percentile, timings_ms, write_results
from bench.setup import bench_database, login_token, seed_document

RUNS = 40


def main() -> int:
    """Measure and write the results table."""
    with bench_database():
        from fastapi.testclient import TestClient

        from service.accounts.middleware import SESSION_COOKIE
        from service.db import get_sessionmaker
        from service.main import create_app

        with get_sessionmaker()() as session:
            doc_id = seed_document(session, pages=1, segments_per_page=500)
        # Entered, so start-up runs as in `palimpsest serve` (the garbage collector settled).
        with TestClient(create_app()) as client:
            client.cookies.set(SESSION_COOKIE, login_token())
            url = f"/documents/{doc_id}?page=1"
            assert client.get(url).text.count('<article class="segment') == 500
            review = timings_ms(lambda: client.get(url), RUNS)
            api_url = f"/api/documents/{doc_id}/segments?page=1"
            api = timings_ms(lambda: client.get(api_url), RUNS)
        rows = [
            ("review page, 500 segments (HTML)", review),
            ("segments API, 500 segments (JSON)", api),
        ]
        table = ["| request | p50 ms | p95 ms | goal |", "|---|---|---|---|"]
        for label, values in rows:
            goal = "≤ 50 ms p50" if "review" in label else ""
            table.append(
                f"| {label} | {median(values):.1f} | {percentile(values, 95):.1f} | {goal} |"
            )
        body = (
            f"In-process ASGI client (no network), {RUNS} runs after 2 warm-ups, real Postgres; "
            "the page renders 500 rows with low-confidence marks, translations and boxes.\n\n"
            + "\n".join(table)
        )
        path = write_results("review-page", "Review page server time", body)
        print(path.read_text())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PALIMPSEST_LOG_LEVEL", "warning")
    sys.exit(main())
