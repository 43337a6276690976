"""Hostile imports (issue 21, item 1): a zip expanding to gigabytes, entries that cannot be
read, images too large to decode in a web request. The request stores what the
transcriptions use, streamed, within the limits; a worker decodes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import redis
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, DocumentStatus
from service.jobs import pipeline
from tests.conftest import SAMPLES
from tests.helpers import authed_client, encode
from tests.hostile import corrupt_entry, huge_truncated_png, page_xml, zeros_entries

PAGE_XML = SAMPLES / "fra-18c-borrdisc-p0019.page.xml"
SCAN = SAMPLES / "fra-18c-borrdisc-p0019.tif"
PNG_NAME = "OCR-D-IMG_00000019.png"  # the PAGE file names the .tif: paired by its stem


@cache
def hostile_zip() -> bytes:
    """The tester's zip, 1.2 MB: one PAGE file, its PNG, six entries of 200 MiB of zeros;
    and an entry nothing uses whose data is damaged (reading it raises "Bad CRC-32")."""
    with Image.open(SCAN) as scan:
        png = encode(scan.convert("L"), "PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/page/0019.xml", PAGE_XML.read_bytes())
        archive.writestr(f"export/{PNG_NAME}", png)
        zeros_entries(archive, 6, 200 << 20)
        archive.writestr("export/thumbs/unused.png", b"thumbnail " * 50, zipfile.ZIP_STORED)
    return corrupt_entry(buffer.getvalue(), b"thumbnail " * 50)


def stored_blobs(root: Path) -> list[int]:
    return sorted(p.stat().st_size for p in root.rglob("*") if p.is_file())


def post_import(client: TestClient, *files: tuple[str, bytes]) -> dict[str, Any]:
    response = client.post(
        "/api/imports",
        data={"source_lang": "fr", "target_lang": "en", "translate": "false"},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def ingest(document_id: int) -> None:
    with unit_of_work() as session:
        pipeline.ingest_document(session, pipeline.default_context(), document_id)


def test_an_import_zip_is_not_expanded_beyond_what_its_transcription_uses(
    session: Session, redis_client: redis.Redis, configure: Callable[..., None], tmp_path: Path
) -> None:
    configure(PALIMPSEST_DATA_DIR=str(tmp_path))
    data = hostile_zip()
    assert len(data) < 3_000_000  # 1.2 MB and the sample's PNG
    body = post_import(authed_client(), ("export.zip", data))
    assert body["rejected"] == []
    assert [(f["filename"], f["status"]) for f in body["files"]] == [(PNG_NAME, "accepted")]
    png_size = body["files"][0]["size"]
    # Stored: the PNG and its transcription, nothing of the 1.2 GiB of zeros.
    assert stored_blobs(tmp_path / "storage") == sorted([png_size, PAGE_XML.stat().st_size])
    ingest(body["id"])
    document = session.get(Document, body["id"])
    assert document is not None and len(document.pages) == 1
    assert document.pages[0].width == 1331


def test_what_an_import_zip_may_expand_to_is_bounded_with_reasons(
    session: Session, redis_client: redis.Redis, configure: Callable[..., None]
) -> None:
    # Three pages whose uncompressed TIFFs (1 MB each) deflate to a few KB.
    configure(PALIMPSEST_MAX_REQUEST_BYTES=str(1536 * 1024), PALIMPSEST_MAX_ZIP_ENTRIES="5")
    tiff = encode(Image.new("L", (1000, 1000), 255), "TIFF")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in (1, 2, 3):
            archive.writestr(f"p{n}.xml", page_xml(f"p{n}.tif", f"Page {n}"))
            archive.writestr(f"p{n}.tif", tiff)
    body = post_import(authed_client(), ("pages.zip", buffer.getvalue()))
    assert body["rejected"] == [
        {"filename": "p3.xml", "error": "pages.zip has more than 5 files."},
        {
            "filename": "p2.xml",
            "error": "its page image p2.tif would take the upload past its 1.5 MB limit.",
        },
    ]
    assert [f["filename"] for f in body["files"] if f["status"] == "accepted"] == ["p1.tif"]


def test_an_imported_image_is_decoded_by_a_worker_never_by_the_web_request(
    session: Session, redis_client: redis.Redis
) -> None:
    """A 13000 x 13000 page grew the web process by 640 MB when the request decoded it."""
    client = authed_client()
    body = post_import(
        client, ("huge.xml", page_xml("huge.png", "Seite", 13000, 13000)),
        ("huge.png", huge_truncated_png()),
    )  # fmt: skip
    # The request stored it without decoding: it cannot know yet that the data is cut short.
    assert [(f["filename"], f["status"]) for f in body["files"]] == [("huge.png", "accepted")]
    assert client.get(f"/api/documents/{body['id']}").json()["pages"] == []
    ingest(body["id"])
    document = session.get(Document, body["id"])
    assert document is not None and document.pages == []
    assert document.files[0].error is not None
    assert document.files[0].error.startswith(
        "The image cannot be decoded (corrupt or truncated file)"
    )
    with unit_of_work() as s:
        pipeline.finalize_document(s, pipeline.default_context(), body["id"])
    session.expire_all()
    finished = session.get(Document, body["id"])
    assert finished is not None and finished.status is DocumentStatus.FAILED
