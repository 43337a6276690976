"""JSON API of translation: runs, re-translation, model comparison, glossaries, OCR corrections."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from service.deps import ReviewerDep, SessionDep
from service.documents import service as documents
from service.documents.models import PROSE_KINDS, Document, Segment
from service.errors import InvalidInput, NotFound
from service.jobs import translate_steps
from service.jobs.queue import enqueue
from service.jobs.steps import Step, TaskName
from service.translation import compare, corrections, glossary, runs
from service.translation.models import RunPurpose, TranslationRun
from service.translation.schemas import (
    CellRead,
    CollectionCreate,
    CollectionRead,
    ComparisonCreate,
    ComparisonCreated,
    ComparisonRead,
    CorrectionRead,
    GlossaryEntryRead,
    GlossaryEntryWrite,
    Retranslate,
    RowRead,
    RunCreate,
    RunRead,
    RunStatsRead,
)

router = APIRouter(prefix="/api", tags=["translation"])


def _start(session: SessionDep, started: list[TranslationRun]) -> list[RunRead]:
    """Commit the new runs, then queue their planning (never before the rows exist)."""
    session.commit()
    enqueue(Step(TaskName.PLAN_TRANSLATION_RUN, (run.id,)) for run in started)
    return [RunRead.model_validate(run) for run in started]


def _own_model(
    document: Document, backend: str | None, model: str | None
) -> tuple[str | None, str | None]:
    if backend or model:
        return backend, model
    return document.backend, document.model


@router.post("/documents/{document_id}/translation-runs", status_code=202, response_model=RunRead)
def create_run(session: SessionDep, document_id: int, body: RunCreate) -> RunRead:
    """Translate (or correct) a document, a page range or chosen segments with one model."""
    document = documents.get_or_raise(session, document_id)
    backend, model = _own_model(document, body.backend, body.model)
    if body.with_images:  # a vision model, not the document's translation model
        backend, model = body.backend, body.model
    request = runs.RunRequest(
        backend,
        model,
        body.page_from,
        body.page_to,
        body.segment_ids,
        body.force,
        body.kind,
        with_images=body.with_images,
    )
    return _start(session, [runs.create(session, document, request)])[0]


@router.get("/documents/{document_id}/translation-runs", response_model=list[RunRead])
def list_runs(session: SessionDep, document_id: int) -> list[RunRead]:
    """A document's runs, oldest first."""
    documents.get_or_raise(session, document_id)
    return [RunRead.model_validate(r) for r in runs.for_document(session, document_id)]


@router.get("/translation-runs/{run_id}", response_model=RunRead)
def get_run(session: SessionDep, run_id: int) -> RunRead:
    """A run and its progress."""
    return RunRead.model_validate(runs.get_or_raise(session, run_id))


@router.post("/translation-runs/{run_id}/cancel", response_model=RunRead)
def cancel_run(session: SessionDep, author: ReviewerDep, run_id: int) -> RunRead:
    """Stop a run (one waiting for its model too): what it translated so far is kept, its
    other segments are skipped; a document's own run finishes the document as it stands."""
    documents.get_or_raise(session, runs.get_or_raise(session, run_id).document_id)
    steps = translate_steps.cancel_run(session, run_id, author.name)
    session.commit()
    enqueue(steps)
    return RunRead.model_validate(runs.get_or_raise(session, run_id))


@router.post("/documents/{document_id}/cancel-translation", status_code=204)
def cancel_document_translation(session: SessionDep, author: ReviewerDep, document_id: int) -> None:
    """Stop the document's own translation, also while it waits to be planned."""
    documents.get_or_raise(session, document_id)
    steps = translate_steps.cancel_document_translation(session, document_id, author.name)
    session.commit()
    enqueue(steps)


@router.post("/segments/{segment_id}/retranslate", status_code=202, response_model=RunRead)
def retranslate_segment(
    session: SessionDep, segment_id: int, body: Annotated[Retranslate | None, Body()] = None
) -> RunRead:
    """Translate one segment again (after its OCR text was corrected, or with another model)."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"Segment {segment_id} does not exist.")
    document = documents.get_or_raise(session, segment.document_id)
    if segment.kind not in PROSE_KINDS:
        kind = segment.kind.value.replace("_", " ")
        raise InvalidInput(
            f"Segment {segment_id} is a {kind}: page furniture is kept as it is, not translated."
        )
    choice = body or Retranslate()
    backend, model = _own_model(document, choice.backend, choice.model)
    request = runs.RunRequest(backend, model, segment_ids=[segment_id], force=True)
    return _start(session, [runs.create(session, document, request)])[0]


@router.post("/documents/{document_id}/retranslate-stale", status_code=202, response_model=RunRead)
def retranslate_stale(
    session: SessionDep, document_id: int, body: Annotated[Retranslate | None, Body()] = None
) -> RunRead:
    """Translate again every segment whose source changed since it was translated."""
    document = documents.get_or_raise(session, document_id)
    stale = runs.stale_segment_ids(session, document_id)
    if not stale:
        raise InvalidInput(f"No translation of document {document_id} is stale.")
    choice = body or Retranslate()
    backend, model = _own_model(document, choice.backend, choice.model)
    request = runs.RunRequest(backend, model, segment_ids=stale)
    return _start(session, [runs.create(session, document, request)])[0]


@router.post(
    "/documents/{document_id}/comparisons", status_code=202, response_model=ComparisonCreated
)
def create_comparison(
    session: SessionDep, document_id: int, body: ComparisonCreate
) -> ComparisonCreated:
    """Translate the same pages with two or more models, one run each."""
    document = documents.get_or_raise(session, document_id)
    started = [
        runs.create(
            session,
            document,
            runs.RunRequest(
                m.backend, m.model, body.page_from, body.page_to, purpose=RunPurpose.COMPARE
            ),
        )
        for m in body.models
    ]
    created = _start(session, started)
    ids = ",".join(str(r.id) for r in created)
    return ComparisonCreated(
        runs=created,
        url=f"/documents/{document_id}/compare?runs={ids}",
        api_url=f"/api/documents/{document_id}/comparison?runs={ids}",
    )


def parse_run_ids(value: str) -> list[int]:
    """Run ids from `1,2,3`."""
    try:
        ids = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise InvalidInput("runs must be comma-separated run ids, e.g. 3,4") from exc
    if not ids:
        raise InvalidInput("Give the ids of the runs to compare, e.g. ?runs=3,4")
    return ids


@router.get("/documents/{document_id}/comparison", response_model=ComparisonRead)
def get_comparison(
    session: SessionDep, document_id: int, runs_param: Annotated[str, Query(alias="runs")]
) -> ComparisonRead:
    """Figures per run and the compared segments side by side."""
    documents.get_or_raise(session, document_id)
    result = compare.compare(session, document_id, parse_run_ids(runs_param))
    return ComparisonRead(
        document_id=document_id,
        runs=[RunStatsRead(run=RunRead.model_validate(s.run), **_figures(s)) for s in result.stats],
        rows=[_row(row) for row in result.rows],
    )


def _figures(stats: compare.RunStats) -> dict[str, object]:
    return {k: v for k, v in vars(stats).items() if k != "run"}


def _row(row: compare.Row) -> RowRead:
    cells = []
    for cell in row.cells:
        t = cell.translation
        cells.append(
            CellRead(
                run_id=cell.run_id,
                status=cell.item.status if cell.item else None,
                text=cell.text or None,
                reused=cell.reused,
                error=(t.error if t is not None else None)
                or (cell.item.note if cell.item else None),
                fallbacks=t.fallbacks if t is not None else [],
                flags=t.flags if t is not None else [],
                from_memory=t is not None and t.memory_id is not None,
            )
        )
    return RowRead(
        segment_id=row.segment.id, page=row.page, source=row.segment.normalized, cells=cells
    )


@router.post("/collections", status_code=201, response_model=CollectionRead)
def create_collection(session: SessionDep, body: CollectionCreate) -> CollectionRead:
    """A new collection; its documents share a glossary."""
    collection = glossary.create_collection(session, body.name, body.description)
    session.commit()
    return CollectionRead.model_validate(collection)


@router.get("/collections/{collection_id}/glossary", response_model=list[GlossaryEntryRead])
def get_glossary(session: SessionDep, collection_id: int) -> list[GlossaryEntryRead]:
    """A collection's glossary."""
    documents.get_collection_or_raise(session, collection_id)
    return [
        GlossaryEntryRead.model_validate(e) for e in glossary.list_entries(session, collection_id)
    ]


@router.put("/collections/{collection_id}/glossary", response_model=GlossaryEntryRead)
def put_glossary_entry(
    session: SessionDep, collection_id: int, body: GlossaryEntryWrite
) -> GlossaryEntryRead:
    """Add a term, or change its agreed rendering."""
    entry = glossary.put_entry(session, collection_id, body.term, body.translation, body.note)
    session.commit()
    return GlossaryEntryRead.model_validate(entry)


@router.delete("/collections/{collection_id}/glossary/{entry_id}", status_code=204)
def delete_glossary_entry(session: SessionDep, collection_id: int, entry_id: int) -> None:
    """Remove a term from the glossary."""
    glossary.delete_entry(session, collection_id, entry_id)
    session.commit()


class CollectionChoice(BaseModel):
    """The collection a document belongs to (null for none)."""

    collection_id: int | None


@router.put("/documents/{document_id}/collection", response_model=CollectionChoice)
def set_collection(
    session: SessionDep, document_id: int, body: CollectionChoice
) -> CollectionChoice:
    """Put a document in a collection, so its glossary applies to the next translations."""
    glossary.assign_collection(
        session, documents.get_or_raise(session, document_id), body.collection_id
    )
    session.commit()
    return body


@router.get("/documents/{document_id}/corrections", response_model=list[CorrectionRead])
def get_corrections(session: SessionDep, document_id: int) -> list[CorrectionRead]:
    """Each segment's OCR text beside the model's proposed correction, as a word diff."""
    documents.get_or_raise(session, document_id)
    return [_correction(item) for item in corrections.for_document(session, document_id)]


def _correction(item: corrections.CorrectedSegment) -> CorrectionRead:
    c = item.correction
    return CorrectionRead(
        segment_id=item.segment.id,
        page=item.page,
        ocr=item.segment.normalized,
        corrected=c.text if c is not None and not c.failed else None,
        changed=item.changed,
        stale=item.stale,
        error=c.error if c is not None else None,
        backend=c.backend if c is not None else None,
        model=c.model if c is not None else None,
        diff=[(op.value, text) for op, text in item.diff],
        flags=c.flags if c is not None else [],
    )
