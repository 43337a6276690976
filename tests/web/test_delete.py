"""Deleting a document removes everything derived from it, and nothing of other documents."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.jobs import pipeline
from service.jobs.runner import run_inline
from tests.fakes.ollama_server import FakeOllama
from tests.support.helpers import authed_client, encode, text_image

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
    from tests.support.helpers import make_document

    document = make_document(session, ["Un."], ["One."], title="Brouillon")
    client = authed_client()
    html = client.get(f"/documents/{document.id}").text
    assert f'action="/documents/{document.id}/delete"' in html and "data-confirm=" in html
    response = client.post(f"/documents/{document.id}/delete", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "Brouillon" not in client.get("/").text


def test_an_administrator_deletes_a_collection_saying_what_becomes_of_its_documents(
    session: Session, redis_client: object
) -> None:
    editor, admin = authed_client("editor"), authed_client("admin")
    png = encode(text_image([["Ratsprotokoll"]]), "PNG")

    def upload(collection: str) -> int:
        response = editor.post(
            "/api/documents",
            data={"source_lang": "de", "collection": collection},
            files=[("files", ("p.png", png, "image/png"))],
        )
        return int(response.json()["id"])

    kept, doomed = upload("Kept"), upload("Doomed")
    ids = {c: editor.get(f"/api/documents/{d}").json()["collection_id"] for c, d in
           (("Kept", kept), ("Doomed", doomed))}  # fmt: skip
    editor.put(
        f"/api/collections/{ids['Doomed']}/glossary", json={"term": "Rat", "translation": "council"}
    )
    url = f"/api/collections/{ids['Doomed']}"

    assert editor.delete(url).status_code == 403  # a member, not an administrator
    assert authed_client("editor").delete(url).status_code == 404  # not even told it exists
    refused = admin.delete(url)
    assert refused.status_code == 422
    assert (
        "holds 1 document" in refused.json()["message"]
        and "documents=" in refused.json()["message"]
    )

    moved = admin.delete(url, params={"documents": "move", "move_to": ids["Kept"]})
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"name": "Doomed", "documents": "move", "count": 1}
    assert editor.get(f"/api/documents/{doomed}").json()["collection_id"] == ids["Kept"]
    assert editor.get(f"{url}/glossary").status_code == 404  # its glossary went with it

    files_before = stored_files()
    gone = admin.delete(f"/api/collections/{ids['Kept']}", params={"documents": "delete"})
    assert gone.json() == {"name": "Kept", "documents": "delete", "count": 2}
    assert editor.get(f"/api/documents/{kept}").status_code == 404
    assert stored_files() < files_before  # their files went too
    assert editor.get("/api/me").json()["collection_ids"] == []


def test_ungrouped_documents_open_to_every_user_and_the_page_offers_it(session: Session) -> None:
    admin = authed_client("admin")
    collection = admin.post("/api/collections", json={"name": "Open soon"}).json()["id"]
    from tests.support.helpers import make_document

    document = make_document(session, ["Un."], None, title="Aushang")
    admin.put(f"/api/documents/{document.id}/collection", json={"collection_id": collection})
    assert authed_client("viewer").get(f"/api/documents/{document.id}").status_code == 404
    page = admin.get(f"/collections/{collection}").text
    assert f'action="/collections/{collection}/delete"' in page and "data-confirm=" in page
    member = authed_client("editor", collections=(collection,))
    assert (
        f'action="/collections/{collection}/delete"'
        not in member.get(f"/collections/{collection}").text
    )
    response = admin.post(
        f"/collections/{collection}/delete",
        data={"documents": "ungroup", "move_to": ""},  # as the form sends it
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/collections"
    assert authed_client("viewer").get(f"/api/documents/{document.id}").status_code == 200
