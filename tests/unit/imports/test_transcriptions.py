"""PAGE and ALTO transcriptions made elsewhere, imported with their scans as the text layer."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, DocumentStatus, OcrStatus, Page, Segment
from service.documents.service import NewDocument, Upload
from service.errors import NoUsableFile
from service.exports.service import ExportFormat, export
from service.imports import service as imports
from service.jobs import pipeline
from service.jobs import service as jobs
from service.jobs.context import Context
from service.jobs.models import JobStage, JobStatus
from service.jobs.runner import run_inline
from service.translation.models import Translation
from tests.conftest import SAMPLES
from tests.fakes.ollama_server import FakeOllama, fake_translation

PAGE = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
BORRDISC = ("fra-18c-borrdisc-p0019.page.xml", "fra-18c-borrdisc-p0019.tif")
ANEKDOTEN = ("deu-fraktur-1771-anekdoten-p0084.page.xml", "deu-fraktur-1771-anekdoten-p0084.tif")


def upload(*names: str, renamed: dict[str, str] | None = None) -> list[Upload]:
    renamed = renamed or {}
    return [Upload(renamed.get(n, n), io.BytesIO((SAMPLES / n).read_bytes())) for n in names]


def import_files(
    uploads: list[Upload], lang: str = "fr", translate: bool = True, ingest: bool = True
) -> int:
    """Create the import as the web request does, then run its ingest step (a worker's)."""
    from service.documents.router import zip_limits
    from service.jobs.pipeline import default_context

    ctx = default_context()
    spec = NewDocument(source_lang=lang, backend="ollama", model="llama3.2:3b", translate=translate)
    with unit_of_work() as session:
        document_id = imports.create(
            session, ctx.storage, spec, uploads, zip_limits(ctx.settings)
        ).id
    if ingest:
        with unit_of_work() as session:
            pipeline.ingest_document(session, ctx, document_id)
    return document_id


def original_lines(path: Path) -> list[tuple[str, str]]:
    """(text, coordinates) of every text line in reading order, as the PAGE file has them."""
    root = etree.parse(str(path)).getroot()
    order = [r.get("regionRef") for r in root.iterfind(".//pc:RegionRefIndexed", PAGE)]
    regions = {r.get("id"): r for r in root.iterfind(".//pc:TextRegion", PAGE)}
    ids = [i for i in order if i in regions] + [i for i in regions if i not in order]
    return [
        (
            line.findtext("pc:TextEquiv/pc:Unicode", namespaces=PAGE) or "",
            line.find("pc:Coords", PAGE).get("points") or "",  # type: ignore[union-attr]
        )
        for i in ids
        for line in regions[i].findall("pc:TextLine", PAGE)
    ]


# The importer's OCR engine must never run: imported text replaces OCR.
def no_ocr() -> Any:
    raise AssertionError("OCR ran on an imported page")


def test_page_import_then_page_export_keeps_text_and_coordinates(
    session: Session, page_schema: Any
) -> None:
    document_id = import_files(
        upload(*BORRDISC, renamed={BORRDISC[1]: "OCR-D-IMG_00000019.tif"}), translate=False
    )
    page = session.scalars(select(Page).where(Page.document_id == document_id)).one()
    assert (page.width, page.height, page.ocr_status) == (1331, 2113, OcrStatus.DONE)
    assert page.ocr_engine == "import PAGE (doculibtopagexml)"
    with Image.open(SAMPLES / BORRDISC[1]) as scan:
        assert (page.width, page.height) == scan.size

    archive = zipfile.ZipFile(io.BytesIO(export(session, document_id, ExportFormat.PAGE).content))
    exported = archive.read("page/0001.xml")
    root = etree.fromstring(exported)
    assert page_schema.validate(root), page_schema.error_log
    assert root.find("pc:Page", PAGE).get("imageFilename") == "page-0001.jpg"  # type: ignore[union-attr]
    lines = [
        (
            line.findtext("pc:TextEquiv[@index='1']/pc:Unicode", namespaces=PAGE) or "",
            line.find("pc:Coords", PAGE).get("points") or "",  # type: ignore[union-attr]
        )
        for line in root.iterfind(".//pc:TextLine", PAGE)
    ]
    original = original_lines(SAMPLES / BORRDISC[0])
    assert len(lines) == len(original) > 20
    assert lines == original
    assert "MESSIEURS" in lines[0][0] + lines[1][0]


def test_imported_page_skips_ocr_and_goes_to_translation(
    ollama: FakeOllama, session: Session
) -> None:
    document_id = import_files(upload(*BORRDISC), ingest=False)
    ctx = Context(
        settings=pipeline.default_context().settings,
        storage=pipeline.default_context().storage,
        make_engine=no_ocr,
    )
    run_inline(ctx, pipeline.start(document_id))

    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.DONE
    stages = {j.stage: j for j in jobs.for_document(session, document_id)}
    assert all(j.status is JobStatus.DONE for j in stages.values())
    assert "OCR skipped" in (stages[JobStage.OCR].detail or "")
    segments = session.scalars(select(Segment).where(Segment.document_id == document_id)).all()
    by_segment = {
        t.segment_id: t
        for t in session.scalars(select(Translation).where(Translation.document_id == document_id))
    }
    prose = [s for s in segments if s.kind.value in ("paragraph", "heading")]
    assert prose and all(by_segment[s.id].text == fake_translation(s.normalized) for s in prose)


def test_fraktur_page_keeps_long_s_diplomatic_and_normalises_it(session: Session) -> None:
    document_id = import_files(upload(*ANEKDOTEN), lang="de-Latf", translate=False)
    segments = session.scalars(select(Segment).where(Segment.document_id == document_id)).all()
    text = "\n".join(s.text for s in segments)
    normalized = " ".join(s.normalized for s in segments)
    assert "ſ" in text and "ſ" not in normalized
    gt = (SAMPLES / "deu-fraktur-1771-anekdoten-p0084.gt.txt").read_text().split()
    assert text.split() == gt


ESCRIPTORIUM_ALTO = """<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><MeasurementUnit>pixel</MeasurementUnit>
    <sourceImageInformation><fileName>OCR-D-IMG_00000084.tif</fileName></sourceImageInformation>
  </Description>
  <Tags>
    <OtherTag ID="BT1" LABEL="MainZone" DESCRIPTION="block type MainZone"/>
    <OtherTag ID="BT2" LABEL="NumberingZone" DESCRIPTION="block type NumberingZone"/>
    <OtherTag ID="LT1" LABEL="DefaultLine" DESCRIPTION="line type DefaultLine"/>
  </Tags>
  <Layout>
    <Page WIDTH="1275" HEIGHT="2033" PHYSICAL_IMG_NR="84" ID="eSc_dummypage_">
      <PrintSpace HPOS="0" VPOS="0" WIDTH="1275" HEIGHT="2033">
        <TextBlock ID="eSc_textblock_a" TAGREFS="BT2"
                   HPOS="580" VPOS="120" WIDTH="90" HEIGHT="50">
          <TextLine ID="eSc_line_1" TAGREFS="LT1" BASELINE="585 160 660 160"
                    HPOS="585" VPOS="122" WIDTH="75" HEIGHT="45">
            <Shape><Polygon POINTS="585 122 660 122 660 167 585 167"/></Shape>
            <String CONTENT="84" HPOS="585" VPOS="122" WIDTH="75" HEIGHT="45" WC="0.97"/>
          </TextLine>
        </TextBlock>
        <TextBlock ID="eSc_textblock_b" TAGREFS="BT1"
                   HPOS="150" VPOS="200" WIDTH="1000" HEIGHT="140">
          <TextLine ID="eSc_line_2" TAGREFS="LT1" BASELINE="150 250 1100 252"
                    HPOS="150" VPOS="200" WIDTH="950" HEIGHT="60">
            <Shape><Polygon POINTS="150 200 1100 200 1100 260 150 260"/></Shape>
            <String CONTENT="Ein" HPOS="150" VPOS="205" WIDTH="80" HEIGHT="50" WC="0.91"/>
            <SP/>
            <String CONTENT="gewiſſer" HPOS="250" VPOS="205" WIDTH="200" HEIGHT="50" WC="0.42"/>
            <SP/>
            <String CONTENT="Edel" HPOS="470" VPOS="205" WIDTH="120" HEIGHT="50" WC="0.88"/>
            <HYP CONTENT="-"/>
          </TextLine>
          <TextLine ID="eSc_line_3" TAGREFS="LT1" BASELINE="150 320 900 322"
                    HPOS="150" VPOS="270" WIDTH="750" HEIGHT="60">
            <String CONTENT="mann" HPOS="150" VPOS="275" WIDTH="120" HEIGHT="50" WC="0.93"/>
          </TextLine>
        </TextBlock>
      </PrintSpace>
    </Page>
  </Layout>
</alto>
"""


def test_escriptorium_alto_gives_kinds_lines_words_and_confidences(session: Session) -> None:
    uploads = [
        Upload("84.xml", io.BytesIO(ESCRIPTORIUM_ALTO.encode())),
        *upload(ANEKDOTEN[1], renamed={ANEKDOTEN[1]: "OCR-D-IMG_00000084.tif"}),
    ]
    document_id = import_files(uploads, lang="de-Latf", translate=False)
    page = session.scalars(select(Page).where(Page.document_id == document_id)).one()
    assert page.ocr_engine == "import ALTO (eScriptorium)"
    number, text = session.scalars(
        select(Segment).where(Segment.document_id == document_id).order_by(Segment.position)
    ).all()
    assert (number.kind.value, number.text) == ("page_number", "84")
    assert text.text == "Ein gewiſſer Edel-\nmann"
    assert text.normalized == "Ein gewisser Edelmann"
    assert text.bbox == (150, 200, 1150, 340)
    assert text.min_confidence == 42.0
    first = text.lines[0]
    assert first["baseline"] == [[150, 250], [1100, 252]]
    assert first["words"][1] == {
        "text": "gewiſſer",
        "bbox": [250, 205, 450, 255],
        "conf": 42.0,
        "polygon": [],
    }


def test_exported_alto_imports_back_with_the_same_words(session: Session) -> None:
    first = import_files(upload(*ANEKDOTEN), lang="de-Latf", translate=False)
    alto = export(session, first, ExportFormat.ALTO).content
    again = import_files(
        [Upload("page.alto.xml", io.BytesIO(alto)), *upload(ANEKDOTEN[1])],
        lang="de-Latf",
        translate=False,
    )

    def words(document_id: int) -> list[tuple[str, list[int]]]:
        rows = session.scalars(
            select(Segment).where(Segment.document_id == document_id).order_by(Segment.position)
        ).all()
        return [(w["text"], w["bbox"]) for s in rows for line in s.lines for w in line["words"]]

    assert words(again) == words(first) and len(words(first)) > 150


def test_unusable_files_are_reported_and_the_rest_imported(session: Session) -> None:
    uploads = [
        *upload(*BORRDISC),
        Upload("notes.xml", io.BytesIO(b"<html><body>not a transcription</body></html>")),
        Upload("broken.xml", io.BytesIO(b"<PcGts><Page")),
        *upload(ANEKDOTEN[0]),  # its scan is missing
    ]
    document_id = import_files(uploads, translate=False)
    document = session.get(Document, document_id)
    assert document is not None
    assert len(document.pages) == 1
    errors = {f.filename: f.error or "" for f in document.files}
    assert errors["notes.xml"] == "notes.xml is neither PAGE XML nor ALTO (root element <html>)."
    assert errors["broken.xml"].startswith("broken.xml is not well-formed XML")
    assert errors[ANEKDOTEN[0]] == (
        "its page image OCR-D-IMG_00000084.tif is not among the uploaded files."
    )
    with pytest.raises(NoUsableFile) as refused:
        import_files([Upload("notes.xml", io.BytesIO(b"<html/>"))])
    assert refused.value.rejected[0][0] == "notes.xml"


def test_a_transkribus_style_zip_imports(session: Session) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "doc/page/0001_OCR-D-IMG_00000019.xml", (SAMPLES / BORRDISC[0]).read_bytes()
        )
        archive.writestr("doc/OCR-D-IMG_00000019.tif", (SAMPLES / BORRDISC[1]).read_bytes())
        archive.writestr("doc/mets.xml", b"<mets/>")
    buffer.seek(0)
    document_id = import_files([Upload("export.zip", buffer)], translate=False)
    document = session.get(Document, document_id)
    assert document is not None and len(document.pages) == 1 and document.error is None


def test_api_import_answers_202_and_queues_translation_not_ocr(
    session: Session, redis_client: Any
) -> None:

    from tests.support.helpers import authed_client

    client = authed_client()
    xml, tif = (SAMPLES / n for n in BORRDISC)
    response = client.post(
        "/api/imports",
        data={"source_lang": "fr", "target_lang": "en"},
        files=[
            ("files", (xml.name, xml.read_bytes(), "application/xml")),
            ("files", (tif.name, tif.read_bytes(), "image/tiff")),
            ("files", ("stray.xml", b"<alto/>", "application/xml")),
        ],
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert [(f["filename"], f["status"]) for f in body["files"]] == [
        (tif.name, "accepted"),  # stored, not yet decoded: that is the worker's
        ("stray.xml", "failed"),
    ]
    assert body["rejected"] == [
        {"filename": "stray.xml", "error": "stray.xml: expected one ALTO <Page>, found 0."}
    ]
    messages = [json.loads(m) for m in redis_client.lrange("default", 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["palimpsest.ingest_document"]
    assert client.get(f"/api/documents/{body['id']}").json()["pages"] == []
    with unit_of_work() as s:
        after = pipeline.ingest_document(s, pipeline.default_context(), body["id"])
    assert [step.task.value for step in after] == ["palimpsest.plan_translation"]
    detail = client.get(f"/api/documents/{body['id']}").json()
    assert [j["status"] for j in detail["jobs"]][:2] == ["done", "done"]
    assert detail["pages"][0]["image_url"]


def test_cli_imports_and_exports_without_ocr(session: Session, tmp_path: Path) -> None:
    from tests.test_cli import run

    xml, tif = (str(SAMPLES / n) for n in BORRDISC)
    result = run("import", xml, tif, "--source-lang", "fr", "--no-translate", "--now")
    assert result.returncode == 0, result.stderr
    document_id = int(result.stdout.strip())
    out = tmp_path / "page.txt"
    exported = run("export", str(document_id), "--format", "txt", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert "MESSIEURS" in out.read_text()
    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.DONE
    refused = run("import", str(tmp_path / "none.xml"), "--source-lang", "fr")
    assert refused.returncode == 2 and "none.xml" in refused.stderr
