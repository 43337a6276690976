"""JSON API of transcription by hand: typed regions of a page, and the lines found on it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from service.deps import ReviewerDep, SessionDep, SettingsDep
from service.documents import service as documents
from service.documents.models import Page, Segment
from service.jobs.queue import enqueue
from service.jobs.steps import Step, TaskName
from service.review.schemas import ConflictRead
from service.transcription import layout, proposals, service
from service.transcription.models import TranscriptionProposal
from service.transcription.schemas import (
    DetectedLine,
    DetectedRegion,
    LineRead,
    ManualSegmentCreate,
    ManualSegmentRead,
    ManualSegmentUpdate,
    PageLinesRead,
    PageLinesUpdate,
    ProposalRead,
    ProposalRequest,
)

router = APIRouter(prefix="/api", tags=["transcription"])
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ConflictRead, "description": "Changed by someone else meanwhile"}
}


@router.post("/pages/{page_id}/segments", status_code=201, response_model=ManualSegmentRead)
def create_segment(
    session: SessionDep, author: ReviewerDep, page_id: int, body: ManualSegmentCreate
) -> ManualSegmentRead:
    """Add a region typed by hand (kind `manual`); a finished one is queued for translation."""
    saved = service.create(session, page_id, body, author)
    return _committed(session, saved)


@router.patch("/segments/{segment_id}", response_model=ManualSegmentRead, responses=CONFLICT)
def update_segment(
    session: SessionDep, author: ReviewerDep, segment_id: int, body: ManualSegmentUpdate
) -> ManualSegmentRead:
    """Change a typed region: its box, lines, text or draft state."""
    saved = service.update(session, segment_id, body, author)
    return _committed(session, saved)


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(session: SessionDep, segment_id: int) -> Response:
    """Delete a typed region with its translations and annotations."""
    service.delete_segment(session, segment_id)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/pages/{page_id}/lines",
    response_model=PageLinesRead,
    responses={202: {"model": PageLinesRead, "description": "Being found; ask again"}},
)
def page_lines(session: SessionDep, page_id: int, response: Response) -> PageLinesRead:
    """The text lines found on the page and not typed yet, grouped into regions."""
    page = documents.get_page_or_raise(session, page_id)
    if page.line_layout is None and (page.ocr_image_sha256 or page.image_sha256):
        response.status_code = 202
        response.headers["Retry-After"] = "2"
        enqueue([Step(TaskName.DETECT_LINES, (page.id,))])
        return _lines_read(session, page, ready=False)
    return _lines_read(session, page, ready=True)


@router.put("/pages/{page_id}/lines", response_model=PageLinesRead, responses=CONFLICT)
def save_lines(session: SessionDep, page_id: int, body: PageLinesUpdate) -> PageLinesRead:
    """Keep the editor's changes to the untyped regions (moved, resized, merged, deleted)."""
    page = layout.save(session, page_id, body.regions, body.version)
    session.commit()
    return _lines_read(session, page, ready=True)


@router.post("/pages/{page_id}/proposals", status_code=202, response_model=list[ProposalRead])
def ask_vision_model(
    session: SessionDep, settings: SettingsDep, page_id: int, body: ProposalRequest
) -> list[ProposalRead]:
    """Have a local vision model read the page's untyped and draft regions (or their lines);
    its proposals come as a layer of their own and never replace typed text."""
    asked = proposals.request(session, page_id, body, settings)
    session.commit()
    enqueue(proposals.steps(asked))
    return [_proposal_read(p) for p in asked]


@router.get("/pages/{page_id}/proposals", response_model=list[ProposalRead])
def page_proposals(session: SessionDep, page_id: int) -> list[ProposalRead]:
    """A page's proposals with their provenance (model, digest, time), newest first."""
    documents.get_page_or_raise(session, page_id)
    return [_proposal_read(p) for p in proposals.rows(session, page_id)]


def _proposal_read(proposal: TranscriptionProposal) -> ProposalRead:
    return ProposalRead.model_validate(proposal).model_copy(update={"bbox": proposal.bbox})


def _committed(session: Session, saved: service.Saved) -> ManualSegmentRead:
    """Commit, then queue the translation (never before its rows exist)."""
    session.commit()
    if saved.run is not None:
        enqueue([Step(TaskName.PLAN_TRANSLATION_RUN, (saved.run.id,))])
    return manual_read(session, saved.segment, saved)


def manual_read(
    session: Session, segment: Segment, saved: service.Saved | None = None
) -> ManualSegmentRead:
    """What the API answers about a typed region."""
    page = documents.get_page_or_raise(session, segment.page_id)
    finished, drafts = service.manual_counts(session, [page.id]).get(page.id, (0, 0))
    unclear = service.unclear_by_line(session, [segment])[segment.id]
    lines = [
        LineRead(
            bbox=tuple(line["bbox"]) if line.get("bbox") else None,
            text=str(line.get("text", "")),
            unclear=[(int(s), int(e)) for s, e in (unclear[i] if i < len(unclear) else [])],
            proposal_id=line.get("proposal"),
        )
        for i, line in enumerate(segment.lines or [])
    ]
    return ManualSegmentRead(
        id=segment.id,
        document_id=segment.document_id,
        page_id=page.id,
        page=page.number,
        position=segment.position,
        kind=segment.kind,
        bbox=segment.bbox,
        text=segment.text,
        normalized=segment.normalized,
        lines=lines,
        draft=segment.draft,
        version=segment.version,
        translation_queued=saved is not None and saved.run is not None,
        translation_run_id=saved.run.id if saved is not None and saved.run else None,
        translation_note=saved.note if saved is not None else None,
        page_status=page.ocr_status.value,
        page_status_text=service.status_text(page, finished, drafts),
        lines_version=int((page.line_layout or {}).get("version", 0)),
    )


def _lines_read(session: Session, page: Page, ready: bool) -> PageLinesRead:
    stored = page.line_layout or {}
    regions = [
        DetectedRegion(
            id=str(region.get("id", f"r{i + 1}")),
            bbox=tuple(region["bbox"]),
            lines=[DetectedLine(bbox=tuple(line["bbox"])) for line in region["lines"]],
        )
        for i, region in enumerate(layout.regions_of(page))
    ]
    return PageLinesRead(
        page_id=page.id,
        width=page.width,
        height=page.height,
        image_url=f"/api/pages/{page.id}/image?as_read=true",
        status="ready" if ready else "detecting",
        method=stored.get("method"),
        spacing=stored.get("spacing"),
        version=int(stored.get("version", 0)),
        regions=regions,
        lines=[line for region in regions for line in region.lines],
        typed=service.manual_ids(session, page.id),
    )
