"""Proposals of vision models: asked region by region (or line by line), listed per page.

A proposal is a layer of its own; the editor shows it beside the typed text and the
transcriber takes it over line by line or region by region. Nothing here writes a
segment.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import get_settings
from service.transcription.models import TranscriptionProposal


def for_page(session: Session, page_id: int) -> list[dict[str, Any]]:
    """A page's proposals, newest first, as the editor reads them."""
    rows = session.scalars(
        select(TranscriptionProposal)
        .where(TranscriptionProposal.page_id == page_id)
        .order_by(TranscriptionProposal.updated_at.desc(), TranscriptionProposal.id.desc())
    )
    return [_proposal(p) for p in rows]


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
