"""The HTML pages: list, upload form, side-by-side view, progress partial."""

from __future__ import annotations

import re

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.main import create_app
from tests.helpers import encode, make_document, text_image


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return TestClient(create_app())


def test_the_document_page_shows_source_and_translation_side_by_side(
    client: TestClient, session: Session
) -> None:
    document = make_document(
        session, ["Le roi est mort.", "Vive le roi !"], ["The king is dead.", "Long live the king!"]
    )
    html = client.get(f"/documents/{document.id}").text
    rows = re.findall(r'<tr class="segment".*?</tr>', html, re.S)
    assert len(rows) == 2
    assert "Le roi est mort." in rows[0] and "The king is dead." in rows[0]
    assert "Vive le roi !" in rows[1] and "Long live the king!" in rows[1]
    assert f'href="/api/documents/{document.id}/export?format=tei"' in html


def test_ocr_and_model_text_is_escaped(client: TestClient, session: Session) -> None:
    document = make_document(
        session,
        ['</td><script>alert("ocr")</script>'],
        ['<img src=x onerror=alert("model")>'],
        title="<b>Title</b>",
    )
    html = client.get(f"/documents/{document.id}").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "&lt;b&gt;Title&lt;/b&gt;" in client.get("/").text


def test_the_list_shows_every_document_with_its_status(
    client: TestClient, session: Session
) -> None:
    make_document(session, ["a"], title="Registre 1781")
    html = client.get("/").text
    assert "Registre 1781" in html and "status-done" in html


def test_upload_form_posts_and_redirects_to_the_document(client: TestClient) -> None:
    form = client.get("/documents/new").text
    assert 'name="files"' in form and 'value="de-Latf"' in form
    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/documents",
        data={"source_lang": "en", "target_lang": "fr"},
        files=[("files", ("page.png", png, "image/png"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "page" in page.text
    assert 'data-poll-url="' in page.text


def test_upload_form_shows_every_refused_file(client: TestClient) -> None:
    response = client.post(
        "/documents",
        data={"source_lang": "fr", "target_lang": "en"},
        files=[("files", ("blank.png", b"", "image/png"))],
    )
    assert response.status_code == 422
    assert "blank.png: The file is empty." in response.text


def test_progress_partial_reports_each_stage(client: TestClient, session: Session) -> None:
    document = make_document(session, ["a"])
    html = client.get(f"/documents/{document.id}/progress").text
    for stage in ("ingest", "ocr", "translate", "finalize"):
        assert f'<span class="stage-name">{stage}</span>' in html
    assert 'data-final="true"' in html


def test_pages_load_nothing_from_other_origins(client: TestClient, session: Session) -> None:
    document = make_document(session, ["a"])
    for url in ["/", "/documents/new", f"/documents/{document.id}"]:
        html = client.get(url).text
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert external == [], (url, external)
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200
