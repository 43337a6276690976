"""The translation API and pages over HTTP: re-translation, stale segments, comparison,
glossary, OCR corrections. Runs the API queues are executed in-process with the pipeline
steps, against the Ollama stand-in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Segment
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.text import normalise
from service.translation.models import Correction, Translation
from tests.fakes.ollama_server import FakeOllama, fake_correction, fake_translation
from tests.support.helpers import authed_client, make_document


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def run_queued(redis_client: redis.Redis) -> None:
    """Execute the plan steps the API queued, as a worker would."""
    for raw in redis_client.lrange("default", 0, -1):
        message = json.loads(raw)
        task = TaskName(message["headers"]["task"])
        args = tuple(json.loads(message["headers"]["argsrepr"].replace("'", '"')))
        run_inline(pipeline.default_context(), [Step(task, args)], max_retries=0)
    redis_client.delete("default")


def translate(document_id: int) -> None:
    run_inline(pipeline.default_context(), [Step(TaskName.PLAN_TRANSLATION, (document_id,))])


def segments(client: TestClient, document_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/documents/{document_id}/segments")
    assert response.status_code == 200
    return list(response.json())


FRENCH = [
    "Le conseil de la ville a payé 120 livres pour le pont.",
    "Le bailli a ordonné de fermer les portes à dix heures.",
    "Les marchands de la foire ont payé 35 livres de taxe.",
]


def test_correcting_the_source_marks_the_translation_stale_and_retranslates_only_it(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    document = make_document(session, FRENCH)
    translate(document.id)
    before = segments(client, document.id)
    assert [s["translation"]["stale"] for s in before] == [False, False, False]
    assert before[0]["translation"]["model_digest"].startswith("sha256:")
    assert before[0]["translation"]["tokens_per_s"] > 0

    corrected = "Le conseil de la ville a payé 125 livres pour le pont."
    row = session.get(Segment, before[1]["id"])
    assert row is not None
    row.text, row.normalized = corrected, normalise(corrected)  # an OCR correction
    session.commit()
    assert [s["translation"]["stale"] for s in segments(client, document.id)] == [
        False,
        True,
        False,
    ]

    sent = len(ollama.chats)
    response = client.post(f"/api/documents/{document.id}/retranslate-stale")
    assert response.status_code == 202, response.text
    run_queued(redis_client)
    after = segments(client, document.id)
    assert after[1]["translation"]["text"] == fake_translation(corrected)
    assert not after[1]["translation"]["stale"]
    assert [a["translation"]["text"] for a in after] == [
        fake_translation(s["normalized"]) for s in after
    ]
    assert len(ollama.chats) == sent + 1
    run = client.get(f"/api/translation-runs/{response.json()['id']}").json()
    assert (run["status"], run["total"], run["done"]) == ("done", 1, 1)

    nothing = client.post(f"/api/documents/{document.id}/retranslate-stale")
    assert nothing.status_code == 422
    assert "No translation of document" in nothing.json()["message"]


def test_one_segment_can_be_retranslated_with_another_model(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    document = make_document(session, FRENCH)
    translate(document.id)
    target = segments(client, document.id)[2]
    response = client.post(
        f"/api/segments/{target['id']}/retranslate",
        json={"backend": "ollama", "model": "deepseek-r1:1.5b"},
    )
    assert response.status_code == 202, response.text
    run_queued(redis_client)
    shown = segments(client, document.id)[2]["translation"]
    assert shown["model"] == "deepseek-r1:1.5b"
    assert shown["text"] == fake_translation(target["normalized"])
    assert ollama.chats[-1]["think"] is False
    assert client.post("/api/segments/999999/retranslate").status_code == 404


def test_two_models_compared_side_by_side_with_figures(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    document = make_document(
        session, [*FRENCH, "<script>alert('x')</script> Le roi est mort."], pages=2
    )
    response = client.post(
        f"/api/documents/{document.id}/comparisons",
        json={
            "models": [
                {"backend": "ollama", "model": "llama3.2:3b"},
                {"backend": "ollama", "model": "deepseek-r1:1.5b"},
            ],
            "page_from": 2,
            "page_to": 2,
        },
    )
    assert response.status_code == 202, response.text
    created = response.json()
    run_queued(redis_client)

    comparison = client.get(created["api_url"]).json()
    figures = comparison["runs"]
    assert [f["run"]["model"] for f in figures] == ["llama3.2:3b", "deepseek-r1:1.5b"]
    for f in figures:
        assert f["run"]["status"] == "done"
        assert (f["segments"], f["translated"], f["failed"], f["untranslated"]) == (2, 2, 0, 0)
        assert f["tokens_per_s"] > 0 and f["wall_s"] is not None
        assert 0.8 < f["length_ratio"] < 1.3
    assert [r["page"] for r in comparison["rows"]] == [2, 2]  # only the chosen page
    for row in comparison["rows"]:
        assert [c["text"] for c in row["cells"]] == [fake_translation(row["source"])] * 2

    page = client.get(created["url"])
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert len(re.findall(r'<tr class="run-figures"', page.text)) == 2
    assert len(re.findall(r'<tr class="compare-row"', page.text)) == 2
    assert "http://" not in page.text and "https://" not in page.text


def test_a_comparison_shows_what_each_model_wrote_not_a_reviewers_text(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    document = make_document(session, FRENCH)
    translate(document.id)  # llama3.2:3b translates the document
    first, second, _ = segments(client, document.id)
    edited = client.patch(
        f"/api/segments/{first['id']}/translation", json={"text": "A reviewer's own rendering."}
    )
    assert edited.status_code == 200, edited.text
    assert client.post(f"/api/segments/{second['id']}/approve").json() == {"approved": 1}
    response = client.post(
        f"/api/documents/{document.id}/comparisons",
        json={
            "models": [
                {"backend": "ollama", "model": "llama3.2:3b"},
                {"backend": "ollama", "model": "deepseek-r1:1.5b"},
            ]
        },
    )
    run_queued(redis_client)
    comparison = client.get(response.json()["api_url"]).json()
    llama, deepseek = comparison["runs"]
    # The first model's translations were all made before: reused, none credited to the run.
    assert (llama["translated"], llama["reused"], llama["segments"]) == (0, 3, 3)
    assert llama["tokens_per_s"] is None and llama["wall_s"] is None
    assert (deepseek["translated"], deepseek["reused"]) == (3, 0)
    assert deepseek["tokens_per_s"] > 0
    cells = [row["cells"][0] for row in comparison["rows"]]
    machine = [fake_translation(row["source"]) for row in comparison["rows"]]
    assert [c["text"] for c in cells] == machine  # as the model wrote them
    assert "A reviewer's own rendering." not in json.dumps(comparison)
    assert "before a reviewer's edit" in cells[0]["reused"]
    assert all("reused from run #" in c["reused"] for c in cells)
    assert all(row["cells"][1]["reused"] is None for row in comparison["rows"])
    page = " ".join(client.get(response.json()["url"]).text.split())
    assert "0 translated, 3 reused of 3" in page and "3 translated of 3" in page
    assert "A reviewer&#39;s own rendering." not in page


def test_comparing_models_leaves_the_documents_translation_shown_and_exported(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    # The document was translated by llama3.2:3b; the comparison asks that model again.
    reviewed: list[str | None] = [f"Reviewed rendering {i}" for i in range(len(FRENCH))]
    document = make_document(session, FRENCH, reviewed)
    # A corrected source makes its translation stale, so the comparison redoes that one.
    first = segments(client, document.id)[0]
    corrected = client.patch(
        f"/api/segments/{first['id']}/source", json={"text": first["source"] + " Corrigé."}
    )
    assert corrected.status_code == 200, corrected.text
    response = client.post(
        f"/api/documents/{document.id}/comparisons",
        json={
            "models": [
                {"backend": "ollama", "model": "llama3.2:3b"},
                {"backend": "ollama", "model": "deepseek-r1:1.5b"},
            ]
        },
    )
    assert response.status_code == 202, response.text
    run_queued(redis_client)

    rows = client.get(response.json()["api_url"]).json()["rows"]
    assert [r["cells"][0]["text"] for r in rows] == reviewed  # that model's translation
    assert [r["cells"][1]["text"] for r in rows] == [fake_translation(r["source"]) for r in rows]
    shown = segments(client, document.id)
    assert [s["translation"]["text"] for s in shown] == reviewed
    assert [s["translation"]["stale"] for s in shown] == [True] + [False] * (len(FRENCH) - 1)
    # The review page and a row re-rendered after an edit show the same, not the comparison.
    compared = fake_translation(rows[0]["source"])
    page = client.get(f"/documents/{document.id}").text
    assert all(str(text) in page for text in reviewed) and compared not in page
    row = client.get(f"/segments/{first['id']}/row").text
    assert "Reviewed rendering 0" in row and compared not in row
    assert 'data-status="stale"' in row
    for fmt in ("txt", "tmx", "tei", "json", "csv", "md"):
        exported = client.get(f"/api/documents/{document.id}/export?format={fmt}").text
        assert all(str(text) in exported for text in reviewed), fmt
        assert fake_translation(rows[0]["source"]) not in exported, fmt


def test_the_glossary_is_given_where_terms_occur_and_checked(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    collection = client.post("/api/collections", json={"name": "Comptes de la ville"}).json()
    for term, rendering in [("livres", "pounds"), ("bailli", "bailiff"), ("maréchal", "marshal")]:
        entry = client.put(
            f"/api/collections/{collection['id']}/glossary",
            json={"term": term, "translation": rendering, "note": "as in the 1780s accounts"},
        )
        assert entry.status_code == 200, entry.text
    document = make_document(session, FRENCH)
    assigned = client.put(
        f"/api/documents/{document.id}/collection", json={"collection_id": collection["id"]}
    )
    assert assigned.status_code == 200
    translate(document.id)

    system = ollama.chats[0]["messages"][0]["content"]
    assert "- livres → pounds (as in the 1780s accounts)" in system
    assert "- bailli → bailiff" in system
    assert "maréchal" not in system  # only terms that occur in the batch
    shown = segments(client, document.id)
    assert "120 pounds" in shown[0]["translation"]["text"]
    assert all(s["translation"]["flags"] == [] for s in shown)

    ollama.mode = "ignore-glossary"
    response = client.post(
        f"/api/documents/{document.id}/translation-runs",
        json={"backend": "ollama", "model": "deepseek-r1:1.5b"},
    )
    assert response.status_code == 202
    run_queued(redis_client)
    flagged = segments(client, document.id)
    assert flagged[0]["translation"]["flags"] == [
        {
            "kind": "glossary",
            "term": "livres",
            "expected": "pounds",
            "message": "the source has 'livres' but the translation lacks 'pounds'",
        }
    ]
    assert [f["term"] for f in flagged[1]["translation"]["flags"]] == ["bailli"]


def test_ocr_correction_is_a_separate_layer_shown_as_a_diff(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    misread = ["Le c0nseil de la vi1le s'est assemblé.", "On a résolu de réparer le pont."]
    document = make_document(session, misread)
    response = client.post(
        f"/api/documents/{document.id}/translation-runs", json={"kind": "correct"}
    )
    assert response.status_code == 202, response.text
    run_queued(redis_client)

    layer = client.get(f"/api/documents/{document.id}/corrections").json()
    assert [c["corrected"] for c in layer] == [fake_correction(t) for t in misread]
    assert [c["changed"] for c in layer] == [True, False]
    assert ["-", "c0nseil"] in layer[0]["diff"] and ["+", "conseil"] in layer[0]["diff"]
    assert [s["source"] for s in segments(client, document.id)] == misread  # OCR untouched
    assert session.scalars(select(Translation)).all() == []  # nothing was translated
    assert len(session.scalars(select(Correction)).all()) == 2

    page = client.get(f"/documents/{document.id}/corrections")
    assert page.status_code == 200
    assert "<del>c0nseil</del><ins>conseil</ins>" in page.text


def test_an_editor_asks_for_corrections_of_one_page_from_the_corrections_page(
    client: TestClient, ollama: FakeOllama, session: Session, redis_client: redis.Redis
) -> None:
    misread = ["Le c0nseil de la vi1le.", "Les échevins 0nt signé."]
    document = make_document(session, misread, pages=2)
    assert (
        f'href="/documents/{document.id}/corrections"'
        in client.get(f"/documents/{document.id}").text
    )  # linked from the document page
    page = " ".join(client.get(f"/documents/{document.id}/corrections").text.split())
    assert "OCR post-correction is off by default" in page
    assert page.count("no proposal yet") == 2
    asked = client.post(
        f"/documents/{document.id}/corrections",
        data={"backend_model": "ollama|llama3.2:3b", "page": "2"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    run_queued(redis_client)
    layer = client.get(f"/api/documents/{document.id}/corrections").json()
    assert [(c["page"], c["corrected"]) for c in layer] == [
        (1, None),
        (2, fake_correction(misread[1])),
    ]
    page = " ".join(client.get(f"/documents/{document.id}/corrections").text.split())
    assert "<del>0nt</del><ins>ont</ins>" in page and page.count("no proposal yet") == 1


def test_post_correction_runs_beside_translation_when_enabled(
    ollama: FakeOllama, session: Session, configure: object
) -> None:
    configure(PALIMPSEST_OCR_POST_CORRECTION="true", OLLAMA_HOST=ollama.host)  # type: ignore[operator]
    document = make_document(session, ["Le c0nseil de la vi1le s'est assemblé."])
    translate(document.id)
    correction = session.scalars(select(Correction)).one()
    assert correction.text == "Le conseil de la ville s'est assemblé."
    translation = session.scalars(select(Translation)).one()
    assert translation.text == fake_translation("Le c0nseil de la vi1le s'est assemblé.")
