"""Hostile text stays text: every page that shows OCR text, model output, titles, file
names or annotation bodies escapes it; the database is reached only with bound parameters."""

from __future__ import annotations

import ast
from pathlib import Path

import lxml.html
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from service.config import PROJECT_ROOT
from service.db import get_engine
from tests.support.helpers import authed_client
from tests.support.hostile import PAYLOADS, WORD, HostileDocument, make_hostile_document

OUR_SCRIPTS = {"/static/app.js", "/static/review.js", "/static/desk-live.js", "/static/upload.js"}
ACTIVE_TAGS = {"iframe", "object", "embed", "svg", "math", "template", "base", "frame"}


@pytest.fixture
def hostile(session: Session, redis_client: redis.Redis) -> HostileDocument:
    return make_hostile_document(session)


def pages(doc: HostileDocument) -> list[str]:
    first, second = doc.run_ids
    return [
        "/",
        "/documents/table",
        f"/documents/{doc.document_id}",
        f"/documents/{doc.document_id}?page=2",
        f"/documents/{doc.document_id}/progress",
        f"/segments/{doc.segment_ids[0]}/row",
        f"/search?q={WORD}",
        "/search?q=%22%3E%3Cscript%3Exss(99)%3C/script%3E",
        f"/documents/{doc.document_id}/compare?runs={first},{second}",
    ]


def markup_made_by_payloads(html: str) -> list[str]:
    """Elements and attributes that only an unescaped payload could have created."""
    tree = lxml.html.fromstring(html)
    found: list[str] = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.lower()
        if tag == "script" and element.get("src") not in OUR_SCRIPTS:
            found.append(f"<script src={element.get('src')!s}>")
        if tag in ACTIVE_TAGS or (tag == "meta" and element.get("http-equiv")):
            found.append(f"<{tag}>")
        if tag == "style" or (tag == "img" and "/api/pages/" not in (element.get("src") or "")):
            found.append(f"<{tag}>")
        attributes: dict[str, str] = dict(element.attrib)  # type: ignore[arg-type]
        for name, value in attributes.items():
            if name.lower().startswith("on"):
                found.append(f"{tag}@{name}")
            if "javascript:" in value.replace("\u200b", "").lower() and name != "title":
                found.append(f"{tag}@{name}={value}")
    return found


def test_no_page_turns_hostile_text_into_markup(hostile: HostileDocument) -> None:
    client = authed_client("editor")
    for url in pages(hostile):
        response = client.get(url, headers={"accept": "text/html"})
        assert response.status_code == 200, (url, response.text[:300])
        assert markup_made_by_payloads(response.text) == [], url
    # The HTML the open document page swaps in as the work goes on: the page view, the
    # rows and the progress panel.
    for number in (1, 2):
        live = client.get(f"/documents/{hostile.document_id}/live?page={number}").json()
        for part in ("view", "progress"):
            assert markup_made_by_payloads(f"<div>{live[part]}</div>") == [], (number, part)
    text = ""
    for number in (1, 2):  # the review page shows one page at a time
        review = client.get(f"/documents/{hostile.document_id}?page={number}").text
        text += str(lxml.html.fromstring(review).text_content())  # type: ignore[attr-defined]
    assert PAYLOADS[0] in text and PAYLOADS[13] in text  # shown, as text
    assert "{{ 7*7 }}{% if 1 %}" in text  # shown as written, not evaluated as a template


def test_pages_carry_a_policy_that_allows_only_our_own_scripts(hostile: HostileDocument) -> None:
    client = authed_client("viewer")
    for url in ("/", f"/documents/{hostile.document_id}", "/login"):
        headers = client.get(url).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"


def test_sql_metacharacters_in_input_are_data(hostile: HostileDocument, session: Session) -> None:
    client: TestClient = authed_client("editor")
    tables = set(inspect(get_engine()).get_table_names())
    for q in ["'; DROP TABLE documents; --", '" OR 1=1 --', "\\'; SELECT pg_sleep(5); --", "%_"]:
        response = client.get("/api/search", params={"q": q})
        assert response.status_code == 200 and response.json() == [], q
    segment = hostile.segment_ids[0]
    body = "Robert'); DROP TABLE segments;--"
    created = client.post(
        f"/api/segments/{segment}/annotations",
        json={"layer": "source", "start": 0, "end": 4, "type": "note", "body": body},
    )
    assert created.status_code in (200, 201), created.text
    listed = client.get(f"/api/documents/{hostile.document_id}/annotations").json()
    assert body in [a["body"] for a in listed]
    assert set(inspect(get_engine()).get_table_names()) == tables


def _sql_built_from_strings(path: Path) -> list[str]:
    """Calls that hand SQL text to the database built with f-strings, % or .format."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name not in {"text", "execute", "exec_driver_sql", "scalar", "scalars"}:
            continue
        sql = node.args[0]
        built = isinstance(sql, ast.JoinedStr | ast.BinOp) or (
            isinstance(sql, ast.Call) and getattr(sql.func, "attr", "") == "format"
        )
        raw_text_call = name == "text" and not isinstance(sql, ast.Constant)
        if built or raw_text_call:
            found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    return found


def test_the_application_never_builds_sql_from_strings() -> None:
    sources = [*(PROJECT_ROOT / "service").rglob("*.py"), *(PROJECT_ROOT / "workers").rglob("*.py")]
    assert len(sources) > 50
    assert [hit for path in sources for hit in _sql_built_from_strings(path)] == []


def test_a_number_no_column_can_hold_is_bad_input_not_a_crash(hostile: HostileDocument) -> None:
    client = authed_client("editor")
    too_big = 2**40
    for url in (f"/api/documents/{too_big}", f"/api/segments/{too_big}/history"):
        response = client.get(url)
        assert response.status_code == 422, url
        assert response.json()["error"] == "invalid_input"
    page = client.get(f"/documents/{too_big}", headers={"accept": "text/html"})
    assert page.status_code == 422 and "out of range" in page.text
