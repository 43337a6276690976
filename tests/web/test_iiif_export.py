"""The IIIF export: the zip's manifest and annotation pages read back with iiif-prezi3, the
live manifest behind the login, hostile text kept as plain text, and the CLI's base URL."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from iiif_prezi3 import AnnotationPage, Manifest
from lxml import etree
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from service.documents.models import Document
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.review.models import AnnotationLayer, AnnotationType
from service.storage import get_storage
from service.translation.models import TranslationStatus
from tests.support.helpers import FONT, annotate, authed_client, make_document, segment_ids
from tests.support.hostile import PAYLOADS, make_hostile_document
from tests.support.servers import static_server
from tests.test_cli import run

BASE = "https://archive.example.org/iiif/brief/"
TEI = {"tei": "http://www.tei-c.org/ns/1.0"}


def scan(width: int = 1000, height: int = 1500, text: str = "") -> str:
    """A stored page image of the size the test documents' pages have; its digest."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 900, 40), outline="black")
    if text:
        draw.text((150, 200), text, font=ImageFont.truetype(str(FONT), 42), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return get_storage().put_bytes(buffer.getvalue())


def letter(session: Session) -> Document:
    """Two pages, three segments, translated; one approved, a person and a note tagged."""
    document = make_document(
        session,
        ["Cher Voltaire,\nje vous écris", "de Ferney.", "Adieu."],
        ["Dear Voltaire,\nI write to you", "from Ferney.", None],
        pages=2,
        title="Lettre à Voltaire",
        statuses=[TranslationStatus.APPROVED, TranslationStatus.MACHINE, TranslationStatus.MACHINE],
        image_sha256=scan(),
    )
    first, _, ferney = segment_ids(session, document.id)  # page order: page 2 holds the second
    annotate(session, first, 5, 13, AnnotationType.PERSON, "François-Marie Arouet")
    annotate(session, ferney, 3, 9, AnnotationType.NOTE, "Ferney, near Geneva")
    annotate(session, first, 0, 4, AnnotationType.TERM, layer=AnnotationLayer.TRANSLATION)
    return document


def unzip(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def read_json(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(archive.read(name))
    return data


@pytest.fixture
def client() -> TestClient:
    return authed_client()


def test_the_zip_manifest_parses_with_iiif_prezi3_one_canvas_per_page_at_the_image_size(
    session: Session, client: TestClient, tei_schema: Any
) -> None:
    document = letter(session)
    response = client.get(
        f"/api/documents/{document.id}/export", params={"format": "iiif", "base_url": BASE}
    )
    assert response.status_code == 200, response.text
    assert 'filename="Lettre-a-Voltaire.iiif.zip"' in response.headers["content-disposition"]
    archive = unzip(response.content)
    assert sorted(archive.namelist()) == [
        "annotations/page-0001.json",
        "annotations/page-0002.json",
        "images/page-0001.png",
        "images/page-0002.png",
        "manifest.json",
        "transcription.tei.xml",
    ]
    data = read_json(archive, "manifest.json")
    manifest = Manifest(**data)  # iiif-prezi3 validates it against Presentation 3
    assert data["@context"] == "http://iiif.io/api/presentation/3/context.json"
    assert data["id"] == f"{BASE}manifest.json"
    assert data["label"] == {"none": ["Lettre à Voltaire"]}
    assert len(manifest.items) == 2
    for number, canvas in enumerate(data["items"], start=1):
        with Image.open(io.BytesIO(archive.read(f"images/page-{number:04d}.png"))) as image:
            assert (canvas["width"], canvas["height"]) == image.size == (1000, 1500)
        painting = canvas["items"][0]["items"][0]
        assert painting["motivation"] == "painting" and painting["target"] == canvas["id"]
        assert painting["body"]["id"] == f"{BASE}images/page-{number:04d}.png"
        assert painting["body"]["format"] == "image/png"
        assert canvas["annotations"] == [
            {"id": f"{BASE}annotations/page-{number:04d}.json", "type": "AnnotationPage"}
        ]
    facts = {m["label"]["en"][0]: m["value"]["none"][0] for m in data["metadata"]}
    assert facts["Source language"] == "French (fr)"
    assert facts["Translation language"] == "English (en)"
    assert facts["Translation models"] == "llama3.2:3b (ollama)"
    assert facts["Approval"].startswith("1 segment translation(s) approved")
    assert data["rendering"][0]["id"] == f"{BASE}transcription.tei.xml"
    assert data["rendering"][0]["format"] == "application/tei+xml"
    assert tei_schema.validate(etree.fromstring(archive.read("transcription.tei.xml")))


def test_every_segment_has_its_transcription_and_translation_on_its_box(
    session: Session, client: TestClient
) -> None:
    document = letter(session)
    response = client.get(
        f"/api/documents/{document.id}/export", params={"format": "iiif", "base_url": BASE}
    )
    archive = unzip(response.content)
    first_page = read_json(archive, "annotations/page-0001.json")
    AnnotationPage(**first_page)  # parses with iiif-prezi3
    supplementing = [a for a in first_page["items"] if a["motivation"] == "supplementing"]
    # Page 1 holds segments 1 and 3 (make_document spreads them over the pages).
    assert [(a["body"]["value"], a["body"]["language"]) for a in supplementing] == [
        ("Cher Voltaire,\nje vous écris", "fr"),
        ("Dear Voltaire,\nI write to you", "en"),
        ("Adieu.", "fr"),  # not translated: the transcription alone
    ]
    assert {a["body"]["format"] for a in supplementing} == {"text/plain"}
    assert [a["target"] for a in supplementing] == [
        f"{BASE}canvas/1#xywh=10,10,890,40",
        f"{BASE}canvas/1#xywh=10,10,890,40",
        f"{BASE}canvas/1#xywh=10,110,890,40",
    ]
    second_page = read_json(archive, "annotations/page-0002.json")
    texts = [a["body"]["value"] for a in second_page["items"] if a["motivation"] == "supplementing"]
    assert texts == ["de Ferney.", "from Ferney."]


def test_reviewers_annotations_tag_or_comment_on_their_words(
    session: Session, client: TestClient
) -> None:
    document = letter(session)
    archive = unzip(
        client.get(
            f"/api/documents/{document.id}/export", params={"format": "iiif", "base_url": BASE}
        ).content
    )
    tags = {
        a["body"][0]["value"]: a
        for a in read_json(archive, "annotations/page-0001.json")["items"]
        if a["motivation"] == "tagging"
    }
    person, term = tags["person"], tags["term"]
    # "Voltaire," is the second word of the first line: 20 px a character from x=110
    # (tests/helpers._line boxes words left to right).
    assert person["target"] == f"{BASE}canvas/1#xywh=110,10,180,18"
    assert person["body"] == [
        {"type": "TextualBody", "value": "person", "format": "text/plain", "purpose": "tagging"},
        {
            "type": "TextualBody",
            "value": "François-Marie Arouet",
            "format": "text/plain",
            "purpose": "commenting",
        },
    ]
    # A tag on the translation has no word boxes: it sits on the segment's box.
    assert term["target"] == f"{BASE}canvas/1#xywh=10,10,890,40"
    assert term["body"][0]["value"] == "term"
    (note,) = [
        a
        for a in read_json(archive, "annotations/page-0002.json")["items"]
        if a["motivation"] == "commenting"
    ]
    assert note["body"]["value"] == "Ferney, near Geneva"
    assert note["target"] == f"{BASE}canvas/2#xywh=70,60,140,18"  # "Ferney." of "de Ferney."


def test_links_are_relative_without_a_base_url(session: Session, client: TestClient) -> None:
    document = letter(session)
    response = client.get(f"/api/documents/{document.id}/export", params={"format": "iiif"})
    archive = unzip(response.content)
    manifest = read_json(archive, "manifest.json")
    assert manifest["id"] == "manifest.json"
    canvas = manifest["items"][0]
    assert canvas["id"] == "canvas/1"
    assert canvas["items"][0]["items"][0]["body"]["id"] == "images/page-0001.png"
    assert canvas["annotations"][0]["id"] == "annotations/page-0001.json"
    assert manifest["rendering"][0]["id"] == "transcription.tei.xml"
    annotations = read_json(archive, "annotations/page-0001.json")
    assert annotations["items"][0]["target"] == "canvas/1#xywh=10,10,890,40"
    for name in archive.namelist():
        assert b"palimpsest.invalid" not in archive.read(name), name


def test_hostile_text_stays_plain_text_in_the_json(session: Session, client: TestClient) -> None:
    hostile = make_hostile_document(session)
    response = client.get(
        f"/api/documents/{hostile.document_id}/export", params={"format": "iiif", "base_url": BASE}
    )
    assert response.status_code == 200, response.text
    archive = unzip(response.content)
    manifest = read_json(archive, "manifest.json")
    Manifest(**manifest)
    assert manifest["label"] == {"none": [f"{PAYLOADS[0]} {PAYLOADS[6]} Protokoll"]}
    values: list[str] = []
    for number in (1, 2):
        page = read_json(archive, f"annotations/page-{number:04d}.json")
        AnnotationPage(**page)
        for annotation in page["items"]:
            bodies = annotation["body"]
            for body in bodies if isinstance(bodies, list) else [bodies]:
                assert body["type"] == "TextualBody" and body["format"] == "text/plain"
                values.append(body["value"])
    # Every payload is there as it was written: not escaped, not turned into markup.
    for payload in PAYLOADS:
        assert f"Hexenprozess {payload} Ende" in values
    assert PAYLOADS[-1] in values  # an annotation body


def test_the_live_manifest_needs_a_login_and_serves_annotation_pages_and_images(
    session: Session, client: TestClient, redis_client: object
) -> None:
    document = letter(session)
    url = f"/api/documents/{document.id}/iiif/manifest.json"
    anonymous = TestClient(client.app)
    for path in (url, f"/api/documents/{document.id}/iiif/annotations/1.json"):
        assert anonymous.get(path, follow_redirects=False).status_code == 401
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    data = response.json()
    Manifest(**data)
    site = "http://testserver/"
    assert data["id"] == f"{site}api/documents/{document.id}/iiif/manifest.json"
    assert data["rendering"][0]["id"] == f"{site}api/documents/{document.id}/export?format=tei"
    assert [(c["width"], c["height"]) for c in data["items"]] == [(1000, 1500), (1000, 1500)]
    canvas = data["items"][0]
    image = client.get(canvas["items"][0]["items"][0]["body"]["id"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert anonymous.get(canvas["items"][0]["items"][0]["body"]["id"]).status_code == 401
    page_url = canvas["annotations"][0]["id"]
    assert page_url == f"{site}api/documents/{document.id}/iiif/annotations/1.json"
    page = client.get(page_url).json()
    AnnotationPage(**page)
    assert page["id"] == page_url
    values = [a["body"]["value"] for a in page["items"] if a["motivation"] == "supplementing"]
    assert values == ["Cher Voltaire,\nje vous écris", "Dear Voltaire,\nI write to you", "Adieu."]
    assert page["items"][0]["target"] == f"{canvas['id']}#xywh=10,10,890,40"
    missing = client.get(f"/api/documents/{document.id}/iiif/annotations/3.json")
    assert missing.status_code == 404 and "no page 3" in missing.json()["message"]
    assert client.get("/api/documents/999/iiif/manifest.json").status_code == 404


def test_the_exported_zip_imports_back_through_the_iiif_import_with_the_same_pages(
    session: Session, client: TestClient, tmp_path: Path, configure: Any, redis_client: object
) -> None:
    document = letter(session)
    pages = sorted(document.pages, key=lambda p: p.number)
    pages[1].image_sha256 = scan(text="Ferney, le 3 mai")  # each page its own scan
    session.commit()
    exported = client.get(f"/api/documents/{document.id}/export", params={"format": "iiif"})
    unzip(exported.content).extractall(tmp_path / "site")
    with static_server(tmp_path / "site") as site:
        configure(PALIMPSEST_IIIF_ALLOWED_HOSTS=f"127.0.0.1:{site.port}")
        started = client.post(
            "/api/imports/iiif",
            data={
                "manifest_url": f"{site.base}/manifest.json",
                "source_lang": "fr",
                "translate": "false",
            },
        )
        assert started.status_code == 202, started.text
        imported_id = started.json()["id"]
        run_inline(pipeline.default_context(), pipeline.start_iiif(imported_id))
        assert site.requests[:3] == [
            "/manifest.json",
            "/images/page-0001.png",
            "/images/page-0002.png",
        ]
    session.expire_all()
    imported = session.get(Document, imported_id)
    assert imported is not None and imported.title == "Lettre à Voltaire"
    assert [f.status.value for f in imported.files] == ["ingested", "ingested"]
    again = sorted(imported.pages, key=lambda p: p.number)
    assert len(again) == len(pages) == 2
    for before, after in zip(pages, again, strict=True):
        assert after.number == before.number
        assert (after.width, after.height) == (before.width, before.height) == (1000, 1500)
        assert after.image_sha256 == before.image_sha256  # the very same scan, in order
    read = " ".join(s.text for s in again[1].segments)
    assert "Ferney" in read  # the OCR read the second page's own scan


def test_a_bad_base_url_gets_a_clear_error_from_the_api_and_the_cli(
    session: Session, client: TestClient, tmp_path: Path
) -> None:
    document = letter(session)
    url = f"/api/documents/{document.id}/export"
    bad_urls = ("ftp://example.org/", "example.org/iiif", "https://exa mple.org/", "http://[::1")
    for bad in (*bad_urls, "http://a<b/", "https://example.org:0/", "https://x.org/?q=1"):
        response = client.get(url, params={"format": "iiif", "base_url": bad})
        assert response.status_code == 422, bad
        assert "base_url must be an http(s) URL" in response.json()["message"]
    out = tmp_path / "brief.zip"
    result = run("export", str(document.id), "--format", "iiif", "--base-url", BASE, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert read_json(zipfile.ZipFile(out), "manifest.json")["id"] == f"{BASE}manifest.json"
    wrong = run(
        "export", str(document.id), "--format", "iiif", "--base-url", "nope", "-o", str(out)
    )
    assert wrong.returncode == 2 and "base_url must be an http(s) URL" in wrong.stderr


def test_the_document_page_links_the_live_manifest(session: Session, client: TestClient) -> None:
    document = letter(session)
    html = client.get(f"/documents/{document.id}").text
    assert '<option value="iiif">IIIF Presentation 3 (zip)</option>' in html
    assert f'href="/api/documents/{document.id}/iiif/manifest.json"' in html
