"""Exports from the API, the document page's download menu and the CLI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from service.documents.models import Collection, Document
from service.exports.service import FORMATS, ExportFormat
from tests.support.helpers import authed_client, make_document
from tests.test_cli import run

TEI = {"tei": "http://www.tei-c.org/ns/1.0"}


@pytest.fixture
def client() -> TestClient:
    return authed_client()


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_every_format_downloads_with_its_name_and_type(
    session: Session, client: TestClient, fmt: ExportFormat
) -> None:
    document = make_document(
        session, ["Un.", "Deux."], ["One.", "Two."], pages=2, title="Discours académique"
    )
    response = client.get(f"/api/documents/{document.id}/export", params={"format": fmt.value})
    assert response.status_code == 200, response.text
    info = FORMATS[fmt]
    assert response.headers["content-type"].split(";")[0] == info.media_type.split(";")[0]
    disposition = response.headers["content-disposition"]
    # Named after the title: in ASCII for old clients, and as it is (RFC 6266 filename*).
    assert disposition == (
        f'attachment; filename="Discours-academique.{info.extension}"; '
        f"filename*=UTF-8''Discours-acad%C3%A9mique.{info.extension}"
    )
    assert b"Deux" in response.content or fmt in (
        ExportFormat.DOCX,
        ExportFormat.PAGE,
        ExportFormat.PDF,
        ExportFormat.IIIF,
    )


def test_options_come_from_the_query_string_like_the_download_form_sends_them(
    session: Session, client: TestClient, tei_schema: Any
) -> None:
    document = make_document(
        session, ["Erſt.", "Zwei.", "Drei."], ["First.", "Two.", "Three."], pages=3
    )
    form = "format=tei&first_page=2&last_page=&source=diplomatic&layout=interleaved"
    form += "&translation=false&annotations=false&annotations=true"
    response = client.get(f"/api/documents/{document.id}/export?{form}")
    assert response.status_code == 200, response.text
    assert 'filename="Test-document-p2-end.tei.xml"' in response.headers["content-disposition"]
    root = etree.fromstring(response.content)
    assert tei_schema.validate(root), tei_schema.error_log
    assert [pb.get("n") for pb in root.iterfind(".//tei:pb", TEI)] == ["2", "3"]
    assert root.find(".//tei:div[@type='translation']", TEI) is None


def test_bad_choices_get_a_clear_error(session: Session, client: TestClient) -> None:
    document = make_document(session, ["Un."], pages=1)
    url = f"/api/documents/{document.id}/export"
    backwards = client.get(url, params={"first_page": "3", "last_page": "2"})
    assert backwards.status_code == 422
    assert backwards.json()["message"] == "last_page (2) is before first_page (3)."
    outside = client.get(url, params={"first_page": "5"})
    assert outside.status_code == 422 and "pages 1–1" in outside.json()["message"]
    assert client.get(url, params={"first_page": "two"}).status_code == 422
    assert client.get("/api/documents/999/export").status_code == 404


def test_document_page_offers_the_download_menu(session: Session, client: TestClient) -> None:
    document = make_document(session, ["Un."], ["One."])
    html = client.get(f"/documents/{document.id}").text
    assert f'action="/api/documents/{document.id}/export"' in html
    for fmt, info in FORMATS.items():
        assert f'<option value="{fmt.value}">{info.label}</option>' in html


def in_collection(session: Session, name: str, *documents: Document) -> int:
    collection = Collection(name=name)
    session.add(collection)
    session.flush()
    for document in documents:
        session.get(Document, document.id).collection_id = collection.id  # type: ignore[union-attr]
    session.commit()
    return collection.id


def test_collection_exports_as_a_zip_and_a_bad_document_fails_alone(
    session: Session, client: TestClient, tei_schema: Any
) -> None:
    long = make_document(session, ["A.", "B.", "C."], ["a.", "b.", "c."], pages=3, title="Long")
    short = make_document(session, ["Un."], ["One."], pages=1, title="Short")
    make_document(session, ["Elsewhere."], title="Not in it")
    collection_id = in_collection(session, "Letters 1750", long, short)
    everything = client.get(f"/api/collections/{collection_id}/export", params={"format": "tei"})
    assert everything.status_code == 200
    assert 'filename="Letters-1750-tei.zip"' in everything.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(everything.content))
    assert archive.namelist() == [f"Long-{long.id}.tei.xml", f"Short-{short.id}.tei.xml"]
    for name in archive.namelist():
        assert tei_schema.validate(etree.fromstring(archive.read(name)))
    ranged = client.get(
        f"/api/collections/{collection_id}/export", params={"format": "txt", "first_page": "2"}
    )
    archive = zipfile.ZipFile(io.BytesIO(ranged.content))
    assert archive.namelist() == [f"Long-p2-end-{long.id}.txt", "ERRORS.txt"]
    assert archive.read("ERRORS.txt").decode().startswith(f"document {short.id}: The document has")
    assert client.get("/api/collections/99/export").status_code == 404


def test_cli_exports_a_page_range_and_a_collection(session: Session, tmp_path: Path) -> None:
    document = make_document(session, ["Un.", "Deux."], ["One.", "Two."], pages=2)
    out = tmp_path / "page2.md"
    result = run("export", str(document.id), "--format", "md", "--pages", "2", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "## Page 2" in text and "Deux." in text and "Page 1" not in text
    collection_id = in_collection(session, "Set", document)
    bundle = tmp_path / "set.zip"
    result = run("export", "--collection", str(collection_id), "--format", "csv", "-o", str(bundle))
    assert result.returncode == 0, result.stderr
    assert zipfile.ZipFile(bundle).namelist() == [f"Test-document-{document.id}.csv"]
    missing = run("export", "404", "--format", "tei", "-o", str(tmp_path / "none.xml"))
    assert missing.returncode == 2 and "Document 404 does not exist." in missing.stderr
    assert not (tmp_path / "none.xml").exists()


def test_doubted_units_leave_a_tmx_by_query_form_and_cli(
    session: Session, client: TestClient, tmp_path: Path, tmx_dtd: Any
) -> None:
    from tests.support.helpers import flag, segment_ids

    document = make_document(session, ["Un.", "Deux."], ["One.", "Two in 1783."])
    flag(session, segment_ids(session, document.id)[1], ("invented_number", "1783 is not in it"))
    html = client.get(f"/documents/{document.id}").text
    assert '<input type="checkbox" name="flagged" value="false">' in html
    url = f"/api/documents/{document.id}/export"
    kept = client.get(url, params={"format": "tmx"}).content
    assert b"Two in 1783." in kept and b"1783 is not in it" in kept
    left_out = client.get(url, params={"format": "tmx", "flagged": "false"}).content
    assert tmx_dtd.validate(etree.fromstring(left_out))
    assert b"One." in left_out and b"Two in 1783." not in left_out
    out = tmp_path / "memory.tmx"
    result = run("export", str(document.id), "--format", "tmx", "--no-flagged", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert b"One." in out.read_bytes() and b"Two in 1783." not in out.read_bytes()
