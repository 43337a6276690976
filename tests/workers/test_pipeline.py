"""Pipeline steps called directly, on real Postgres, Tesseract and the Ollama stand-in."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents import service as documents
from service.documents.models import Document, DocumentStatus, FileStatus, OcrStatus, Page, Segment
from service.jobs import pipeline, translate_steps
from service.jobs import service as jobs
from service.jobs.models import JobStage, JobStatus
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.translation import runs
from service.translation.models import Translation, TranslationStatus
from tests.fakes.ollama_server import FakeOllama, fake_translation
from tests.support.helpers import encode, text_image

FRENCH = [
    ["Le conseil de la ville s'est assemblé", "le premier jour du mois de mai."],
    ["On a résolu de réparer le pont", "avant l'hiver prochain."],
]


def upload(files: list[tuple[str, bytes]], **spec: Any) -> int:
    ctx = pipeline.default_context()
    options = {
        "title": "Délibérations",
        "source_lang": "fr",
        "target_lang": "en",
        "backend": "ollama",
        "model": "llama3.2:3b",
    } | spec
    with unit_of_work() as session:
        document = documents.create(
            session,
            ctx.storage,
            documents.NewDocument(**options),
            [documents.Upload(name, io.BytesIO(data)) for name, data in files],
            ctx.settings.max_upload_bytes,
        )
        return document.id


def french_png() -> bytes:
    return encode(text_image(FRENCH), "PNG")


def translations(session: Session, document_id: int) -> list[Translation]:
    return list(session.scalars(select(Translation).where(Translation.document_id == document_id)))


def test_a_document_goes_from_scan_to_aligned_translation(
    ollama: FakeOllama, session: Session
) -> None:
    document_id = upload([("deliberations.png", french_png())])
    run_inline(pipeline.default_context(), pipeline.start(document_id))

    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.DONE
    segments = session.scalars(select(Segment).order_by(Segment.position)).all()
    assert len(segments) == 2
    assert "conseil" in segments[0].normalized and "pont" in segments[1].normalized
    by_segment = {t.segment_id: t for t in translations(session, document_id)}
    for segment in segments:
        translation = by_segment[segment.id]
        assert translation.text == fake_translation(segment.normalized)
        assert translation.status is TranslationStatus.MACHINE
        assert (translation.backend, translation.model) == ("ollama", "llama3.2:3b")
    stages = {j.stage: j for j in jobs.for_document(session, document_id)}
    assert all(j.status is JobStatus.DONE for j in stages.values())
    assert (stages[JobStage.OCR].done, stages[JobStage.OCR].total) == (1, 1)
    assert (stages[JobStage.TRANSLATE].done, stages[JobStage.TRANSLATE].total) == (2, 2)


def test_reading_a_page_twice_changes_nothing(ollama: FakeOllama, session: Session) -> None:
    document_id = upload([("p.png", french_png())], translate=False)
    ctx = pipeline.default_context()
    with unit_of_work() as s:
        steps = pipeline.ingest_document(s, ctx, document_id)
    assert [step.task for step in steps] == [TaskName.OCR_PAGE]
    page_id = steps[0].args[0]
    with unit_of_work() as s:
        first = pipeline.ocr_page(s, ctx, page_id)
    with unit_of_work() as s:
        second = pipeline.ocr_page(s, ctx, page_id)
    assert first == [Step(TaskName.FINALIZE_DOCUMENT, (document_id,))]
    assert second == []  # the stage already advanced: no duplicate fan-in
    assert session.scalar(select(func.count()).select_from(Segment)) == 2


def test_translating_a_batch_twice_calls_the_model_once(
    ollama: FakeOllama, session: Session
) -> None:
    document_id = upload([("p.png", french_png())])
    ctx = pipeline.default_context()
    run_inline(ctx, pipeline.start(document_id))
    calls = len(ollama.chats)
    segment_ids = list(session.scalars(select(Segment.id)))
    run = runs.primary(session, document_id)
    assert run is not None
    with unit_of_work() as s:
        again = translate_steps.translate_batch(s, ctx, run.id, segment_ids)
    assert again == []
    assert len(ollama.chats) == calls
    assert len(translations(session, document_id)) == 2


def test_bad_files_fail_alone_with_reasons(ollama: FakeOllama, session: Session) -> None:
    good_pdf = encode(text_image([["x"]]), "PDF")
    document_id = upload(
        [
            ("empty.png", b""),
            ("notes.txt", b"just some notes\n"),
            ("broken.pdf", good_pdf[: len(good_pdf) // 3]),
            ("deliberations.png", french_png()),
        ]
    )
    run_inline(pipeline.default_context(), pipeline.start(document_id))

    document = documents.get_or_raise(session, document_id)
    errors = {f.filename: f.error for f in document.files}
    assert errors["empty.png"] == "The file is empty."
    assert "looks like text" in (errors["notes.txt"] or "")
    assert "PDF cannot be read" in (errors["broken.pdf"] or "")
    assert errors["deliberations.png"] is None
    assert document.files[3].status is FileStatus.INGESTED
    assert document.status is DocumentStatus.PARTIAL
    assert "broken.pdf" in (document.error or "")
    assert len(translations(session, document_id)) == 2


def test_a_model_that_is_not_pulled_fails_segments_with_the_pull_command(
    ollama: FakeOllama, session: Session
) -> None:
    document_id = upload([("p.png", french_png())], model="mistral:7b")
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    rows = translations(session, document_id)
    assert len(rows) == 2
    assert all(t.status is TranslationStatus.FAILED for t in rows)
    assert all("ollama pull mistral:7b" in (t.error or "") for t in rows)
    document = session.get(Document, document_id)
    assert document is not None and document.status is DocumentStatus.PARTIAL
    translate_job = next(
        j for j in jobs.for_document(session, document_id) if j.stage is JobStage.TRANSLATE
    )
    assert "ollama pull mistral:7b" in (translate_job.error or "")


def test_an_unreachable_server_fails_the_batch_after_retries(session: Session) -> None:
    document_id = upload([("p.png", french_png())])  # OLLAMA_HOST points where nothing listens
    run_inline(pipeline.default_context(), pipeline.start(document_id), max_retries=0)
    rows = translations(session, document_id)
    assert rows and all(
        "Ollama is not running at http://127.0.0.1:9" in (t.error or "") for t in rows
    )
    page = session.scalars(select(Page)).one()
    assert page.ocr_status is OcrStatus.DONE  # the OCR result is kept


def test_a_page_that_cannot_be_decoded_fails_alone(ollama: FakeOllama, session: Session) -> None:
    pages = [text_image(FRENCH), text_image(FRENCH)]
    tiff = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    document_id = upload([("two-pages.tif", tiff)], translate=False)
    ctx = pipeline.default_context()
    with unit_of_work() as s:
        steps = pipeline.ingest_document(s, ctx, document_id)
    assert len(steps) == 2
    with unit_of_work() as s:
        pipeline.fail_page(s, steps[1].args[0], "Page 2 of the image cannot be decoded: test")
    run_inline(ctx, steps[:1])
    document = documents.get_or_raise(session, document_id)
    assert [p.ocr_status for p in document.pages] == [OcrStatus.DONE, OcrStatus.FAILED]
    assert document.status is DocumentStatus.PARTIAL
    assert "page 2: Page 2 of the image cannot be decoded" in (document.error or "")


def test_nul_characters_from_a_model_or_a_title_are_dropped_not_fatal(session: Session) -> None:
    from service.translation import service as translation
    from service.translation.batching import Outcome

    document_id = upload([("p.png", french_png())], title="Regi\x00ster", translate=False)
    run_inline(pipeline.default_context(), pipeline.start(document_id))
    segment = session.scalars(select(Segment)).first()
    assert segment is not None
    with unit_of_work() as s:
        document = documents.get_or_raise(s, document_id)
        run = runs.create(s, document, runs.RunRequest("ollama", "llama3.2:3b"))
        run.backend, run.model = "ollama", "llama3.2:3b"
        translation.store(s, run, [Outcome(segment.id, text="The\x00 council")])
    assert translations(session, document_id)[0].text == "The council"
    assert documents.get_or_raise(session, document_id).title == "Register"
