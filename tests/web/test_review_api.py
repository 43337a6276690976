"""The review desk's JSON API: edits with history and conflicts, undo, approval, annotations,
search."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.helpers import authed_client, make_document


@pytest.fixture
def client() -> TestClient:
    return authed_client()


def segments(client: TestClient, document_id: int) -> list[dict[str, Any]]:
    return list(client.get(f"/api/documents/{document_id}/segments").json())


def as_reviewer(name: str) -> TestClient:
    """A client logged in as an editor whose name appears in the history."""
    from service.accounts import service as accounts
    from service.db import unit_of_work

    client = authed_client(role="editor", username=name.lower().replace(" ", "."))
    with unit_of_work() as session:
        user = accounts.users(session)[-1]
        for candidate in accounts.users(session):
            if candidate.username == name.lower().replace(" ", "."):
                user = candidate
        user.display_name = name
    return client


def test_correcting_the_source_marks_the_translation_stale(
    client: TestClient, session: Session
) -> None:
    doc = make_document(session, ["Le roy est mort."], ["The king is dead."])
    seg_id = segments(client, doc.id)[0]["id"]
    client = as_reviewer("Marie Curie")
    response = client.patch(
        f"/api/segments/{seg_id}/source", json={"text": "Le roi est mort.", "version": 1}
    )
    assert response.status_code == 200, response.text
    state = response.json()
    assert state["source"] == "Le roi est mort." and state["source_version"] == 2
    assert state["stale"] is True
    assert segments(client, doc.id)[0]["translation"]["stale"] is True
    history = client.get(f"/api/segments/{seg_id}/history").json()
    assert [(h["field"], h["before"], h["after"], h["author"]) for h in history] == [
        ("source", "Le roy est mort.", "Le roi est mort.", "Marie Curie")
    ]


def test_the_history_and_annotations_name_the_account_that_made_them(
    client: TestClient, session: Session
) -> None:
    from service.accounts.models import User

    doc = make_document(session, ["Le roy est mort."], ["The king is dead."])
    seg_id = segments(client, doc.id)[0]["id"]
    reviewer = as_reviewer("Ada Byron")
    reviewer.patch(f"/api/segments/{seg_id}/source", json={"text": "Le roi est mort."})
    note = reviewer.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "source", "start": 3, "end": 6, "type": "person"},
    ).json()
    user = session.scalars(select(User).where(User.username == "ada.byron")).one()
    # She renames herself later: the records keep the name they were made under and the
    # account, so they still lead to her.
    user.display_name = "Ada Lovelace"
    session.commit()
    history = client.get(f"/api/segments/{seg_id}/history").json()
    assert [(h["author"], h["author_id"]) for h in history] == [("Ada Byron", user.id)]
    assert (note["author"], note["author_id"]) == ("Ada Byron", user.id)


def test_correcting_the_translation_is_kept_and_no_longer_stale(
    client: TestClient, session: Session
) -> None:
    doc = make_document(session, ["Vive le roi !"], ["Live the king!"])
    seg_id = segments(client, doc.id)[0]["id"]
    client.patch(f"/api/segments/{seg_id}/source", json={"text": "Vive le roi !!"})
    state = client.patch(
        f"/api/segments/{seg_id}/translation", json={"text": "Long live the king!", "version": 1}
    ).json()
    assert state["translation"] == "Long live the king!"
    assert state["status"] == "edited" and state["stale"] is False
    reloaded = segments(client, doc.id)[0]["translation"]
    assert reloaded["text"] == "Long live the king!" and reloaded["status"] == "edited"


def test_a_second_reviewer_saving_the_same_version_gets_a_conflict(
    client: TestClient, session: Session
) -> None:
    doc = make_document(session, ["Un."], ["One."])
    seg_id = segments(client, doc.id)[0]["id"]
    first = as_reviewer("A").patch(
        f"/api/segments/{seg_id}/translation", json={"text": "One (A).", "version": 1}
    )
    assert first.status_code == 200
    second = as_reviewer("B").patch(
        f"/api/segments/{seg_id}/translation", json={"text": "One (B).", "version": 1}
    )
    assert second.status_code == 409
    assert second.json()["current_text"] == "One (A)."
    assert second.json()["current_version"] == 2
    assert segments(client, doc.id)[0]["translation"]["text"] == "One (A)."  # nothing overwritten
    resolved = client.patch(
        f"/api/segments/{seg_id}/translation", json={"text": "One (B).", "version": 2}
    )
    assert resolved.status_code == 200


def test_undo_walks_back_through_the_history(client: TestClient, session: Session) -> None:
    doc = make_document(session, ["Deux."], ["Two."])
    seg_id = segments(client, doc.id)[0]["id"]
    client.patch(f"/api/segments/{seg_id}/translation", json={"text": "Two!"})
    client.patch(f"/api/segments/{seg_id}/translation", json={"text": "Two!!"})
    assert client.post(f"/api/segments/{seg_id}/undo").json()["translation"] == "Two!"
    assert client.post(f"/api/segments/{seg_id}/undo").json()["translation"] == "Two."
    nothing = client.post(f"/api/segments/{seg_id}/undo")
    assert nothing.status_code == 422
    assert nothing.json()["message"] == "There is nothing to undo on this segment."


def test_approving_a_segment_a_page_and_a_document(client: TestClient, session: Session) -> None:
    doc = make_document(session, ["A.", "B.", "C."], ["A.", "B.", None], pages=2)
    segs = segments(client, doc.id)
    assert client.post(f"/api/segments/{segs[0]['id']}/approve").json() == {"approved": 1}
    assert client.post(f"/api/segments/{segs[0]['id']}/approve").json() == {"approved": 0}
    detail = client.get(f"/api/documents/{doc.id}").json()
    page_two = detail["pages"][1]["id"]
    assert client.post(f"/api/pages/{page_two}/approve").json() == {"approved": 1}
    statuses = [s["translation"] and s["translation"]["status"] for s in segments(client, doc.id)]
    assert statuses == ["approved", None, "approved"]  # page 1: A, C; page 2: B
    assert client.post(f"/api/documents/{doc.id}/approve").json() == {"approved": 0}


def test_annotations_tag_spans_and_can_be_filtered(client: TestClient, session: Session) -> None:
    doc = make_document(
        session, ["Voltaire vint à Paris en 1778."], ["Voltaire came to Paris in 1778."]
    )
    seg_id = segments(client, doc.id)[0]["id"]
    person = client.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "source", "start": 0, "end": 8, "type": "person"},
    )
    assert person.status_code == 201 and person.json()["text"] == "Voltaire"
    place = client.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "translation", "start": 17, "end": 22, "type": "place"},
    )
    assert place.json()["text"] == "Paris"
    listed = client.get(f"/api/documents/{doc.id}/annotations?type=place").json()
    assert [(a["text"], a["layer"], a["page"]) for a in listed] == [("Paris", "translation", 1)]
    outside = client.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "source", "start": 20, "end": 99, "type": "date"},
    )
    assert outside.status_code == 422 and "outside the source text" in outside.json()["message"]
    empty_note = client.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "source", "start": 0, "end": 3, "type": "note"},
    )
    assert empty_note.status_code == 422
    assert client.delete(f"/api/annotations/{person.json()['id']}").status_code == 204
    assert len(client.get(f"/api/documents/{doc.id}/annotations").json()) == 1


def test_search_finds_sources_and_translations_with_their_language_rules(
    client: TestClient, session: Session
) -> None:
    fr = make_document(
        session,
        ["Les rois de France régnèrent longtemps."],
        ["The kings of France reigned long."],
        title="Chronique",
    )
    make_document(
        session,
        ["Der König ritt nach Wien."],
        ["The king rode to Vienna."],
        source_lang="de",
        title="Reise",
    )
    hits = client.get("/api/search", params={"q": "régner"}).json()  # French stem: régnèrent
    assert [(h["document_title"], h["layer"]) for h in hits] == [("Chronique", "source")]
    assert hits[0]["url"] == f"/documents/{fr.id}?page=1#seg-{hits[0]['segment_id']}"
    kings = client.get("/api/search", params={"q": "king"}).json()  # English: kings → king
    assert sorted(h["document_title"] for h in kings) == ["Chronique", "Reise"]
    assert all(h["layer"] == "translation" for h in kings)
    assert client.get("/api/search", params={"q": "'); DROP TABLE segments; --"}).status_code == 200


def test_search_matches_the_diplomatic_and_normalised_forms_and_ignores_untyped_accents(
    client: TestClient, session: Session
) -> None:
    make_document(
        session,
        ["Die Wüſte iſt groß und leer.", "Ein Fremder kam aus der Wüſte."],
        ["The desert is big and empty.", "A stranger came from the desert."],
        source_lang="de",
        title="Reise",
    )
    make_document(
        session,
        ["El Real Sitio de Aranjuez.", "Don Román escribió al rey."],
        ["The Royal Site of Aranjuez.", "Don Román wrote to the king."],
        source_lang="es",
        title="Cartas",
    )
    make_document(session, ["Le Roman de la Rose."], ["The Romance of the Rose."], title="Rose")

    def found(q: str) -> list[tuple[str, str, str]]:
        hits = client.get("/api/search", params={"q": q}).json()
        return sorted((h["document_title"], h["layer"], h["form"]) for h in hits)

    # As the page shows it (long s), and as it reads: the same two segments.
    assert found("Wüſte") == [("Reise", "source", "diplomatic")] * 2
    assert found("Wüste") == [("Reise", "source", "normalised")] * 2
    assert found("Wuste") == [("Reise", "source", "without accents")] * 2
    # No accent typed: accented words count; an accent typed must be there.
    assert found("Roman") == [
        ("Cartas", "source", "without accents"),
        ("Cartas", "translation", "without accents"),
        ("Rose", "source", "diplomatic"),
    ]
    assert found("Román") == [
        ("Cartas", "source", "diplomatic"),
        ("Cartas", "translation", "translation"),
    ]
    page = client.get("/search", params={"q": "Roman"}).text
    assert "source, without accents" in page and "source, diplomatic form" in page


def test_edits_of_missing_things_are_404(client: TestClient) -> None:
    assert client.patch("/api/segments/999/source", json={"text": "x"}).status_code == 404
    assert client.post("/api/segments/999/approve").status_code == 404
    assert client.get("/api/documents/999/annotations").status_code == 404
