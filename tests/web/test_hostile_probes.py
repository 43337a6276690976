"""The probes of the second hostile pass (issue 21), sent to the app: every one of them once
answered 500 or told a user something they may not know. Each now gets a 4xx with a reason,
and the rest of the app is untouched."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.helpers import authed_client, make_document
from tests.support.hostile import BAD_PAGE_NUMBERS, LONE_SURROGATES


@pytest.fixture
def editor(redis_client: redis.Redis) -> TestClient:
    return authed_client("editor")


@pytest.mark.parametrize("value", BAD_PAGE_NUMBERS)
def test_an_export_page_number_that_is_not_one_is_refused_with_a_reason(
    session: Session, editor: TestClient, value: str
) -> None:
    document = make_document(session, ["Un.", "Deux."], ["One.", "Two."], pages=2)
    for name in ("first_page", "last_page"):
        response = editor.get(
            f"/api/documents/{document.id}/export", params={"format": "txt", name: value}
        )
        assert response.status_code == 422, (name, value, response.text)
        assert response.json()["error"] == "invalid_input"
        assert name in response.json()["message"]
    fine = editor.get(
        f"/api/documents/{document.id}/export", params={"format": "txt", "first_page": " 2 "}
    )
    assert fine.status_code == 200 and "Deux" in fine.text and "Un." not in fine.text


@pytest.mark.parametrize("text", LONE_SURROGATES)
def test_a_lone_surrogate_in_a_json_body_is_a_422_not_a_crash(
    session: Session, editor: TestClient, text: str
) -> None:
    document = make_document(session, ["Un."], ["One."])
    segment = editor.get(f"/api/documents/{document.id}/segments").json()[0]["id"]
    body = f'{{"text": "{text}", "version": 1}}'
    headers = {"content-type": "application/json"}
    for url in (f"/api/segments/{segment}/source", f"/api/segments/{segment}/translation"):
        response = editor.patch(url, content=body.encode(), headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"] == "invalid_input"
        assert "text" in response.json()["message"]
    token = editor.post("/api/tokens", content=f'{{"name": "{text}"}}'.encode(), headers=headers)
    assert token.status_code == 422
    after = editor.get(f"/api/documents/{document.id}/segments").json()[0]
    assert (after["source"], after["translation"]["text"]) == ("Un.", "One.")  # nothing changed


@pytest.fixture
def archive(session: Session) -> int:
    """A collection "Stadtarchiv" holding one document, with a finished translation run."""
    from service.documents.models import Collection
    from service.translation.models import RunKind, RunPurpose, RunStatus, TranslationRun

    collection = Collection(name="Stadtarchiv")
    session.add(collection)
    session.flush()
    secret = make_document(session, ["Geheim."], ["Secret."], title="Protokoll")
    secret.collection_id = collection.id
    session.add(
        TranslationRun(
            document_id=secret.id,
            kind=RunKind.TRANSLATE,
            purpose=RunPurpose.RETRANSLATE,
            status=RunStatus.FAILED,
            model="secret-model",
            error="the model failed on 'Geheim.'",
        )
    )
    session.commit()
    return collection.id


def test_a_translation_run_of_a_document_one_may_not_see_does_not_exist(
    session: Session, archive: int, redis_client: redis.Redis
) -> None:
    from sqlalchemy import select

    from service.translation.models import TranslationRun

    run_id = session.scalars(select(TranslationRun.id)).one()
    outsider = authed_client("editor")
    hidden = outsider.get(f"/api/translation-runs/{run_id}")
    assert hidden.status_code == 404
    assert hidden.json() == {
        "error": "not_found",
        "message": f"Translation run {run_id} does not exist.",
    }
    member = authed_client("viewer", collections=(archive,))
    assert member.get(f"/api/translation-runs/{run_id}").json()["model"] == "secret-model"


def upload_png(client: TestClient, **fields: str) -> dict[str, object]:
    from tests.support.helpers import encode, text_image

    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/api/documents",
        data={"source_lang": "en", "target_lang": "fr", **fields},
        files=[("files", ("p.png", png, "image/png"))],
    )
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def test_collection_names_are_told_only_to_members_and_administrators(
    session: Session, archive: int, redis_client: redis.Redis
) -> None:
    outsider = authed_client("editor")
    member = authed_client("editor", collections=(archive,))
    admin = authed_client("admin")
    assert "Stadtarchiv" not in outsider.get("/documents/new").text  # the form's datalist
    assert 'value="Stadtarchiv"' in member.get("/documents/new").text
    assert 'value="Stadtarchiv"' in admin.get("/documents/new").text

    for client in (member, admin):
        taken = client.post("/api/collections", json={"name": "Stadtarchiv"})
        assert taken.status_code == 422 and "exists already" in taken.json()["message"]
    # To anyone else the name is free: they get a collection of their own by that name.
    own = outsider.post("/api/collections", json={"name": "Stadtarchiv"})
    assert own.status_code == 201 and own.json()["id"] != archive
    document = upload_png(outsider, collection="Stadtarchiv")
    mine = outsider.get(f"/api/documents/{document['id']}").json()
    assert mine["collection_id"] == own.json()["id"]
    assert member.get(f"/api/documents/{document['id']}").status_code == 404
    third = authed_client("editor")
    uploaded = upload_png(third, collection="Stadtarchiv")  # no "not a member of …"
    assert third.get(f"/api/documents/{uploaded['id']}").json()["collection_id"] not in (
        archive,
        own.json()["id"],
    )
    ambiguous = admin.post(
        "/api/documents",
        data={"source_lang": "en", "target_lang": "fr", "collection": "Stadtarchiv"},
        files=[("files", ("p.png", b"\x89PNG\r\n\x1a\n", "image/png"))],
    )
    assert ambiguous.status_code == 422 and "collection_id" in ambiguous.json()["message"]


def test_only_the_uploader_or_an_administrator_moves_a_document(
    session: Session, redis_client: redis.Redis
) -> None:
    uploader, other = authed_client("editor"), authed_client("editor")
    document = upload_png(uploader)
    url = f"/api/documents/{document['id']}/collection"
    hideout = other.post("/api/collections", json={"name": "Hideout"}).json()["id"]
    refused = other.put(url, json={"collection_id": hideout})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "forbidden",
        "message": "Only the uploader of a document or an administrator may move it.",
    }
    assert uploader.get(f"/api/documents/{document['id']}").status_code == 200  # still theirs
    shelf = uploader.post("/api/collections", json={"name": "Shelf"}).json()["id"]
    assert uploader.put(url, json={"collection_id": shelf}).status_code == 200
    assert authed_client("admin").put(url, json={"collection_id": None}).status_code == 200
    unowned = make_document(session, ["Un."], None)  # made by a script: no uploader
    unowned_url = f"/api/documents/{unowned.id}/collection"
    assert uploader.put(unowned_url, json={"collection_id": shelf}).status_code == 403
    assert authed_client("admin").put(unowned_url, json={"collection_id": shelf}).status_code == 200
