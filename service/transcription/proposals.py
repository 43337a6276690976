"""Proposals of vision models: asked region by region (or line by line), listed per page.

A proposal is a layer of its own, keyed by page, box and model, so asking again is
harmless; the editor shows it beside the typed text and the transcriber takes it over
line by line or region by region. Nothing here writes a segment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import Settings, get_settings
from service.documents import service as documents
from service.documents.models import Page, Segment, SegmentKind
from service.errors import InvalidInput, PermanentError
from service.jobs.steps import Step, TaskName
from service.transcription import layout
from service.transcription.models import ProposalStatus, ProposalUnit, TranscriptionProposal
from service.transcription.schemas import ProposalRequest
from service.transcription.vision import BACKENDS, images, reading
from service.transcription.vision.prompts import PROMPT_VERSION

if TYPE_CHECKING:
    from service.jobs.context import Context

log = logging.getLogger(__name__)
BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Box:
    """A box to show the model, and the line boxes inside it."""

    bbox: BBox
    lines: list[BBox]


def request(
    session: Session, page_id: int, data: ProposalRequest, settings: Settings
) -> list[TranscriptionProposal]:
    """Pending proposals for the page's untyped and draft regions (or their lines); a box
    this model answered already keeps its answer unless `force`."""
    page = documents.get_page_or_raise(session, page_id)
    backend = data.backend or settings.vision_backend
    model = (data.model or settings.vision_model).strip()
    if not model:
        raise InvalidInput(
            "No vision model is configured: set PALIMPSEST_VISION_MODEL (for example "
            "qwen2.5vl:7b, pulled in Ollama) or send `model`."
        )
    if backend not in BACKENDS:
        raise InvalidInput(f"Unknown vision backend {backend!r}; choose ollama or openai.")
    boxes = _boxes(session, page, data.unit)
    if not boxes:
        raise InvalidInput(
            f"Page {page.number} has no untyped lines to read: find them first "
            f"(GET /api/pages/{page.id}/lines) or draw regions in the editor."
        )
    return [_asked(session, page, data.unit, box, backend, model, data.force) for box in boxes]


def _boxes(session: Session, page: Page, unit: ProposalUnit) -> list[Box]:
    regions = [
        Box(tuple(r["bbox"]), [tuple(line["bbox"]) for line in r["lines"]])
        for r in layout.regions_of(page)
    ]
    drafts = session.scalars(
        select(Segment).where(
            Segment.page_id == page.id, Segment.kind == SegmentKind.MANUAL, Segment.draft
        )
    )
    for segment in drafts:
        boxed = [tuple(line["bbox"]) for line in segment.lines or [] if line.get("bbox")]
        regions.append(Box(segment.bbox, boxed or [segment.bbox]))
    if unit is ProposalUnit.REGION:
        return regions
    return [Box(line, [line]) for region in regions for line in region.lines]


def _asked(
    session: Session,
    page: Page,
    unit: ProposalUnit,
    box: Box,
    backend: str,
    model: str,
    force: bool,
) -> TranscriptionProposal:
    x0, y0, x1, y1 = box.bbox
    proposal = session.scalars(
        select(TranscriptionProposal).where(
            TranscriptionProposal.page_id == page.id,
            TranscriptionProposal.unit == unit,
            TranscriptionProposal.x0 == x0,
            TranscriptionProposal.y0 == y0,
            TranscriptionProposal.x1 == x1,
            TranscriptionProposal.y1 == y1,
            TranscriptionProposal.backend == backend,
            TranscriptionProposal.model == model,
        )
    ).one_or_none()
    if proposal is None:
        proposal = TranscriptionProposal(
            document_id=page.document_id,
            page_id=page.id,
            unit=unit,
            x0=x0,
            y0=y0,
            x1=x1,
            y1=y1,
            backend=backend,
            model=model,
        )
        session.add(proposal)
    elif proposal.status is ProposalStatus.DONE and not force:
        return proposal
    proposal.status, proposal.text, proposal.error, proposal.flags = (
        ProposalStatus.PENDING,
        "",
        None,
        [],
    )
    proposal.lines = [{"bbox": list(line)} for line in box.lines]
    session.flush()
    return proposal


def steps(proposals: list[TranscriptionProposal]) -> list[Step]:
    """The tasks that answer the pending proposals."""
    return [
        Step(TaskName.TRANSCRIBE_REGION, (p.id,))
        for p in proposals
        if p.status is ProposalStatus.PENDING
    ]


def transcribe_region(session: Session, ctx: Context, proposal_id: int) -> list[Step]:
    """Ask the proposal's model about its box (once: an answered proposal is left alone)."""
    proposal = session.get(TranscriptionProposal, proposal_id, with_for_update=True)
    if proposal is None or proposal.status is not ProposalStatus.PENDING:
        return []
    page = session.get(Page, proposal.page_id)
    if page is None:
        return []
    sha = page.ocr_image_sha256 or page.image_sha256
    try:
        backend = ctx.vision(proposal.backend, proposal.model)
        model = backend.describe()
        if sha is None:
            raise InvalidInput("The page has no image yet.")
        with ctx.storage.local_file(sha) as path, Image.open(path) as image:
            crop = images.crop(image, proposal.bbox, ctx.settings.vision_max_pixels)
        lines = max(1, len(proposal.lines))
        answer = reading.transcribe(backend, crop, page.document.source_lang, lines)
    except PermanentError as exc:
        fail(session, proposal_id, exc.message)
        return []
    _record(proposal, answer, model.digest, max(crop.width, crop.height))
    return []


def _record(
    proposal: TranscriptionProposal, answer: reading.Reading, digest: str | None, side: int
) -> None:
    proposal.status = ProposalStatus.DONE
    proposal.text = "\n".join(answer.lines)
    proposal.lines = [
        line | {"text": text} for line, text in zip(proposal.lines, answer.lines, strict=False)
    ]
    proposal.flags = answer.flags
    proposal.model_digest, proposal.host = digest, answer.host
    proposal.prompt_version = PROMPT_VERSION
    proposal.tokens_in, proposal.tokens_out = answer.tokens_in, answer.tokens_out
    proposal.duration_ms, proposal.attempts = answer.duration_ms, answer.attempts
    proposal.image_pixels = side
    proposal.waiting, proposal.error = None, None
    proposal.answered_at = datetime.now(UTC)


def fail(session: Session, proposal_id: int, reason: str) -> list[Step]:
    """A proposal the model could not give: failed with the reason (retries spent too)."""
    proposal = session.get(TranscriptionProposal, proposal_id)
    if proposal is not None and proposal.status is ProposalStatus.PENDING:
        log.warning("proposal %s failed: %s", proposal_id, reason)
        proposal.status, proposal.error, proposal.waiting = ProposalStatus.FAILED, reason, None
        proposal.answered_at = datetime.now(UTC)
    return []


def wait(session: Session, proposal_id: int, reason: str) -> None:
    """Show that a proposal waits for its model server (its task retries by itself)."""
    proposal = session.get(TranscriptionProposal, proposal_id)
    if proposal is not None and proposal.status is ProposalStatus.PENDING:
        proposal.waiting = reason


def stalled(session: Session, cutoff: datetime) -> list[Step]:
    """Pending proposals untouched since the cutoff (their task was lost): ask again."""
    ids = session.scalars(
        select(TranscriptionProposal.id)
        .where(
            TranscriptionProposal.status == ProposalStatus.PENDING,
            TranscriptionProposal.updated_at < cutoff,
        )
        .order_by(TranscriptionProposal.id)
    )
    return [Step(TaskName.TRANSCRIBE_REGION, (i,)) for i in ids]


def rows(session: Session, page_id: int) -> list[TranscriptionProposal]:
    """A page's proposals, newest first."""
    return list(
        session.scalars(
            select(TranscriptionProposal)
            .where(TranscriptionProposal.page_id == page_id)
            .order_by(TranscriptionProposal.updated_at.desc(), TranscriptionProposal.id.desc())
        )
    )


def for_page(session: Session, page_id: int) -> list[dict[str, Any]]:
    """A page's proposals, newest first, as the editor reads them."""
    return [_proposal(p) for p in rows(session, page_id)]


def _proposal(p: TranscriptionProposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "unit": p.unit.value,
        "bbox": list(p.bbox),
        "lines": p.lines,
        "status": p.status.value,
        "text": p.text,
        "error": p.error,
        "waiting": p.waiting,
        "model": p.model,
        "backend": p.backend,
        "digest": p.model_digest,
        "flags": p.flags,
        "answeredAt": p.answered_at.isoformat(timespec="seconds") if p.answered_at else None,
    }


def vision_choices() -> dict[str, Any]:
    """Whether a vision model is configured, and which."""
    settings = get_settings()
    return {
        "enabled": bool(settings.vision_model),
        "backend": settings.vision_backend,
        "model": settings.vision_model,
    }
