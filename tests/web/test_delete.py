"""Deleting a document removes everything derived from it, and nothing of other documents."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.jobs import pipeline
from service.jobs.runner import run_inline
from tests.fakes.ollama_server import FakeOllama
from tests.helpers import authed_client, encode, text_image

TABLES = ["source_files", "pages", "segments", "translations", "annotations", "edits", "jobs"]


def counts(session: Session, document_id: int) -> dict[str, int]:
    return {
        table: int(
            session.scalar(
                text(
                    f"SELECT count(*) FROM {table} t WHERE "
                    + (
                        "t.document_id = :d"
                        if table not in ("annotations",)
                        else "t.segment_id IN (SELECT id FROM segments WHERE document_id = :d)"
                    )
                ),
                {"d": document_id},
            )
            or 0
        )
        for table in TABLES
    }


def blobs(session: Session, document_id: int) -> set[str]:
    rows = session.execute(
        text(
            "SELECT sha256 FROM source_files WHERE document_id = :d UNION "
            "SELECT image_sha256 FROM pages WHERE document_id = :d UNION "
            "SELECT ocr_image_sha256 FROM pages WHERE document_id = :d"
        ),
        {"d": document_id},
    )
    return {r[0] for r in rows if r[0]}


def stored_files() -> set[str]:
    from service.config import get_settings

    root = get_settings().storage_path
    return {p.name for p in Path(root).rglob("*") if p.is_file()}


def test_deleting_a_document_removes_its_rows_files_and_images(
    ollama: FakeOllama, session: Session
) -> None:
    client = authed_client()
    shared = encode(text_image([["Shared page"]]), "PNG")
    own = encode(text_image([["Le roi vint."], ["Fin du chapitre."]]), "TIFF")
    ids = []
    for files in ([("own.tif", own), ("shared.png", shared)], [("shared.png", shared)]):
        response = client.post(
            "/api/documents",
            data={"source_lang": "fr", "backend": "ollama", "model": "llama3.2:3b"},
            files=[("files", (n, d, "image/png")) for n, d in files],
        )
        ids.append(response.json()["id"])
    for document_id in ids:
        run_inline(pipeline.default_context(), pipeline.start(document_id))
    doomed, kept = ids
    segment = client.get(f"/api/documents/{doomed}/segments").json()[0]
    client.post(
        f"/api/segments/{segment['id']}/annotations",
        json={"layer": "source", "start": 0, "end": 2, "type": "term"},
    )
    client.patch(f"/api/segments/{segment['id']}/translation", json={"text": "Edited."})
    only_doomed = blobs(session, doomed) - blobs(session, kept)
    before = counts(session, doomed)
    assert all(before[t] > 0 for t in TABLES), before
    files_before = stored_files()

    assert client.delete(f"/api/documents/{doomed}").status_code == 204

    assert counts(session, doomed) == dict.fromkeys(TABLES, 0)
    assert client.get(f"/api/documents/{doomed}").status_code == 404
    gone = files_before - stored_files()
    # The TIFF upload and the page images made from it; the shared scan (and the images
    # read from it) stay for the other document.
    assert gone == only_doomed and len(gone) >= 2
    assert client.get(f"/api/documents/{kept}/segments").json()  # the other one is intact
    kept_page = client.get(f"/api/documents/{kept}").json()["pages"][0]
    assert client.get(kept_page["image_url"]).status_code == 200  # shared scan still there
    assert f"/documents/{doomed}?" not in client.get("/search", params={"q": "roi"}).text
    with unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(text("documents"))) == 1
    assert client.delete(f"/api/documents/{doomed}").status_code == 404


def test_the_document_page_offers_deletion_with_a_confirmation(session: Session) -> None:
    from tests.helpers import make_document

    document = make_document(session, ["Un."], ["One."], title="Brouillon")
    client = authed_client()
    html = client.get(f"/documents/{document.id}").text
    assert f'action="/documents/{document.id}/delete"' in html and "data-confirm=" in html
    response = client.post(f"/documents/{document.id}/delete", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Brouillon" not in client.get("/").text
