"""Hostile imports (issue 21, items 1 and 8): a zip expanding to gigabytes, entries that
cannot be read, images too large to decode in a web request, IIIF manifest URLs and files
of every wrong shape. The request stores what the transcriptions use, streamed, within the
limits, and answers 4xx with a reason to what it can tell is wrong; workers decode and
fetch."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, DocumentStatus
from service.jobs import pipeline
from service.jobs.runner import run_inline
from tests.conftest import SAMPLES
from tests.support.helpers import authed_client, encode
from tests.support.hostile import (
    IIIF_MANIFESTS,
    IIIF_URLS,
    corrupt_entry,
    huge_truncated_png,
    page_xml,
    zeros_entries,
)
from tests.support.servers import IiifServer
from tests.unit.imports.test_iiif import manifest_v2

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


@pytest.fixture
def iiif_host(configure: Callable[..., None]) -> None:
    configure(PALIMPSEST_IIIF_ALLOWED_HOSTS="127.0.0.1:8182, iiif.example.org")


@pytest.mark.parametrize("url", IIIF_URLS)
def test_a_hostile_manifest_url_is_refused_with_a_reason(
    redis_client: redis.Redis, iiif_host: None, url: str
) -> None:
    client = authed_client()
    response = client.post("/api/imports/iiif", data={"manifest_url": url, "source_lang": "fr"})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input" and response.json()["message"]
    assert client.get("/api/documents").json() == []  # nothing was created


@pytest.mark.parametrize("manifest", IIIF_MANIFESTS, ids=range(len(IIIF_MANIFESTS)))
def test_a_hostile_manifest_file_is_refused_with_a_reason(
    redis_client: redis.Redis, iiif_host: None, manifest: bytes
) -> None:
    client = authed_client()
    response = client.post(
        "/api/imports/iiif",
        data={"source_lang": "fr"},
        files=[("manifest", ("m.json", manifest, "application/json"))],
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] in ("unsupported_file", "invalid_input")
    assert response.json()["message"]
    assert client.get("/api/documents").json() == []


WORKER_PROBES: list[tuple[str, str | bytes, str]] = [  # path, what it does, what is said
    ("/404.json", "status", "answered HTTP 404."),
    ("/500.json", "status", "answered HTTP 500."),
    ("/loop.json", "loop", "redirected more than 3 times."),
    ("/away.json", "away", "is not an allowed IIIF host"),
    ("/bad-redirect.json", "bad-redirect", "Invalid URL in location header"),
    ("/slow.json", "slow", "did not answer within 0.5 s."),
    ("/text.json", b"<html>not json</html>", "The manifest is not valid JSON"),
    ("/empty.json", b"", "The manifest is empty."),
    ("/array.json", b"[]", "The manifest is not a JSON object."),
    ("/deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
]


def serve_probe(server: IiifServer, path: str, behaviour: str | bytes) -> None:
    if isinstance(behaviour, bytes):
        server.files[path] = ("application/json", behaviour)
    elif behaviour == "status":
        server.statuses[path] = int(path[1:4])
    elif behaviour == "loop":
        server.redirects[path] = path
    elif behaviour == "away":
        server.redirects[path] = f"http://localhost:{server.port}/m.json"
    elif behaviour == "bad-redirect":
        server.redirects[path] = "http://[::1"
    else:
        server.slow[path] = 3.0
        server.files[path] = ("application/json", b"{}")


def test_a_manifest_that_cannot_be_fetched_fails_the_import_with_its_reason(
    iiif_server: IiifServer,
    session: Session,
    redis_client: redis.Redis,
    configure: Callable[..., None],
) -> None:
    """Fetched by a worker now, so no web request waits 30 s on a slow host."""
    server = iiif_server
    configure(PALIMPSEST_IIIF_TIMEOUT_S="0.5")
    client = authed_client()
    for path, behaviour, reason in WORKER_PROBES:
        serve_probe(server, path, behaviour)
        url = server.base + path
        response = client.post("/api/imports/iiif", data={"manifest_url": url, "source_lang": "fr"})
        assert response.status_code == 202, (path, response.text)
        document_id = response.json()["id"]
        with unit_of_work() as s:
            assert pipeline.fetch_iiif(s, pipeline.default_context(), document_id) == []
        shown = client.get(f"/api/documents/{document_id}").json()
        assert shown["status"] == "failed", path
        assert shown["error"].startswith(f"The manifest {url} cannot be used: "), shown["error"]
        assert reason in shown["error"], (path, shown["error"])
        stages = {j["stage"]: j for j in shown["jobs"]}
        assert (
            stages["ingest"]["status"] == "failed" and stages["ingest"]["error"] == shown["error"]
        )
        assert {stages[s]["status"] for s in ("ocr", "translate", "finalize")} == {"skipped"}


def test_an_image_that_cannot_be_fetched_fails_alone(
    iiif_server: IiifServer, session: Session, redis_client: redis.Redis
) -> None:
    server = iiif_server
    good = server.image("/img/1.png", ["Le conseil s'est assemblé."])
    server.statuses["/img/2.png"] = 404
    url = server.manifest("/m.json", manifest_v2([good, f"{server.base}/img/2.png"]))
    client = authed_client()
    response = client.post(
        "/api/imports/iiif", data={"manifest_url": url, "source_lang": "fr", "translate": "false"}
    )
    run_inline(pipeline.default_context(), pipeline.start_iiif(response.json()["id"]))
    shown = client.get(f"/api/documents/{response.json()['id']}").json()
    assert shown["status"] == "partial"
    assert [(f["filename"], f["status"]) for f in shown["files"]] == [
        ("0001-f. 1.img", "ingested"),
        ("0002-f. 2.img", "failed"),
    ]
    assert shown["files"][1]["error"] == f"'{server.base}/img/2.png' answered HTTP 404."
    assert len(shown["pages"]) == 1
