"""Exports: TEI P5 valid against tei_all whatever the text holds, and plain text."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from sqlalchemy.orm import Session

from service.exports import model, tei, txt
from tests.support.helpers import authed_client, make_document

NS = {"tei": "http://www.tei-c.org/ns/1.0"}
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
HOSTILE = (
    "</p><script>alert(1)</script> &amp; \x01\x0b\x1f \ufffe ſchoͤn a\u0364 \u202eevil\u202c \u200f"
)


def validate(schema: Any, content: bytes) -> etree._Element:
    root = etree.fromstring(content)
    if not schema.validate(root):
        pytest.fail(str(schema.error_log))
    return root


def test_tei_has_a_transcription_and_a_parallel_translation(
    session: Session, tei_schema: Any
) -> None:
    document = make_document(
        session,
        ["Le roi est mort.\nVive le roi !", "Fin."],
        ["The king is dead. Long live the king!", None],
        pages=2,
    )
    root = validate(tei_schema, tei.render(model.load(session, document.id)))

    source = root.find(".//tei:div[@type='transcription']", NS)
    target = root.find(".//tei:div[@type='translation']", NS)
    assert source is not None and target is not None
    assert source.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    source_ps = source.findall("tei:p", NS)
    target_ps = target.findall("tei:p", NS)
    assert [p.get("corresp") for p in target_ps] == [f"#{p.get(XML_ID)}" for p in source_ps]
    assert "".join(str(t) for t in source_ps[0].itertext()) == "Le roi est mort.Vive le roi !"
    assert len(source_ps[0].findall("tei:lb", NS)) == 1
    assert target_ps[0].text == "The king is dead. Long live the king!"
    assert target_ps[1].find("tei:gap", NS) is not None  # untranslated, and says so
    zones = root.findall(".//tei:surface/tei:zone", NS)
    assert [f"#{z.get(XML_ID)}" for z in zones] == [p.get("facs") for p in source_ps]
    assert [pb.get("n") for pb in source.findall("tei:pb", NS)] == ["1", "2"]


def test_tei_stays_valid_and_escaped_with_hostile_text(session: Session, tei_schema: Any) -> None:
    document = make_document(session, [HOSTILE], [HOSTILE], title=HOSTILE)
    content = tei.render(model.load(session, document.id))
    root = validate(tei_schema, content)
    assert b"<script>" not in content
    p = root.find(".//tei:div[@type='transcription']/tei:p", NS)
    assert p is not None and "</p><script>alert(1)</script> &amp;" in "".join(
        str(t) for t in p.itertext()
    )


def test_text_export_interleaves_source_and_translation_by_page(session: Session) -> None:
    document = make_document(
        session,
        ["Ligne une,\nsuite.", "Deux.", "Trois."],
        ["Line one, continued.", "Two.", None],
        pages=2,
    )
    text = txt.render(model.load(session, document.id))
    page_one, page_two = text.split("\f")
    assert page_one == "Ligne une, suite.\nLine one, continued.\n\nTrois.\n[not translated]"
    assert page_two == "Deux.\nTwo.\n"


def test_text_export_without_translations_is_the_reading_text(session: Session) -> None:
    document = make_document(session, ["Erſte Zeile", "Zweite"], pages=1)
    assert txt.render(model.load(session, document.id)) == "Erste Zeile\n\nZweite\n"


def test_export_endpoint_sends_a_named_file(session: Session, tei_schema: Any) -> None:
    document = make_document(session, ["Un."], ["One."])
    client = authed_client()
    response = client.get(f"/api/documents/{document.id}/export?format=tei")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/tei+xml"
    assert 'filename="Test-document.tei.xml"' in response.headers["content-disposition"]
    validate(tei_schema, response.content)
    plain = client.get(f"/api/documents/{document.id}/export?format=txt")
    assert plain.text == "Un.\nOne.\n"
    assert client.get(f"/api/documents/{document.id}/export?format=odt").status_code == 422
