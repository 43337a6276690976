"""Exports keep the doubt: a translation that a check flagged is marked, with its reasons,
in every format (valid against each format's schema), and TMX can leave it out."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import docx
import jsonschema
import pytest
from lxml import etree
from sqlalchemy.orm import Session
from translate.storage.tmx import tmxfile

from service.exports import tabular
from service.exports.model import Arrangement, ExportOptions
from service.exports.service import ExportFormat, export
from service.review.models import AnnotationLayer, AnnotationType
from tests.fakes.ollama_server import FakeOllama, fake_translation
from tests.support.helpers import annotate, flag, make_document, segment_ids, translate_now

TEI = {"tei": "http://www.tei-c.org/ns/1.0"}
GOOD = "Le conseil de la ville s'est assemblé le matin."
DOUBTFUL = "Le bailli a parlé longtemps devant le peuple de la ville."
INVENTED = "invented number: 1783 is not in the source"
OMISSION = ("omission", "the source has 3 sentences, the translation 1")
HOSTILE = ("commentary", 'the answer adds "</note><script>x</script> & \x01"')


def valid(schema: Any, content: bytes) -> etree._Element:
    root = etree.fromstring(content)
    if not schema.validate(root):
        pytest.fail(str(schema.error_log))
    return root


@pytest.fixture
def through_the_pipeline(ollama: FakeOllama, session: Session) -> int:
    """A document translated by a model that adds a year to its second segment."""
    ollama.mode = "invent-always"
    ollama.answers = {GOOD: fake_translation(GOOD)}
    document = make_document(session, [GOOD, DOUBTFUL])
    translate_now(document.id)
    return document.id


def test_every_format_carries_the_reason_of_a_pipeline_flag(
    session: Session, through_the_pipeline: int, tei_schema: Any, tmx_dtd: Any
) -> None:
    document_id = through_the_pipeline

    def content(fmt: ExportFormat) -> bytes:
        return export(session, document_id, fmt).content

    root = valid(tei_schema, content(ExportFormat.TEI))
    good, doubtful = root.iterfind(".//tei:div[@type='translation']/tei:p", TEI)
    assert good.get("cert") is None and good.find("tei:note", TEI) is None
    assert doubtful.get("cert") == "low"
    notes = {n.get("subtype"): n.text for n in doubtful.iterfind("tei:note[@type='check']", TEI)}
    assert notes["invented_number"] == INVENTED

    tmx = content(ExportFormat.TMX)
    valid(tmx_dtd, tmx)
    units = etree.fromstring(tmx).findall(".//tu")
    checks = [[p.text for p in u.iterfind("prop[@type='x-palimpsest-check']")] for u in units]
    assert checks[0] == [] and INVENTED in checks[1]

    data = json.loads(content(ExportFormat.JSON))
    jsonschema.Draft202012Validator(json.loads(tabular.SCHEMA_PATH.read_text())).validate(data)
    first, second = (s["translation"] for s in data["pages"][0]["segments"])
    assert (first["status"], first["flags"]) == ("machine", [])
    assert second["status"] == "needs_check"
    assert {"kind": "invented_number", "message": "1783 is not in the source"} in second["flags"]
    assert data["document"]["needs_check_segments"] == 1

    rows = list(csv.DictReader(io.StringIO(content(ExportFormat.CSV).decode("utf-8-sig"))))
    assert rows[0]["translation_check"] == "" and INVENTED in rows[1]["translation_check"]
    assert rows[1]["translation_status"] == "needs_check"

    comments = list(docx.Document(io.BytesIO(content(ExportFormat.DOCX))).comments)
    assert len(comments) == 1 and comments[0].author == "Palimpsest check"
    assert INVENTED in comments[0].text

    text = content(ExportFormat.TXT).decode()
    assert f"[needs check: {INVENTED}" in text and text.count("[needs check") == 1
    markdown = content(ExportFormat.MD).decode()
    assert "> *\\[needs check: invented number: 1783 is not in the source" in markdown


def test_tmx_leaves_doubted_units_out_on_request(session: Session, tmx_dtd: Any) -> None:
    document = make_document(session, ["Un.", "Deux.", "Trois."], ["One.", "Two.", "Three."])
    _, second, _ = segment_ids(session, document.id)
    flag(session, second, OMISSION, HOSTILE)
    marked = export(session, document.id, ExportFormat.TMX).content
    valid(tmx_dtd, marked)
    assert b"Two." in marked and b"x-palimpsest-check" in marked
    left_out = export(session, document.id, ExportFormat.TMX, ExportOptions(flagged=False))
    valid(tmx_dtd, left_out.content)
    store = tmxfile(io.BytesIO(left_out.content), "fr", "en")
    assert [(u.source, u.target) for u in store.units] == [("Un.", "One."), ("Trois.", "Three.")]


def test_tei_stays_valid_with_hostile_reasons_and_annotated_translations(
    session: Session, tei_schema: Any
) -> None:
    document = make_document(session, ["Le roi.", "Fin."], ["The king,\nin 1783.", "End."])
    first, _ = segment_ids(session, document.id)
    annotate(session, first, 4, 8, AnnotationType.PERSON, None, AnnotationLayer.TRANSLATION)
    flag(session, first, OMISSION, HOSTILE)
    content = export(session, document.id, ExportFormat.TEI).content
    root = valid(tei_schema, content)
    p = root.find(".//tei:div[@type='translation']/tei:p", TEI)
    assert p is not None and p.get("cert") == "low"
    assert p.find("tei:persName", TEI) is not None  # the annotation is still there
    assert [n.get("subtype") for n in p.iterfind("tei:note[@type='check']", TEI)] == [
        "omission",
        "commentary",
    ]
    assert b"<script>" not in content and b"\x01" not in content
    declared = root.find(".//tei:editorialDecl", TEI)
    assert declared is not None and 'cert="low"' in "".join(map(str, declared.itertext()))


def test_a_reviewed_translation_exports_without_doubt(session: Session, tei_schema: Any) -> None:
    from service.db import unit_of_work
    from service.review import service as review
    from service.review.models import Author

    document = make_document(session, ["Un."], ["One."])
    (segment,) = segment_ids(session, document.id)
    flag(session, segment, OMISSION)
    with unit_of_work() as s:
        review.approve(s, [segment], Author(None, "Clio"))
    root = valid(tei_schema, export(session, document.id, ExportFormat.TEI).content)
    assert root.find(".//tei:p[@cert]", TEI) is None and root.find(".//tei:note", TEI) is None
    data = json.loads(export(session, document.id, ExportFormat.JSON).content)
    translation = data["pages"][0]["segments"][0]["translation"]
    assert (translation["status"], translation["flags"]) == ("approved", [])
    side = ExportOptions(arrangement=Arrangement.SIDE_BY_SIDE)
    assert b"needs check" not in export(session, document.id, ExportFormat.MD, side).content


def test_the_page_translation_layer_and_the_bilingual_pdf_say_it_too(
    session: Session, page_schema: Any, tmp_path: Path
) -> None:
    from PIL import Image

    from service.storage import get_storage
    from tests.support.helpers import encode

    sha = get_storage().put_bytes(encode(Image.new("L", (1000, 1500), 255), "PNG"))
    document = make_document(session, ["Un.", "Deux."], ["One.", "Two."], image_sha256=sha)
    flag(session, segment_ids(session, document.id)[1], OMISSION)

    archive = zipfile.ZipFile(io.BytesIO(export(session, document.id, ExportFormat.PAGE).content))
    layer = valid(page_schema, archive.read("translation/0001.xml"))
    page_ns = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
    comments = [r.get("comments") for r in layer.iterfind(".//pc:TextRegion", page_ns)]
    assert comments == [None, f"[needs check: omission: {OMISSION[1]}]"]

    pdf = tmp_path / "bilingual.pdf"
    pdf.write_bytes(
        export(session, document.id, ExportFormat.PDF, ExportOptions(bilingual=True)).content
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Two.\n[needs check: omission:" in text  # under the translation it is about
    assert f"[needs check: omission: {OMISSION[1]}]" in " ".join(text.split())
