"""The same file uploaded twice is recognised by its SHA-256: created, with a warning that
names the earlier document, in the API answer and on the page the upload leads to."""

from __future__ import annotations

from typing import Any

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.documents.models import Collection
from tests.support.helpers import authed_client, encode, text_image

SCAN = encode(text_image([["Ratsprotokoll vom 3. März 1783"]]), "PNG")
OTHER = encode(text_image([["Ein anderes Blatt"]]), "PNG")


def upload(
    client: TestClient, title: str, *files: tuple[str, bytes], **form: str
) -> dict[str, Any]:
    response = client.post(
        "/api/documents",
        data={"source_lang": "de", "target_lang": "en", "title": title} | form,
        files=[("files", (name, data, "image/png")) for name, data in files],
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_a_second_upload_of_the_same_file_is_created_with_a_warning(
    redis_client: redis.Redis,
) -> None:
    client = authed_client("editor")
    first = upload(client, "Ratsprotokoll 1783", ("protokoll.png", SCAN))
    assert first["duplicates"] == []

    second = upload(client, "Zweite Abschrift", ("renamed.png", SCAN), ("other.png", OTHER))
    assert second["id"] != first["id"]  # a historian may want two copies: not refused
    assert second["duplicates"] == [
        {
            "filename": "renamed.png",
            "document_id": first["id"],
            "title": "Ratsprotokoll 1783",
            "message": "renamed.png: already uploaded as Ratsprotokoll 1783",
        }
    ]
    detail = client.get(f"/api/documents/{second['id']}").json()
    assert [d["document_id"] for d in detail["duplicates"]] == [first["id"]]
    assert client.get(f"/api/documents/{first['id']}").json()["duplicates"] == []
    assert (
        upload(client, "Neu", ("other-only.png", OTHER))["duplicates"][0]["document_id"]
        == (second["id"])
    )


def test_the_upload_page_leads_to_a_page_that_says_already_uploaded_as(
    redis_client: redis.Redis,
) -> None:
    client = authed_client("editor")
    first = upload(client, "Ratsprotokoll <1783>", ("protokoll.png", SCAN))
    response = client.post(
        "/documents",
        data={"source_lang": "de", "target_lang": "en", "title": "Noch einmal"},
        files=[("files", ("protokoll.png", SCAN, "image/png"))],
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "protokoll.png: already uploaded as" in response.text
    assert f'<a href="/documents/{first["id"]}">Ratsprotokoll &lt;1783&gt;</a>' in response.text


def test_a_copy_in_a_collection_the_user_may_not_see_is_not_revealed(
    redis_client: redis.Redis, session: Session
) -> None:
    archive = Collection(name="Geheimarchiv")
    session.add(archive)
    session.commit()
    member = authed_client("editor", collections=(archive.id,))
    upload(member, "Geheime Abschrift", ("protokoll.png", SCAN), collection_id=str(archive.id))
    outsider = authed_client("editor")
    assert upload(outsider, "Meine Abschrift", ("protokoll.png", SCAN))["duplicates"] == []
