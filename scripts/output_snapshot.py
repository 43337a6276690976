"""Every output of one seeded document, to diff before and after a refactoring.

    PYTHONPATH=<tree> .venv/bin/python scripts/output_snapshot.py OUT_DIR

Seeds a scratch database (PALIMPSEST_BENCH_DB, default palimpsest_bench) with two pages of
20 segments (low-confidence words, annotations on both layers, a stale, an approved and an
untranslated segment), then writes each export format, the review page's HTML and the
segments API's JSON to OUT_DIR. A zip (DOCX, PAGE) is unpacked, and the times of the run
are blanked (rows' creation, comments, the export's date), so `diff -r` between two
snapshots shows only real changes.
"""

from __future__ import annotations

import io
import os
import re
import sys
import zipfile
from pathlib import Path

from bench.setup import bench_database, login_token, seed_document


def _vary(session: object, document_id: int) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from service.documents.models import Segment
    from service.review.models import Annotation, AnnotationLayer, AnnotationType
    from service.translation.models import Translation, TranslationStatus

    assert isinstance(session, Session)
    segments = session.scalars(
        select(Segment).where(Segment.document_id == document_id).order_by(Segment.id)
    ).all()
    layers = (AnnotationLayer.SOURCE, AnnotationLayer.TRANSLATION)
    for i, segment in enumerate(segments[:12]):
        session.add(
            Annotation(
                segment_id=segment.id,
                layer=layers[i % 2],
                start=0,
                end=4 + i,
                type=list(AnnotationType)[i % len(AnnotationType)],
                body='Voltaire <&> "quoted"' if i % 3 == 0 else None,
            )
        )
    segments[3].normalized += " <changed & stale>"  # the translation is now stale
    translation = {t.segment_id: t for t in session.scalars(select(Translation))}
    translation[segments[5].id].status = TranslationStatus.APPROVED
    session.delete(translation[segments[7].id])
    session.commit()


def main(out: Path) -> int:
    """Seed, then write every output."""
    out.mkdir(parents=True, exist_ok=True)
    with bench_database():
        from fastapi.testclient import TestClient

        from service.accounts.middleware import SESSION_COOKIE
        from service.db import get_sessionmaker
        from service.exports.service import ExportFormat, export
        from service.main import create_app

        with get_sessionmaker()() as session:
            doc_id = seed_document(session, pages=2, segments_per_page=20)
            _vary(session, doc_id)
            for fmt in ExportFormat:
                _write(out, fmt.value, export(session, doc_id, fmt).content)
        with TestClient(create_app()) as client:
            client.cookies.set(SESSION_COOKIE, login_token())
            for page in (1, 2):
                html = client.get(f"/documents/{doc_id}?page={page}").text
                (out / f"review-{page}.html").write_bytes(_unstamped(_unstamp(html).encode()))
                api = client.get(f"/api/documents/{doc_id}/segments?page={page}").text
                (out / f"segments-{page}.json").write_bytes(_unstamped(api.encode()))
    return 0


_STAMPS = [
    (rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", b"TIME"),
    (rb"Exported \d{4}-\d\d-\d\d", b"Exported DATE"),
    (rb"/(CreationDate|ModDate) *\(D:[^)]*\)", b"/DATE"),
    (rb"/ID\s*\[<[0-9a-fA-F]+>\s*<[0-9a-fA-F]+>\]", b"/ID"),
    (rb"\d{8}T\d{6}Z", b"TIME"),
    (rb'data-(token|row-key)="[^"]*"', b"data-STAMPED"),
]


def _unstamped(data: bytes) -> bytes:
    """Without the times of the run (rows' creation, the export's date)."""
    for pattern, replacement in _STAMPS:
        data = re.sub(pattern, replacement, data)
    return data


def _write(out: Path, fmt: str, content: bytes) -> None:
    if not content.startswith(b"PK"):
        (out / f"export.{fmt}").write_bytes(_unstamped(content))
        return
    with zipfile.ZipFile(io.BytesIO(content)) as packed:
        for name in packed.namelist():
            data = _unstamped(packed.read(name))
            target = out / fmt / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _unstamp(html: str) -> str:
    """The page without what changes on every request (CSRF token, timings)."""
    html = re.sub(r'name="csrf[^"]*" (content|value)="[^"]*"', "csrf", html)
    return re.sub(r"\d+(\.\d+)? ms", "N ms", html)


if __name__ == "__main__":
    os.environ.setdefault("PALIMPSEST_LOG_LEVEL", "warning")
    sys.exit(main(Path(sys.argv[1])))
