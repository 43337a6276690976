"""End to end: upload through the API, a real worker process does OCR and translation."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from service.documents.models import PROSE_KINDS
from tests.conftest import SAMPLES
from tests.fakes.ollama_server import FakeOllama, fake_translation, wait_until
from tests.support.helpers import authed_client, encode, text_image
from tests.support.workerproc import worker_log

pytestmark = pytest.mark.e2e
NS = {"tei": "http://www.tei-c.org/ns/1.0"}
FINAL = {"done", "partial", "failed"}


def wait_for_document(client: TestClient, document_id: int, timeout: float) -> dict[str, Any]:
    def finished() -> bool:
        return client.get(f"/api/documents/{document_id}").json()["status"] in FINAL

    if not wait_until(finished, timeout=timeout, interval=0.5):
        pytest.fail(f"document {document_id} did not finish:\n{worker_log()}")
    return dict(client.get(f"/api/documents/{document_id}").json())


PROSE = {k.value for k in PROSE_KINDS}


def test_a_real_scan_is_read_translated_shown_and_exported(
    worker: subprocess.Popen[bytes], worker_ollama: FakeOllama, tei_schema: Any
) -> None:
    client = authed_client()
    scan = (SAMPLES / "fra-18c-borrdisc-p0019.tif").read_bytes()
    bad_pdf = encode(text_image([["x"]]), "PDF")[:300]
    response = client.post(
        "/api/documents",
        data={
            "source_lang": "fr",
            "target_lang": "en",
            "backend": "ollama",
            "model": "llama3.2:3b",
            "title": "Discours",
        },
        files=[
            ("files", ("borrdisc-p19.tif", scan, "image/tiff")),
            ("files", ("empty.png", b"", "image/png")),
            ("files", ("truncated.pdf", bad_pdf, "application/pdf")),
        ],
    )
    assert response.status_code == 202, response.text
    document_id = response.json()["id"]
    assert [r["filename"] for r in response.json()["rejected"]] == ["empty.png"]

    document = wait_for_document(client, document_id, timeout=120)
    assert document["status"] == "partial", worker_log()
    files = {f["filename"]: f for f in document["files"]}
    assert files["borrdisc-p19.tif"]["status"] == "ingested"
    assert "PDF cannot be read" in files["truncated.pdf"]["error"]
    stages = {j["stage"]: j for j in document["jobs"]}
    assert stages["ocr"]["done"] == stages["ocr"]["total"] == 1
    assert stages["translate"]["status"] == "done"
    assert document["pages"][0]["mean_confidence"] > 70

    segments = client.get(f"/api/documents/{document_id}/segments").json()
    assert len(segments) >= 3
    assert any("MESSIEURS" in s["source"] for s in segments)
    prose = [s for s in segments if s["kind"] in PROSE]
    assert len(prose) >= 3
    for segment in prose:  # each translation belongs to its own segment
        assert segment["translation"]["text"] == fake_translation(segment["normalized"])
        assert segment["translation"]["backend"] == "ollama"
    # Page furniture (the page number "15") is kept but not translated.
    assert all(s["translation"] is None for s in segments if s["kind"] not in PROSE)

    image = client.get(document["pages"][0]["image_url"])  # the browser's copy of the TIFF
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    # Antiqua: the page was only made grey for the OCR, so its boxes fit that same copy.
    as_read = client.get(document["pages"][0]["ocr_image_url"])
    assert as_read.status_code == 200 and as_read.content == image.content

    html = client.get(f"/documents/{document_id}").text
    rows = re.findall(r'<article class="segment.*?</article>', html, re.S)
    assert len(rows) == len(segments)
    assert any("EN: " in row for row in rows)

    metrics = client.get("/metrics").text  # recorded by the worker process, read by the web
    assert re.search(
        r'palimpsest_tasks_total\{task="palimpsest.ocr_page",outcome="ok"\} [1-9]', metrics
    )
    ingest_line = rf"palimpsest.ingest_document ok in .* document_id={document_id}\b"
    assert re.search(ingest_line, worker_log()), worker_log()

    tei = client.get(f"/api/documents/{document_id}/export?format=tei").content
    root = etree.fromstring(tei)
    assert tei_schema.validate(root), tei_schema.error_log
    translated = root.findall(".//tei:div[@type='translation']/tei:p", NS)
    prose = [s for s in segments if s["kind"] in ("paragraph", "heading", "footnote", "marginalia")]
    assert len(translated) == len(prose)  # running heads and page numbers are `fw`, untranslated


def test_the_embedded_model_translates_in_the_worker(worker: subprocess.Popen[bytes]) -> None:
    client = authed_client()
    page = encode(
        text_image([["Le roi est arrivé à Paris."], ["La guerre a duré sept ans."]]), "PNG"
    )
    response = client.post(
        "/api/documents",
        data={"source_lang": "fr", "target_lang": "en", "backend": "embedded"},
        files=[("files", ("roi.png", page, "image/png"))],
    )
    document_id = response.json()["id"]
    document = wait_for_document(client, document_id, timeout=180)
    assert document["status"] == "done", worker_log()
    assert document["backend"] == "embedded"
    segments = client.get(f"/api/documents/{document_id}/segments").json()
    assert [s["normalized"] for s in segments] == [
        "Le roi est arrivé à Paris.",
        "La guerre a duré sept ans.",
    ]
    king, war = (s["translation"]["text"].lower() for s in segments)
    assert "king" in king and "paris" in king
    assert "war" in war
    assert segments[0]["translation"]["model"] == "gemma-3-270m-q4_k_m.gguf"
