"""The HTML pages: list, upload form, side-by-side view, progress partial."""

from __future__ import annotations

import re

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.support.helpers import authed_client, encode, make_document, text_image


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


def test_the_document_page_shows_source_and_translation_side_by_side(
    client: TestClient, session: Session
) -> None:
    document = make_document(
        session, ["Le roi est mort.", "Vive le roi !"], ["The king is dead.", "Long live the king!"]
    )
    html = client.get(f"/documents/{document.id}").text
    rows = re.findall(r'<article class="segment.*?</article>', html, re.S)
    assert len(rows) == 2
    assert "Le roi est mort." in rows[0] and "The king is dead." in rows[0]
    assert "Vive le roi !" in rows[1] and "Long live the king!" in rows[1]
    assert f'action="/api/documents/{document.id}/export"' in html
    assert '<option value="tei">' in html and '<option value="page">' in html


def test_ocr_and_model_text_is_escaped(client: TestClient, session: Session) -> None:
    document = make_document(
        session,
        ['</td><script>alert("ocr")</script>'],
        ['<img src=x onerror=alert("model")>'],
        title="<b>Title</b>",
    )
    html = client.get(f"/documents/{document.id}").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "&lt;b&gt;Title&lt;/b&gt;" in client.get("/").text


def test_the_list_shows_every_document_with_its_status(
    client: TestClient, session: Session
) -> None:
    make_document(session, ["a"], title="Registre 1781")
    html = client.get("/").text
    assert "Registre 1781" in html and "status-done" in html


def test_upload_form_posts_and_redirects_to_the_document(client: TestClient) -> None:
    form = client.get("/documents/new").text
    assert 'name="files"' in form and 'value="de-Latf"' in form
    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/documents",
        data={"source_lang": "en", "target_lang": "fr"},
        files=[("files", ("page.png", png, "image/png"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "page" in page.text
    document_id = response.headers["location"].rsplit("/", 1)[1]
    assert f'data-live-url="/documents/{document_id}/live"' in page.text  # follows its work


def test_upload_form_shows_every_refused_file(client: TestClient) -> None:
    response = client.post(
        "/documents",
        data={"source_lang": "fr", "target_lang": "en"},
        files=[("files", ("blank.png", b"", "image/png"))],
    )
    assert response.status_code == 422
    assert "blank.png: The file is empty." in response.text


def test_progress_partial_reports_each_stage(client: TestClient, session: Session) -> None:
    document = make_document(session, ["a"])
    html = client.get(f"/documents/{document.id}/progress").text
    for stage in ("ingest", "ocr", "translate", "finalize"):
        assert f'<span class="stage-name">{stage}</span>' in html
    assert 'data-final="true"' in html


def test_pages_load_nothing_from_other_origins(client: TestClient, session: Session) -> None:
    document = make_document(session, ["a"])
    for url in ["/", "/documents/new", f"/documents/{document.id}"]:
        html = client.get(url).text
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert external == [], (url, external)
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_a_long_book_is_paged_one_page_at_a_time(client: TestClient, session: Session) -> None:
    document = make_document(session, [f"Paragraphe {i}." for i in range(6)], pages=3)
    first = client.get(f"/documents/{document.id}").text
    assert "Paragraphe 0." in first and "Paragraphe 3." in first
    assert "Paragraphe 1." not in first  # page 2's text is not sent with page 1
    second = client.get(f"/documents/{document.id}?page=2").text
    assert "Paragraphe 1." in second and "Paragraphe 4." in second
    assert 'rel="prev" href="?page=1"' in second and 'rel="next" href="?page=3"' in second
    assert "of 3" in second
    beyond = client.get(f"/documents/{document.id}?page=9").text
    assert "Paragraphe 2." in beyond  # clamped to the last page


def test_low_confidence_words_and_annotations_are_marked(
    client: TestClient, session: Session
) -> None:
    from service.documents.models import Segment
    from service.review.models import Annotation, AnnotationLayer, AnnotationType

    document = make_document(session, ["Le roy vint"], ["The king came"])
    segment = session.query(Segment).one()
    segment.lines = [
        {
            "bbox": [0, 0, 9, 9],
            "text": "Le roy vint",
            "words": [
                {"text": "Le", "bbox": [0, 0, 1, 1], "conf": 95.0},
                {"text": "roy", "bbox": [0, 0, 1, 1], "conf": 31.0},
                {"text": "vint", "bbox": [0, 0, 1, 1], "conf": 90.0},
            ],
        }
    ]
    session.add(
        Annotation(
            segment_id=segment.id,
            layer=AnnotationLayer.TRANSLATION,
            start=4,
            end=8,
            type=AnnotationType.PERSON,
            body="Louis XV",
        )
    )
    session.commit()
    html = client.get(f"/documents/{document.id}").text
    assert '<span class="low-conf" title="OCR confidence 31 %">roy</span>' in html
    assert '<span class="ann ann-person" title="person: Louis XV">king</span>' in html
    # A tag over a doubtful word: the word carries both marks, the rest of the tag one.
    session.add(
        Annotation(
            segment_id=segment.id,
            layer=AnnotationLayer.SOURCE,
            start=0,
            end=6,
            type=AnnotationType.PERSON,
        )
    )
    session.commit()
    html = client.get(f"/documents/{document.id}").text
    assert (
        '<span class="ann ann-person" title="person">Le </span>'
        '<span class="low-conf ann ann-person" title="OCR confidence 31 %; person">roy</span> vint'
    ) in html


def test_low_confidence_marks_follow_corrections(client: TestClient, session: Session) -> None:
    from service.documents.models import Segment

    document = make_document(session, ["Le roy vint", "Il part"], ["The king came", "He goes"])
    first, second = session.query(Segment).order_by(Segment.position).all()
    for segment, words in ((first, {"Le": 95, "roy": 20, "vint": 90}), (second, {"Il": 10})):
        segment.lines = [
            {"text": segment.text, "words": [{"text": w, "conf": c} for w, c in words.items()]}
        ]
    session.commit()
    html = client.get(f"/documents/{document.id}").text
    assert '<span class="low-conf" title="OCR confidence 20 %">roy</span>' in html
    assert '<span class="low-conf" title="OCR confidence 10 %">Il</span> part' in html
    # A corrected text no longer matches the boxes: nothing is marked on it any more.
    first.text = "Le roi vint"
    session.commit()
    html = client.get(f"/documents/{document.id}").text
    assert "roi vint</div>" in html and "OCR confidence 20 %" not in html


def test_words_imported_without_confidence_are_shown_unmarked(
    client: TestClient, session: Session
) -> None:
    from service.documents.models import Segment

    document = make_document(session, ["Le roy"], ["The king"])
    segment = session.query(Segment).one()
    words = [{"text": "Le", "conf": None}, {"text": "roy"}]
    segment.lines = [{"text": "Le roy", "words": words}]
    session.commit()
    html = client.get(f"/documents/{document.id}").text
    assert 'data-layer="source">Le roy</div>' in html


def test_a_segment_row_can_be_fetched_alone(client: TestClient, session: Session) -> None:
    document = make_document(session, ["Seul.", "Ensemble."], ["Alone.", "Together."])
    segment_id = client.get(f"/api/documents/{document.id}/segments").json()[1]["id"]
    html = client.get(f"/segments/{segment_id}/row").text
    assert html.strip().startswith("<article") and "Together." in html
    assert html.count("<article") == 1 and "Alone." not in html
    assert f'data-segment-id="{segment_id}"' in html


def test_a_row_whose_transcription_changed_after_its_translation_shows_stale(
    client: TestClient, session: Session
) -> None:
    document = make_document(
        session, ["Le roy est mort.", "Vive le roy !"], ["The king is dead.", None]
    )
    first = client.get(f"/api/documents/{document.id}/segments").json()[0]
    response = client.patch(
        f"/api/segments/{first['id']}/source", json={"text": "Le roi est mort.", "version": 1}
    )
    assert response.status_code == 200, response.text
    html = client.get(f"/documents/{document.id}").text
    statuses = re.findall(r'<article class="segment status-(\w+)', html)
    assert statuses == ["stale", "untranslated"]
    assert html.count('class="stale-note"') == 1
    row = client.get(f"/segments/{first['id']}/row").text
    assert 'data-status="stale"' in row and "Translate it again" in row
    client.patch(
        f"/api/segments/{first['id']}/translation",
        json={"text": "The king is dead.", "version": 1},
    )
    row = client.get(f"/segments/{first['id']}/row").text
    assert 'data-status="edited"' in row and "stale-note" not in row


def test_the_dashboard_shows_progress_failures_and_a_retry(
    client: TestClient, session: Session
) -> None:
    from service.documents.models import DocumentStatus

    failed = make_document(session, ["a"], title="Registre")
    failed.status = DocumentStatus.PARTIAL
    failed.error = "page 2: The image cannot be decoded"
    session.commit()
    html = client.get("/").text
    assert "Registre" in html and "page 2: The image cannot be decoded" in html
    assert f'action="/documents/{failed.id}/retry"' in html
    assert 'data-poll-url="/documents/table"' in html
    table = client.get("/documents/table").text
    assert 'data-final="true"' in table and "Registre" in table


def test_retry_requeues_what_failed(client: TestClient, session: Session, redis_client) -> None:  # type: ignore[no-untyped-def]
    from service.documents.models import DocumentStatus, OcrStatus, Page

    document = make_document(session, ["a"], pages=2)
    page = session.query(Page).filter_by(number=2).one()
    page.ocr_status, page.ocr_error = OcrStatus.FAILED, "Tesseract took longer than 300 s."
    document.status = DocumentStatus.PARTIAL
    session.commit()
    response = client.post(f"/api/documents/{document.id}/retry")
    assert response.status_code == 202 and response.json()["status"] == "processing"
    queued = list(redis_client.lrange("ocr", 0, -1))
    assert len(queued) == 1 and f"[{page.id}]".encode() in queued[0]
    again = client.post(f"/api/documents/{document.id}/retry")
    assert again.status_code == 422  # it is processing, not finished with failures


def test_search_page_highlights_escaped_matches(client: TestClient, session: Session) -> None:
    make_document(
        session,
        ["Le parlement & la cour <img src=x onerror=alert(1)>"],
        ["The parliament"],
        title="Arrêt",
    )
    html = client.get("/search", params={"q": "parlement"}).text
    assert "Arrêt, page 1" in html
    assert "<mark>parlement</mark> &amp; la cour &lt;img src=x" in html
    assert "<img src=x" not in html


def test_a_zip_of_scans_becomes_one_document_with_a_file_each(client: TestClient) -> None:
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("folio10.png", encode(text_image([["Ten"]]), "PNG"))
        z.writestr("folio2.png", encode(text_image([["Two"]]), "PNG"))
        z.writestr("__MACOSX/._folio2.png", b"junk")
        z.writestr("notes.txt", b"not a scan")
    response = client.post(
        "/api/documents",
        data={"source_lang": "en", "target_lang": "fr"},
        files=[("files", ("folios.zip", archive.getvalue(), "application/zip"))],
    )
    assert response.status_code == 202
    files = response.json()["files"]
    assert [f["filename"] for f in files] == [
        "folios.zip › folio2.png",
        "folios.zip › folio10.png",
        "folios.zip › notes.txt",
    ]
    assert files[2]["status"] == "failed" and "looks like text" in files[2]["error"]


def test_upload_form_offers_collections_and_available_models(
    client: TestClient, session: Session
) -> None:
    from service.documents.models import Collection

    session.add(Collection(name="Ratsprotokolle"))
    session.commit()
    form = client.get("/documents/new").text
    assert '<option value="Ratsprotokolle">' in form
    assert "Ollama at http://127.0.0.1:9: not answering" in form
    assert 'value="embedded|"' in form
    png = encode(text_image([["Hello"]]), "PNG")
    response = client.post(
        "/documents",
        data={
            "source_lang": "en",
            "target_lang": "fr",
            "collection": "Ratsprotokolle",
            "backend_model": "embedded|",
        },
        files=[("files", ("page.png", png, "image/png"))],
        follow_redirects=False,
    )
    assert response.status_code == 303
    detail = client.get("/api/documents").json()[0]
    document = client.get(f"/api/documents/{detail['id']}").json()
    assert document["backend"] == "embedded"


def test_a_collection_glossary_is_edited_on_its_page(client: TestClient, session: Session) -> None:
    created = client.post(
        "/collections",
        data={"name": "Ratsprotokolle", "description": "1780–1800"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = created.headers["location"]
    added = client.post(
        f"{page}/glossary",
        data={"term": "Schultheiß", "translation": "mayor", "note": "not 'bailiff'"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    html = client.get(page).text
    assert "Schultheiß" in html and 'value="mayor"' in html and "not &#39;bailiff&#39;" in html
    # Adding the term again asks before replacing its agreed translation.
    again = {"term": "Schultheiß", "translation": "chief magistrate"}
    asked = client.post(f"{page}/glossary", data=again)
    assert asked.status_code == 409
    assert "is in the glossary already, as “mayor”" in asked.text
    assert 'name="replace" value="true"' in asked.text
    entries = client.get(f"/api{page}/glossary").json()
    assert [(e["term"], e["translation"]) for e in entries] == [("Schultheiß", "mayor")]
    client.post(f"{page}/glossary", data=again | {"replace": "true"})
    entries = client.get(f"/api{page}/glossary").json()
    assert [(e["term"], e["translation"]) for e in entries] == [("Schultheiß", "chief magistrate")]
    client.post(f"{page}/glossary/{entries[0]['id']}/delete")
    assert client.get(f"/api{page}/glossary").json() == []
    assert "Ratsprotokolle" in client.get("/collections").text
    stranger = authed_client("editor")
    assert stranger.get(page).status_code == 404
    assert "Ratsprotokolle" not in stranger.get("/collections").text


def test_the_review_page_offers_retranslation_and_comparison(
    client: TestClient, session: Session
) -> None:
    document = make_document(session, ["Un.", "Deux."], ["One.", "Two."])
    html = client.get(f"/documents/{document.id}").text
    assert 'id="retranslate"' in html and 'id="compare"' in html
    assert 'value="embedded|"' in html  # the models really available
    assert html.count('data-action="retranslate"') == 2  # one per prose row
    assert 'data-retranslate-url="/api/segments/{id}/retranslate"' in html


def test_the_progress_panel_lists_other_runs_and_links_the_comparison(
    client: TestClient, session: Session
) -> None:
    from service.translation.models import RunKind, RunPurpose, RunStatus, TranslationRun

    document = make_document(session, ["Un."], ["One."])
    for model in ("llama3.2:3b", "deepseek-r1:1.5b"):
        session.add(
            TranslationRun(
                document_id=document.id,
                kind=RunKind.TRANSLATE,
                purpose=RunPurpose.COMPARE,
                status=RunStatus.RUNNING,
                requested_backend="ollama",
                model=model,
                total=1,
            )
        )
    session.commit()
    html = client.get(f"/documents/{document.id}/progress").text
    assert "deepseek-r1:1.5b" in html and "llama3.2:3b" in html
    assert 'data-final="false"' in html  # keeps polling while the runs work
    assert f"/documents/{document.id}/compare?runs=1,2" in html


def test_annotations_are_listed_and_filtered_on_their_own_page(
    client: TestClient, session: Session
) -> None:
    document = make_document(session, ["Voltaire vint à Paris."], ["Voltaire came to Paris."])
    seg_id = client.get(f"/api/documents/{document.id}/segments").json()[0]["id"]
    client.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "source", "start": 0, "end": 8, "type": "person"},
    )
    client.post(
        f"/api/segments/{seg_id}/annotations",
        json={"layer": "translation", "start": 17, "end": 22, "type": "place", "body": "<b>"},
    )
    html = client.get(f"/documents/{document.id}/annotations").text
    assert html.count('class="ann-row') == 2 and "Voltaire" in html and "&lt;b&gt;" in html
    places = client.get(f"/documents/{document.id}/annotations?type=place").text
    assert places.count('class="ann-row') == 1 and "Paris" in places
    assert f'href="/documents/{document.id}?page=1#seg-{seg_id}"' in places
