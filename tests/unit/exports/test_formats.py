"""Every export format: valid against its official schema, carrying the layers asked for,
and escaping hostile text."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import jsonschema
import pytest
from docx.enum.text import WD_COLOR_INDEX
from lxml import etree
from sqlalchemy.orm import Session
from translate.storage.tmx import tmxfile

from service.exports import tabular
from service.exports.model import Arrangement, ExportOptions, SourceLayer
from service.exports.service import ExportFormat, export
from service.review.models import AnnotationLayer, AnnotationType
from service.translation.models import TranslationStatus
from tests.support.helpers import annotate, make_document, segment_ids

TEI = {"tei": "http://www.tei-c.org/ns/1.0"}
PAGE = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
ALTO = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
HOSTILE = (
    "</p><script>alert(1)</script> &amp; \x01\x0b\x1f \ufffe ſchoͤn a\u0364 \u202eevil\u202c \u200f"
)
FRAKTUR = "Der Kaiſer Friedrich kam\nnach Ber-\nlin am 3. May 1740."


def text_of(element: etree._Element | None) -> str:
    assert element is not None
    return "".join(str(t) for t in element.itertext())


def valid(schema: Any, content: bytes) -> etree._Element:
    root = etree.fromstring(content)
    if not schema.validate(root):
        pytest.fail(str(schema.error_log))
    return root


def annotated_document(session: Session) -> int:
    document = make_document(
        session,
        [FRAKTUR, "Ende."],
        ["Emperor Frederick came to Berlin on 3 May 1740.", "End."],
        source_lang="de-Latf",
        low_words=frozenset({"kam"}),
    )
    first = segment_ids(session, document.id)[0]
    annotate(session, first, 11, 20, AnnotationType.PERSON, "Friedrich II.")
    annotate(session, first, FRAKTUR.index("Ber-"), FRAKTUR.index("lin") + 3, AnnotationType.PLACE)
    start = FRAKTUR.index("3. May")
    annotate(session, first, start, start + 11, AnnotationType.DATE, "1740-05-03")
    annotate(session, first, 4, 10, AnnotationType.NOTE, "title of the ruler")
    annotate(session, first, 8, 17, AnnotationType.PERSON, None, AnnotationLayer.TRANSLATION)
    return document.id


def test_tei_carries_normalised_forms_unclear_words_and_annotations(
    session: Session, tei_schema: Any
) -> None:
    document_id = annotated_document(session)
    root = valid(tei_schema, export(session, document_id, ExportFormat.TEI).content)

    p = root.find(".//tei:div[@type='transcription']/tei:p", TEI)
    assert p is not None
    kaiser = p.find("tei:choice", TEI)
    assert text_of(kaiser.find("tei:orig", TEI)) == "Kaiſer"  # type: ignore[union-attr]
    assert text_of(kaiser.find("tei:reg", TEI)) == "Kaiser"  # type: ignore[union-attr]
    assert text_of(p.find("tei:note[@type='annotation']", TEI)) == "title of the ruler"
    assert text_of(p.find("tei:persName", TEI)) == "Friedrich"
    assert text_of(p.find("tei:unclear[@reason='low-confidence']", TEI)) == "kam"
    place = p.find("tei:placeName", TEI)
    assert place is not None and text_of(place.find(".//tei:reg", TEI)) == "Berlin"
    assert place.find(".//tei:orig/tei:lb[@break='no']", TEI) is not None
    date = p.find("tei:date", TEI)
    assert date is not None and date.get("when") == "1740-05-03"
    assert text_of(date) == "3. May 1740"  # the full stop after it stays outside
    target = root.find(".//tei:div[@type='translation']/tei:p", TEI)
    assert text_of(target.find("tei:persName", TEI)) == "Frederick"  # type: ignore[union-attr]

    header = root.find("tei:teiHeader", TEI)
    apps = [a.get("ident") for a in header.iterfind(".//tei:application", TEI)]  # type: ignore[union-attr]
    assert apps == ["palimpsest", "tesseract", "ollama-llama3.2-3b"]
    assert "fra" in text_of(header.find(".//tei:application[@ident='tesseract']", TEI))  # type: ignore[union-attr]


def test_tei_gives_the_chosen_source_layer_alone(session: Session, tei_schema: Any) -> None:
    document_id = annotated_document(session)
    diplomatic = export(
        session, document_id, ExportFormat.TEI, ExportOptions(source=SourceLayer.DIPLOMATIC)
    )
    normalized = export(
        session, document_id, ExportFormat.TEI, ExportOptions(source=SourceLayer.NORMALIZED)
    )
    for result, present, absent in (
        (diplomatic, "Kaiſer", "Kaiser"),
        (normalized, "Kaiser", "Kaiſer"),
    ):
        root = valid(tei_schema, result.content)
        p = root.find(".//tei:div[@type='transcription']/tei:p", TEI)
        assert p is not None and p.find(".//tei:choice", TEI) is None
        assert present in text_of(p) and absent not in text_of(p)
    p = etree.fromstring(normalized.content).find(".//tei:div[@type='transcription']/tei:p", TEI)
    assert "Berlin" in text_of(p) and p.find(".//tei:lb", TEI) is None  # type: ignore[union-attr]


def test_page_range_and_approved_only_select_what_is_exported(
    session: Session, tei_schema: Any
) -> None:
    document = make_document(
        session,
        ["Un.", "Deux.", "Trois.", "Quatre."],
        ["One.", "Two.", "Three.", "Four."],
        pages=2,
        statuses=[TranslationStatus.APPROVED, TranslationStatus.MACHINE] * 2,
    )
    only_two = valid(
        tei_schema,
        export(session, document.id, ExportFormat.TEI, ExportOptions(first_page=2)).content,
    )
    assert [
        pb.get("n") for pb in only_two.iterfind(".//tei:div[@type='transcription']/tei:pb", TEI)
    ] == ["2"]
    approved = export(session, document.id, ExportFormat.TMX, ExportOptions(approved_only=True))
    assert b"One." in approved.content and b"Three." in approved.content
    assert b"Two." not in approved.content and b"Four." not in approved.content
    no_translation = export(
        session, document.id, ExportFormat.TXT, ExportOptions(translation=False)
    )
    assert no_translation.content.decode() == "Un.\n\nTrois.\fDeux.\n\nQuatre.\n"


def test_page_xml_has_regions_lines_words_and_both_text_layers(
    session: Session, page_schema: Any
) -> None:
    document_id = annotated_document(session)
    content = export(session, document_id, ExportFormat.PAGE).content
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.namelist() == ["page/0001.xml", "translation/0001.xml"]
    root = valid(page_schema, archive.read("page/0001.xml"))
    regions = root.findall(".//pc:TextRegion", PAGE)
    assert len(regions) == 2
    lines = regions[0].findall("pc:TextLine", PAGE)
    assert len(lines) == 3
    words = lines[0].findall("pc:Word", PAGE)
    assert [w.findtext("pc:TextEquiv/pc:Unicode", namespaces=PAGE) for w in words] == [
        "Der",
        "Kaiſer",
        "Friedrich",
        "kam",
    ]
    assert words[0].find("pc:Coords", PAGE).get("points") == "10,10 70,10 70,28 10,28"  # type: ignore[union-attr]
    assert words[3].find("pc:TextEquiv", PAGE).get("conf") == "0.300"  # type: ignore[union-attr]
    equivs = regions[0].findall("pc:TextEquiv", PAGE)
    assert [e.get("index") for e in equivs] == ["1", "2"]
    assert equivs[0].findtext("pc:Unicode", namespaces=PAGE) == FRAKTUR
    assert equivs[1].findtext("pc:Unicode", namespaces=PAGE) == (
        "Der Kaiser Friedrich kam nach Berlin am 3. May 1740."
    )
    translation = valid(page_schema, archive.read("translation/0001.xml"))
    assert [r.get("id") for r in translation.findall(".//pc:TextRegion", PAGE)] == [
        r.get("id") for r in regions
    ]
    assert translation.findtext(".//pc:TextLine/pc:TextEquiv/pc:Unicode", namespaces=PAGE) == (
        "Emperor Frederick came to Berlin on 3 May 1740."
    )


def test_alto_has_word_boxes_confidences_and_normalised_alternatives(
    session: Session, alto_schema: Any
) -> None:
    document_id = annotated_document(session)
    root = valid(alto_schema, export(session, document_id, ExportFormat.ALTO).content)
    strings = root.findall(".//a:TextBlock[1]/a:TextLine[1]/a:String", ALTO)
    assert [s.get("CONTENT") for s in strings] == ["Der", "Kaiſer", "Friedrich", "kam"]
    assert strings[3].get("WC") == "0.300"
    assert (strings[0].get("HPOS"), strings[0].get("WIDTH")) == ("10", "60")
    alternative = strings[1].find("a:ALTERNATIVE", ALTO)
    assert alternative is not None and alternative.text == "Kaiser"
    hyphenated = root.findall(".//a:String[@SUBS_TYPE]", ALTO)
    assert [(s.get("CONTENT"), s.get("SUBS_CONTENT")) for s in hyphenated] == [
        ("Ber-", "Berlin"),
        ("lin", "Berlin"),
    ]


def test_tmx_is_valid_and_reads_in_translate_toolkit(session: Session, tmx_dtd: Any) -> None:
    document_id = annotated_document(session)
    content = export(session, document_id, ExportFormat.TMX).content
    valid(tmx_dtd, content)
    store = tmxfile(io.BytesIO(content), "de-Latf", "en")
    units = [(u.source, u.target) for u in store.units]
    assert units == [
        (
            "Der Kaiser Friedrich kam nach Berlin am 3. May 1740.",
            "Emperor Frederick came to Berlin on 3 May 1740.",
        ),
        ("Ende.", "End."),
    ]


def test_docx_has_a_two_column_table_per_page_and_annotations_as_comments(
    session: Session,
) -> None:
    document = make_document(
        session,
        [FRAKTUR, "Zwei.", "Drei."],
        ["Emperor…", "Two.", None],
        pages=2,
        low_words=frozenset({"kam"}),
    )
    first, second, _ = segment_ids(session, document.id)
    annotate(session, first, 11, 20, AnnotationType.PERSON, "Friedrich II.")
    annotate(session, second, 0, 4, AnnotationType.TERM)
    opened = docx.Document(io.BytesIO(export(session, document.id, ExportFormat.DOCX).content))
    headings = [
        p.text for p in opened.paragraphs if p.style is not None and p.style.name == "Heading 1"
    ]
    assert headings == ["Page 1", "Page 2"]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in opened.tables]
    assert tables[0][1:] == [
        ["Der Kaiser Friedrich kam\nnach Berlin am 3. May 1740.", "Emperor…"],
        ["Drei.", "(not translated)"],
    ]
    assert tables[1][1:] == [["Zwei.", "Two."]]
    assert tables[0][0][0].endswith("p. 1")
    comments = list(opened.comments)
    assert [(c.comment_id, c.text) for c in comments] == [(0, "person: Friedrich II."), (1, "term")]
    runs = opened.tables[0].rows[1].cells[0].paragraphs[0].runs
    highlighted = [r.text for r in runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]
    assert highlighted == ["kam"]


def test_json_validates_against_its_documented_schema(session: Session) -> None:
    document_id = annotated_document(session)
    data = json.loads(export(session, document_id, ExportFormat.JSON).content)
    schema = json.loads(tabular.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    segment = data["pages"][0]["segments"][0]
    assert segment["diplomatic"] == FRAKTUR
    assert segment["lines"][0]["words"][3] == {
        "text": "kam",
        "bbox": [430, 10, 490, 28],
        "conf": 30.0,
    }
    assert {a["type"] for a in segment["annotations"]} == {"person", "place", "date", "note"}
    assert segment["translation"]["model"] == "llama3.2:3b"


def test_csv_has_one_row_per_segment(session: Session) -> None:
    document_id = annotated_document(session)
    content = export(session, document_id, ExportFormat.CSV).content
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r["diplomatic"] for r in rows] == [FRAKTUR, "Ende."]
    assert rows[0]["translation"] == "Emperor Frederick came to Berlin on 3 May 1740."
    assert "source:11-20:person=Friedrich II." in rows[0]["annotations"]


def test_text_and_markdown_side_by_side(session: Session) -> None:
    document = make_document(session, ["Le roi est mort.", "Fin."], ["The king is dead.", None])
    side = ExportOptions(arrangement=Arrangement.SIDE_BY_SIDE)
    text = export(session, document.id, ExportFormat.TXT, side).content.decode()
    assert text.splitlines()[0] == f"Le roi est mort.{' ' * 32} | The king is dead."
    markdown = export(session, document.id, ExportFormat.MD, side).content.decode()
    assert "| fr | en |" in markdown
    assert "| Le roi est mort. | The king is dead. |" in markdown  # periods stay periods
    assert "| Fin. | *not translated* |" in markdown


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_pages(content: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )


def test_pdf_has_an_invisible_searchable_text_layer_and_a_bilingual_option(
    session: Session, tmp_path: Path
) -> None:
    from PIL import Image

    from service.storage import get_storage
    from tests.support.helpers import encode

    sha = get_storage().put_bytes(encode(Image.new("L", (1000, 1500), 255), "PNG"))
    document = make_document(
        session, ["Erſte Zeile", "Zweite"], ["First line", "Second"], pages=2, image_sha256=sha
    )
    plain = export(session, document.id, ExportFormat.PDF).content
    assert pdf_pages(plain, tmp_path) == 2
    assert "Erſte" in pdf_text(plain, tmp_path) and "Zweite" in pdf_text(plain, tmp_path)
    bilingual = export(
        session, document.id, ExportFormat.PDF, ExportOptions(bilingual=True)
    ).content
    assert pdf_pages(bilingual, tmp_path) == 4
    assert "First line" in pdf_text(bilingual, tmp_path)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_hostile_text_exports_valid_and_escaped(
    session: Session,
    fmt: ExportFormat,
    tei_schema: Any,
    page_schema: Any,
    alto_schema: Any,
    tmx_dtd: Any,
    tmp_path: Path,
) -> None:
    document = make_document(session, [HOSTILE, "x"], [HOSTILE, "y"], title=HOSTILE)
    first = segment_ids(session, document.id)[0]
    annotate(session, first, 0, 8, AnnotationType.NOTE, HOSTILE)
    annotate(session, first, 2, 30, AnnotationType.PERSON, HOSTILE, AnnotationLayer.TRANSLATION)
    content = export(session, document.id, fmt).content
    check: dict[ExportFormat, Callable[[], object]] = {
        ExportFormat.TEI: lambda: valid(tei_schema, content),
        ExportFormat.ALTO: lambda: valid(alto_schema, content),
        ExportFormat.TMX: lambda: valid(tmx_dtd, content),
        ExportFormat.PAGE: lambda: [
            valid(page_schema, zipfile.ZipFile(io.BytesIO(content)).read(n))
            for n in zipfile.ZipFile(io.BytesIO(content)).namelist()
        ],
    }
    if fmt in check:
        check[fmt]()
        assert b"<script>" not in content
        assert b"ns0:" not in content  # every element in the format's own default namespace
        assert b"&lt;/p&gt;&lt;script&gt;" in content or fmt is ExportFormat.PAGE
    elif fmt is ExportFormat.DOCX:
        opened = docx.Document(io.BytesIO(content))
        cell = opened.tables[0].rows[1].cells[0].text
        assert cell.startswith("</p><script>alert(1)</script> &amp;") and "\x01" not in cell
    elif fmt is ExportFormat.JSON:
        data = json.loads(content)
        assert data["pages"][0]["segments"][0]["diplomatic"] == HOSTILE  # lossless, JSON-escaped
        assert b"\x01" not in content
    elif fmt is ExportFormat.CSV:
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[1][11] == HOSTILE
    elif fmt is ExportFormat.PDF:
        assert "</p><script>alert(1)</script>" in pdf_text(content, tmp_path)
    elif fmt is ExportFormat.IIIF:
        archive = zipfile.ZipFile(io.BytesIO(content))
        manifest, page = archive.read("manifest.json"), archive.read("annotations/page-0001.json")
        assert json.loads(manifest)["label"] == {"none": [HOSTILE]}
        bodies = [a["body"] for a in json.loads(page)["items"]]
        assert bodies[0]["value"] == bodies[1]["value"] == HOSTILE  # lossless, JSON-escaped
        assert HOSTILE in [b.get("value") for b in bodies if isinstance(b, dict)]  # the note
        assert b"\x01" not in manifest + page and b"\\u0001" in page
        valid(tei_schema, archive.read("transcription.tei.xml"))
    else:
        text = content.decode("utf-8")
        controls = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\f\t"]
        assert not controls and "\ufffe" not in text
        if fmt is ExportFormat.MD:
            assert "<script>" not in text and "\\<script\\>" in text
