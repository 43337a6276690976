"""Every doubt on screen: a translation a check flagged says why on its row of the review
desk, is found by the "needs check" filter and counted on the document page, the dashboard
and the API, until a reviewer edits or approves it; the bundled model's work is a draft."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service.translation.models import Translation
from tests.fakes.ollama_server import FakeOllama, fake_translation
from tests.support.helpers import authed_client, flag, make_document, segment_ids, translate_now

GOOD = "Le conseil de la ville s'est assemblé le matin."
DOUBTFUL = "Le bailli a parlé longtemps devant le peuple de la ville."
INVENTED = {"kind": "invented_number", "message": "1783 is not in the source"}


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def segments(client: TestClient, document_id: int) -> list[dict[str, Any]]:
    return list(client.get(f"/api/documents/{document_id}/segments").json())


def needs_check(client: TestClient, document_id: int) -> int:
    return int(client.get(f"/api/documents/{document_id}").json()["needs_check"])


def article(html: str, segment_id: int) -> str:
    found = re.search(rf'<article [^>]*id="seg-{segment_id}".*?</article>', html, re.S)
    assert found is not None, f"no row for segment {segment_id}"
    return found.group(0)


def test_a_translation_that_invents_a_year_says_so_everywhere_a_reviewer_looks(
    client: TestClient, ollama: FakeOllama, session: Session
) -> None:
    # The model adds a year to every answer, even when asked again more strictly; only the
    # first segment gets a faithful answer.
    ollama.mode = "invent-always"
    ollama.answers = {GOOD: fake_translation(GOOD)}
    document = make_document(session, [GOOD, DOUBTFUL])
    translate_now(document.id)

    good, doubtful = segments(client, document.id)
    assert (good["translation"]["status"], good["translation"]["flags"]) == ("machine", [])
    assert doubtful["translation"]["status"] == "needs_check"
    assert INVENTED in doubtful["translation"]["flags"]
    assert needs_check(client, document.id) == 1

    html = client.get(f"/documents/{document.id}").text
    row = article(html, doubtful["id"])
    assert 'data-status="needs_check"' in row and ">needs check</span>" in row
    assert "1783 is not in the source" in row and "invented number" in row
    assert 'role="note" aria-label="Why this translation needs checking"' in row
    assert 'class="flags"' not in article(html, good["id"])
    assert re.search(r'value="needs_check"> needs check \(<span [^>]*>1</span>\)', html)
    # The row re-rendered alone after a change is the row of the page.
    alone = client.get(f"/segments/{doubtful['id']}/row").text
    assert article(alone, doubtful["id"]) == row

    # The document page counts it and links to its page with the filter on; the dashboard too.
    assert "1 needs check" in client.get(f"/documents/{document.id}/progress").text
    assert f'href="/documents/{document.id}?page=1&amp;status=needs_check"' in html
    filtered = client.get(f"/documents/{document.id}?status=needs_check").text
    assert re.search(r'value="needs_check" checked> needs check', filtered)
    dashboard = client.get("/").text
    assert f'<a href="/documents/{document.id}">1 needs check</a>' in dashboard


def test_approving_or_editing_clears_the_doubt_and_undo_brings_it_back(
    client: TestClient, session: Session
) -> None:
    document = make_document(
        session, ["Un.", "Deux.", "Trois."], ["One.", "Two, in 1783.", "Three."]
    )
    first, second, third = segment_ids(session, document.id)
    flag(session, first, ("omission", "the source has 2 sentences, the translation 1"))
    flag(session, second, ("invented_number", "1783 is not in the source"))
    assert needs_check(client, document.id) == 2
    assert f'<a href="/documents/{document.id}">2 need check</a>' in client.get("/").text

    assert client.post(f"/api/segments/{first}/approve").json() == {"approved": 1}
    shown = segments(client, document.id)[0]["translation"]
    assert (shown["status"], shown["flags"]) == ("approved", [])
    assert "the translation 1" not in client.get(f"/segments/{first}/row").text
    assert needs_check(client, document.id) == 1
    client.post(f"/api/segments/{first}/undo")
    shown = segments(client, document.id)[0]["translation"]
    assert shown["status"] == "needs_check"
    assert shown["flags"][0]["message"] == "the source has 2 sentences, the translation 1"
    assert "the translation 1" in client.get(f"/segments/{first}/row").text

    edited = client.patch(f"/api/segments/{second}/translation", json={"text": "Two."})
    assert edited.status_code == 200, edited.text
    shown = segments(client, document.id)[1]["translation"]
    assert (shown["text"], shown["status"], shown["flags"]) == ("Two.", "edited", [])
    client.post(f"/api/segments/{second}/undo")
    shown = segments(client, document.id)[1]["translation"]
    assert (shown["text"], shown["status"]) == ("Two, in 1783.", "needs_check")
    assert shown["flags"] == [INVENTED]

    # Approving the whole page answers every doubt on it.
    page_id = client.get(f"/api/documents/{document.id}").json()["pages"][0]["id"]
    assert client.post(f"/api/pages/{page_id}/approve").json() == {"approved": 3}
    assert needs_check(client, document.id) == 0
    assert all(s["translation"]["flags"] == [] for s in segments(client, document.id))
    html = client.get(f"/documents/{document.id}").text
    assert 'class="flags"' not in html and 'data-status="needs_check"' not in html
    assert third  # the unflagged row was approved with them


def test_a_reason_quoting_the_model_is_escaped_on_the_row(
    client: TestClient, session: Session
) -> None:
    document = make_document(session, ["Un."], ["One."])
    (segment,) = segment_ids(session, document.id)
    flag(session, segment, ("commentary", 'the answer adds "<img src=x onerror=alert(1)>"'))
    row = client.get(f"/segments/{segment}/row").text
    assert "<img src=x" not in row and "&lt;img src=x onerror=alert(1)&gt;" in row


def test_translations_by_the_bundled_model_are_labelled_a_draft(
    client: TestClient, session: Session
) -> None:
    bundled = make_document(session, ["Un.", "Deux."], ["One.", "Two."])
    session.execute(
        update(Translation)
        .where(Translation.document_id == bundled.id)
        .values(backend="embedded", model="gemma-3-270m-q4_k_m.gguf")
    )
    session.commit()
    other = make_document(session, ["Trois."], ["Three."])

    html = client.get(f"/documents/{bundled.id}").text
    notice = re.search(r'<section class="draft-notice".*?</section>', html, re.S)
    assert notice is not None
    text = " ".join(notice.group(0).split())
    assert "Draft translation" in text and "2 segments" in text
    assert "Gemma 3 270M (<code>gemma-3-270m-q4_k_m.gguf</code>)" in text
    assert "<code>ollama pull translategemma:4b</code>" in text
    assert "draft-notice" not in client.get(f"/documents/{other.id}").text

    client.post(f"/api/documents/{bundled.id}/approve")
    assert "draft-notice" not in client.get(f"/documents/{bundled.id}").text


def test_a_missed_glossary_term_needs_checking_as_the_collections_page_says(
    client: TestClient, ollama: FakeOllama, session: Session
) -> None:
    collection = client.post("/api/collections", json={"name": "Comptes"}).json()
    client.put(
        f"/api/collections/{collection['id']}/glossary",
        json={"term": "livres", "translation": "pounds"},
    )
    document = make_document(session, ["Le conseil a payé vingt livres au maçon."])
    client.put(f"/api/documents/{document.id}/collection", json={"collection_id": collection["id"]})
    ollama.mode = "ignore-glossary"
    translate_now(document.id)

    (shown,) = segments(client, document.id)
    assert shown["translation"]["status"] == "needs_check"
    row = client.get(f"/segments/{shown['id']}/row").text
    assert "glossary</span>: the source has &#39;livres&#39; but the translation lacks" in row
    page = client.get("/collections").text
    assert "marked <em>needs check</em>, naming the term and the rendering it lacks" in " ".join(
        page.split()
    )


def test_a_comparison_counts_each_models_doubts_and_shows_their_reasons(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    from tests.web.test_translation_api import run_queued

    ollama.mode = "invent-always"
    ollama.answers = {GOOD: fake_translation(GOOD)}
    document = make_document(session, [GOOD, DOUBTFUL])
    models = [{"backend": "ollama", "model": m} for m in ("llama3.2:3b", "deepseek-r1:1.5b")]
    created = client.post(
        f"/api/documents/{document.id}/comparisons", json={"models": models}
    ).json()
    run_queued(redis_client)

    figures = client.get(created["api_url"]).json()["runs"]
    assert [(f["translated"], f["needs_check"]) for f in figures] == [(2, 1), (2, 1)]
    page = client.get(created["url"]).text
    assert '<th scope="col">Untranslated</th><th scope="col">Needs check</th>' in page
    # untranslated, needs check, failed, from memory: the last four figures of each run
    tail = r'<td class="num">0</td>\s*<td class="num">1</td>\s*(<td class="num">0</td>\s*){2}</tr>'
    assert len(re.findall(tail, page)) == 2
    assert page.count("invented number</span>: 1783 is not in the source") == 2
