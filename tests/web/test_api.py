"""The JSON API through HTTP, on the real database and Redis queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.helpers import authed_client, encode, make_document, text_image


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def queued(redis_client: redis.Redis, queue: str = "default") -> list[dict[str, Any]]:
    return [json.loads(m) for m in redis_client.lrange(queue, 0, -1)]


def test_upload_answers_202_and_queues_ingest(
    client: TestClient, redis_client: redis.Redis
) -> None:
    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/api/documents",
        data={"source_lang": "de-latf", "target_lang": "en"},
        files=[("files", ("../../etc/scan 1.png", png, "image/png"))],
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["url"] == f"/documents/{body['id']}"
    assert body["files"][0]["filename"] == "scan 1.png"  # the client's path is dropped
    assert body["files"][0]["sha256"] and len(body["files"][0]["sha256"]) == 64
    messages = queued(redis_client)
    assert [m["headers"]["task"] for m in messages] == ["palimpsest.ingest_document"]
    assert messages[0]["headers"]["argsrepr"] == f"[{body['id']}]"
    detail = client.get(f"/api/documents/{body['id']}").json()
    assert detail["source_lang"] == "de-Latf"
    assert [j["stage"] for j in detail["jobs"]] == ["ingest", "ocr", "translate", "finalize"]


def test_each_bad_file_gets_its_reason_and_the_good_one_is_kept(client: TestClient) -> None:
    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/api/documents",
        data={"source_lang": "fr"},
        files=[
            ("files", ("empty.jpg", b"", "image/jpeg")),
            ("files", ("virus.jpg", b"#!/bin/sh\necho pwned\n", "image/jpeg")),
            ("files", ("good.png", png, "image/png")),
        ],
    )
    assert response.status_code == 202
    rejected = {r["filename"]: r["error"] for r in response.json()["rejected"]}
    assert rejected == {
        "empty.jpg": "The file is empty.",
        "virus.jpg": "Not a supported file type (it looks like text); "
        "upload PNG, JPEG, TIFF or PDF scans.",
    }


def test_an_upload_with_no_usable_file_is_refused(
    client: TestClient, redis_client: redis.Redis
) -> None:
    response = client.post(
        "/api/documents",
        data={"source_lang": "fr"},
        files=[("files", ("empty.png", b"", "image/png"))],
    )
    assert response.status_code == 422
    assert response.json()["rejected"] == [{"filename": "empty.png", "error": "The file is empty."}]
    assert queued(redis_client) == []
    assert client.get("/api/documents").json() == []


def test_an_unknown_language_is_refused_clearly(client: TestClient) -> None:
    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/api/documents",
        data={"source_lang": "tlh"},
        files=[("files", ("a.png", png, "image/png"))],
    )
    assert response.status_code == 422
    assert "Unsupported language 'tlh'" in response.json()["message"]


def test_segments_come_with_their_translations_in_reading_order(
    client: TestClient, session: Session
) -> None:
    document = make_document(
        session, ["Premier paragraphe.", "Second paragraphe."], ["First paragraph.", None], pages=2
    )
    segments = client.get(f"/api/documents/{document.id}/segments").json()
    assert [(s["page"], s["source"]) for s in segments] == [
        (1, "Premier paragraphe."),
        (2, "Second paragraphe."),
    ]
    assert segments[0]["translation"]["text"] == "First paragraph."
    assert segments[0]["translation"]["stale"] is False
    assert segments[1]["translation"] is None
    only_page_2 = client.get(f"/api/documents/{document.id}/segments?page=2").json()
    assert [s["source"] for s in only_page_2] == ["Second paragraphe."]


def test_missing_things_are_404_with_a_message(client: TestClient) -> None:
    response = client.get("/api/documents/999")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Document 999 does not exist."}
    assert client.get("/api/pages/999/image").status_code == 404
    assert client.get("/documents/999").status_code == 404
    assert "Document 999 does not exist." in client.get("/documents/999").text


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in [
        "/api/documents",
        "/api/documents/{document_id}",
        "/api/documents/{document_id}/segments",
        "/api/documents/{document_id}/export",
    ]:
        assert path in paths
    assert client.get("/api/docs").status_code == 200
