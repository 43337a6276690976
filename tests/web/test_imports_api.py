"""Imports over the API keep what the user chose, as uploads do (one way to make a document)."""

from __future__ import annotations

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.documents.models import Collection, Document
from tests.conftest import SAMPLES
from tests.support.helpers import authed_client

PAGE_XML, SCAN = "fra-18c-borrdisc-p0019.page.xml", "fra-18c-borrdisc-p0019.tif"


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def transcription_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("files", (PAGE_XML, (SAMPLES / PAGE_XML).read_bytes(), "application/xml")),
        ("files", (SCAN, (SAMPLES / SCAN).read_bytes(), "image/tiff")),
    ]


def test_an_import_keeps_its_collection_period_and_genre(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/api/imports",
        data={
            "source_lang": "fr",
            "collection": "Discours",
            "period": "1780s",
            "genre": "sermon",
        },
        files=transcription_files(),
    )
    assert response.status_code == 202, response.text
    document = session.get(Document, response.json()["id"])
    assert document is not None
    assert (document.period, document.genre) == ("1780s", "sermon")
    collection = session.get(Collection, document.collection_id or 0)
    assert collection is not None and collection.name == "Discours"


def test_an_import_with_an_unknown_backend_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/imports",
        data={"source_lang": "fr", "backend": "gpt-9"},
        files=transcription_files(),
    )
    assert response.status_code == 422
    assert "Unknown backend 'gpt-9'" in response.json()["message"]
    assert client.get("/api/documents").json() == []


def test_a_iiif_import_with_an_unknown_backend_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/imports/iiif",
        data={"source_lang": "fr", "backend": "gpt-9", "manifest_url": "https://x.invalid/m"},
    )
    assert response.status_code == 422
    assert client.get("/api/documents").json() == []
