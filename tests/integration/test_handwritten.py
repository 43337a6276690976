"""A handwritten page end to end through the API and a real worker: uploaded, flagged,
typed region by region through `POST /api/pages/{id}/segments`, translated, shown on the
review desk and exported (TEI valid against tei_all, PAGE and ALTO against theirs)."""

from __future__ import annotations

import io
import subprocess
import zipfile
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.conftest import SHARED_DATA
from tests.fakes.ollama_server import FakeOllama, fake_translation, wait_until
from tests.integration.test_end_to_end import wait_for_document
from tests.support.helpers import authed_client
from tests.support.workerproc import worker_log

pytestmark = pytest.mark.e2e
TEI = {"tei": "http://www.tei-c.org/ns/1.0"}
VERNE = SHARED_DATA / "pages" / "fra-hand-c1869-verne-20000-f13"


def ground_truth() -> list[str]:
    return [line for line in (VERNE / "gt.txt").read_text().splitlines() if line.strip()]


def upload(client: TestClient) -> int:
    response = client.post(
        "/api/documents",
        data={
            "source_lang": "fr",
            "target_lang": "en",
            "backend": "ollama",
            "model": "llama3.2:3b",
            "title": "Vingt mille lieues sous les mers, brouillon",
        },
        files=[("files", ("f13.jpeg", (VERNE / "f13.jpeg").read_bytes(), "image/jpeg"))],
    )
    assert response.status_code == 202, response.text
    return int(response.json()["id"])


def type_regions(client: TestClient, page_id: int) -> list[dict[str, Any]]:
    """Type the page's found regions from the ground truth, line for line, as a script would."""
    found = client.get(f"/api/pages/{page_id}/lines").json()
    assert found["status"] == "ready"
    truth = iter(ground_truth())
    saved = []
    for region in found["regions"]:
        lines = [{"bbox": line["bbox"], "text": next(truth, "")} for line in region["lines"]]
        response = client.post(
            f"/api/pages/{page_id}/segments", json={"bbox": region["bbox"], "lines": lines}
        )
        assert response.status_code == 201, response.text
        saved.append(response.json())
    return saved


def test_a_handwritten_page_is_typed_through_the_api_translated_shown_and_exported(
    worker: subprocess.Popen[bytes],
    worker_ollama: FakeOllama,
    tei_schema: Any,
    page_schema: Any,
    alto_schema: Any,
) -> None:
    client = authed_client()
    document_id = upload(client)
    document = wait_for_document(client, document_id, timeout=180)
    # Flagged: the page needs a person, the header says nothing was translated.
    page = document["pages"][0]
    assert document["status"] == "partial", worker_log()
    assert page["needs_transcription"] and "manual transcription" in page["ocr_note"]
    stages = {j["stage"]: j for j in document["jobs"]}
    assert stages["translate"]["status"] == "skipped"
    desk = client.get(f"/documents/{document_id}").text
    assert "Translated: 0 of 0 segments" in desk and "translated with" not in desk
    assert f"/documents/{document_id}/pages/1/transcribe" in desk
    assert "Retry what failed" not in desk  # the same OCR would give the same result

    saved = type_regions(client, page["id"])
    assert len(saved) >= 2 and all(s["translation_queued"] for s in saved)

    def translated() -> bool:
        rows = client.get(f"/api/documents/{document_id}/segments").json()
        manual = [r for r in rows if r["kind"] == "manual"]
        return len(manual) == len(saved) and all(r["translation"] for r in manual)

    assert wait_until(translated, timeout=120), worker_log()
    rows = list(client.get(f"/api/documents/{document_id}/segments").json())
    for row in rows:
        if row["kind"] == "manual":
            assert row["translation"]["text"] == fake_translation(row["normalized"])
            assert row["translation"]["status"] == "machine"
    after = client.get(f"/api/documents/{document_id}").json()
    assert after["status"] == "done" and after["error"] is None
    assert after["pages"][0]["ocr_status"] == "transcribed"

    # The desk shows the typed text and its translation, and tells what happened.
    desk = client.get(f"/documents/{document_id}?page=1").text
    assert desk.count("kind-manual") == len(saved)
    first = rows[[r["kind"] for r in rows].index("manual")]
    assert fake_translation(first["normalized"]).split()[1] in desk
    assert f"Typed by hand: {len(saved)} segments" in desk
    assert "translated with ollama llama3.2:3b" in desk
    assert "transcribed by hand" in desk

    # TEI with the lines as <lb/>, valid against tei_all; PAGE and ALTO lines valid too.
    tei = client.get(f"/api/documents/{document_id}/export?format=tei")
    assert tei.status_code == 200
    root = etree.fromstring(tei.content)
    assert tei_schema.validate(root), tei_schema.error_log
    body = root.find(".//tei:div[@type='transcription']", TEI)
    assert body is not None
    assert len(body.findall(".//tei:lb", TEI)) >= sum(len(s["lines"]) - 1 for s in saved)
    assert ground_truth()[0].split()[0] in etree.tostring(body, encoding="unicode")
    resp = [e.text for e in root.iterfind(".//tei:titleStmt/tei:respStmt/tei:resp", TEI)]
    assert "Transcription by hand" in resp
    page_zip = client.get(f"/api/documents/{document_id}/export?format=page")
    with zipfile.ZipFile(io.BytesIO(page_zip.content)) as archive:
        name = next(n for n in archive.namelist() if n.startswith("page/"))
        page_xml = etree.fromstring(archive.read(name))
    assert page_schema.validate(page_xml), page_schema.error_log
    ns = {"p": page_xml.nsmap[None]}
    assert len(page_xml.findall(".//p:TextLine", ns)) >= sum(len(s["lines"]) for s in saved)
    alto = etree.fromstring(client.get(f"/api/documents/{document_id}/export?format=alto").content)
    assert alto_schema.validate(alto), alto_schema.error_log
