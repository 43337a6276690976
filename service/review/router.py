"""JSON API of the review desk: edit, undo, history, approve, annotate, search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from service.deps import ReviewerDep, SessionDep
from service.documents import service as documents
from service.documents.models import Segment
from service.review import search as searching
from service.review import service
from service.review.models import Annotation, AnnotationLayer, AnnotationType
from service.review.schemas import (
    AnnotationCreate,
    AnnotationRead,
    Approved,
    ConflictRead,
    EditRead,
    SearchHitRead,
    SegmentState,
    SourceEdit,
    TranslationEdit,
)
from service.translation import shown
from service.translation.corrections import word_diff

router = APIRouter(prefix="/api", tags=["review"])
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ConflictRead, "description": "Changed by someone else meanwhile"}
}


def segment_state(session: Session, segment_id: int) -> SegmentState:
    """The segment's texts, versions and translation state after a change."""
    segment = documents.get_segment_or_raise(session, segment_id)
    translation = service.current_translation(session, segment_id)
    stale = translation is not None and shown.translation_stale(
        translation.status, translation.source_hash, segment.normalized
    )
    return SegmentState(
        id=segment.id,
        source=segment.text,
        normalized=segment.normalized,
        source_version=segment.version,
        translation_id=translation.id if translation else None,
        translation=translation.text if translation else None,
        translation_version=translation.version if translation else None,
        status=translation.status if translation else None,
        stale=stale,
    )


@router.patch("/segments/{segment_id}/source", response_model=SegmentState, responses=CONFLICT)
def edit_source(
    session: SessionDep, author: ReviewerDep, segment_id: int, edit: SourceEdit
) -> SegmentState:
    """Correct the transcription; the translation is then marked stale."""
    service.edit_source(session, segment_id, edit.text, edit.version, author)
    session.commit()
    return segment_state(session, segment_id)


@router.patch("/segments/{segment_id}/translation", response_model=SegmentState, responses=CONFLICT)
def edit_translation(
    session: SessionDep, author: ReviewerDep, segment_id: int, edit: TranslationEdit
) -> SegmentState:
    """Correct the translation (or write one where there is none)."""
    service.edit_translation(
        session, segment_id, edit.text, edit.version, author, edit.translation_id
    )
    session.commit()
    return segment_state(session, segment_id)


@router.post("/segments/{segment_id}/undo", response_model=SegmentState)
def undo(session: SessionDep, author: ReviewerDep, segment_id: int) -> SegmentState:
    """Revert the segment's latest edit."""
    service.undo(session, segment_id, author)
    session.commit()
    return segment_state(session, segment_id)


@router.get("/segments/{segment_id}/history", response_model=list[EditRead])
def history(session: SessionDep, segment_id: int) -> list[EditRead]:
    """Who changed what and when, newest first."""
    documents.get_segment_or_raise(session, segment_id)
    return [
        EditRead.model_validate(e).model_copy(
            update={"diff": [(op.value, text) for op, text in word_diff(e.before, e.after)]}
        )
        for e in service.history(session, segment_id)
    ]


@router.post("/segments/{segment_id}/approve", response_model=Approved)
def approve_segment(session: SessionDep, author: ReviewerDep, segment_id: int) -> Approved:
    """Approve the segment's translation."""
    documents.get_segment_or_raise(session, segment_id)
    count = service.approve(session, [segment_id], author)
    session.commit()
    return Approved(approved=count)


@router.post("/pages/{page_id}/approve", response_model=Approved)
def approve_page(session: SessionDep, author: ReviewerDep, page_id: int) -> Approved:
    """Approve every translated segment of a page."""
    documents.get_page_or_raise(session, page_id)
    count = service.approve(session, service.page_segment_ids(session, page_id), author)
    session.commit()
    return Approved(approved=count)


@router.post("/documents/{document_id}/approve", response_model=Approved)
def approve_document(session: SessionDep, author: ReviewerDep, document_id: int) -> Approved:
    """Approve every translated segment of a document."""
    documents.get_or_raise(session, document_id)
    ids = service.document_segment_ids(session, document_id)
    count = service.approve(session, ids, author)
    session.commit()
    return Approved(approved=count)


@router.post("/segments/{segment_id}/annotations", response_model=AnnotationRead, status_code=201)
def create_annotation(
    session: SessionDep, author: ReviewerDep, segment_id: int, body: AnnotationCreate
) -> AnnotationRead:
    """Tag a span of the source or the translation."""
    annotation = service.annotate(
        session, segment_id, body.layer, (body.start, body.end), body.type, body.body, author
    )
    session.commit()
    segment = documents.get_segment_or_raise(session, segment_id)
    return _annotation_read(session, annotation, segment, segment.page.number)


@router.delete("/annotations/{annotation_id}", status_code=204)
def delete_annotation(session: SessionDep, annotation_id: int) -> Response:
    """Remove an annotation."""
    service.delete_annotation(session, annotation_id)
    session.commit()
    return Response(status_code=204)


@router.get("/documents/{document_id}/annotations", response_model=list[AnnotationRead])
def list_annotations(
    session: SessionDep,
    document_id: int,
    type: Annotated[AnnotationType | None, Query()] = None,
    layer: Annotated[AnnotationLayer | None, Query()] = None,
) -> list[AnnotationRead]:
    """A document's annotations in reading order, filtered by type or layer."""
    documents.get_or_raise(session, document_id)
    rows = service.list_annotations(session, document_id, type, layer)
    return [_annotation_read(session, a, s, n) for a, s, n in rows]


def _annotation_read(
    session: Session, annotation: Annotation, segment: Segment, page: int
) -> AnnotationRead:
    text = service.layer_text(session, segment, annotation.layer)
    return AnnotationRead(
        id=annotation.id,
        segment_id=annotation.segment_id,
        page=page,
        layer=annotation.layer,
        start=annotation.start,
        end=annotation.end,
        type=annotation.type,
        body=annotation.body,
        author=annotation.author,
        author_id=annotation.author_id,
        text=text[annotation.start : annotation.end],
    )


@router.get("/search", response_model=list[SearchHitRead])
def search(
    session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=500)]
) -> list[SearchHitRead]:
    """Full-text search in sources and translations of every document."""
    return [
        SearchHitRead(
            document_id=h.document_id,
            document_title=h.document_title,
            page=h.page_number,
            segment_id=h.segment_id,
            layer=h.layer,
            form=h.form,
            excerpt=h.excerpt.replace(searching.HIGHLIGHT_START, "").replace(
                searching.HIGHLIGHT_END, ""
            ),
            url=f"/documents/{h.document_id}?page={h.page_number}#seg-{h.segment_id}",
        )
        for h in searching.search(session, q)
    ]
