"""OCR post-correction from the image: a run of kind `correct` with `with_images` shows a
vision model each segment's image beside its OCR text. Its proposals land in the existing
corrections layer (segment_corrections, shown as a word diff) with the same guards as a
text run: one row per segment and model, an answered segment skipped, and every change a
proposal for review — spellings the model modernised or made older are flagged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image
from sqlalchemy.orm import Session

from service.documents.models import Document, Page, Segment
from service.errors import PermanentError
from service.transcription.vision import images, reading
from service.transcription.vision.base import VisionBackend
from service.transcription.vision.prompts import PROMPT_VERSION
from service.translation import batching, runs
from service.translation import service as translation
from service.translation.backends import BackendChoice, BackendName
from service.translation.backends.base import ModelInfo
from service.translation.models import RunStatus, TranslationRun

if TYPE_CHECKING:
    from service.jobs.context import Context

FROM_IMAGE = {"kind": "from_image", "message": "corrected from the page image and the OCR text"}


def choice(ctx: Context, run: TranslationRun) -> BackendChoice:
    """The vision model a run asked for, or the configured one."""
    backend = run.requested_backend or ctx.settings.vision_backend
    model = run.requested_model or ctx.settings.vision_model
    return BackendChoice(BackendName(backend), model)


def plan(session: Session, ctx: Context, run: TranslationRun) -> list[list[int]]:
    """One segment a batch (a model reads one image at a time); raises PermanentError when
    no vision model is configured or the one asked for cannot read images."""
    if run.status is RunStatus.RUNNING:  # a redelivered plan re-sends unsettled batches only
        return runs.pending_batches(session, run)
    chosen = choice(ctx, run)
    if not chosen.model:
        raise PermanentError(
            "No vision model is configured for correcting from the image: set "
            "PALIMPSEST_VISION_MODEL (for example qwen2.5vl:7b) or send `model`."
        )
    model = ctx.vision(chosen.backend.value, chosen.model).describe()
    info = ModelInfo(chosen.model, model.digest, 0)
    batches = runs.plan(session, run, chosen, info, budget=1)
    run.prompt_version = PROMPT_VERSION
    return batches


def correct_batch(
    session: Session, ctx: Context, run: TranslationRun, segment_ids: list[int]
) -> None:
    """Ask the model about each segment still needing it; store the outcomes as corrections."""
    document = session.get(Document, run.document_id)
    if document is None or run.backend is None:
        return
    backend = ctx.vision(run.backend, run.model_ref or run.model or "")
    work = translation.pending(session, run, segment_ids, context_segments=0)
    outcomes = [_outcome(session, ctx, backend, document.source_lang, unit) for unit in work.units]
    translation.store(session, run, outcomes)
    translation.settle(session, run.id, work.settled)


def _outcome(
    session: Session, ctx: Context, vision: VisionBackend, source_lang: str, unit: batching.Unit
) -> batching.Outcome:
    segment = session.get(Segment, unit.segment_id)
    page = session.get(Page, segment.page_id) if segment is not None else None
    sha = page and (page.ocr_image_sha256 or page.image_sha256)
    if segment is None or not sha:
        return batching.Outcome(unit.segment_id, error="The segment's page has no image.")
    try:
        model = vision.describe()
        with ctx.storage.local_file(sha) as path, Image.open(path) as image:
            crop = images.crop(image, segment.bbox, ctx.settings.vision_max_pixels)
        answer = reading.correct(vision, crop, source_lang, unit.text)
    except PermanentError as exc:
        return batching.Outcome(unit.segment_id, error=exc.message)
    outcome = batching.Outcome(
        unit.segment_id,
        text=answer.text,
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
        duration_ms=answer.duration_ms,
        attempts=answer.attempts,
        flags=[FROM_IMAGE, *answer.flags],
    )
    outcome.host, outcome.digest = answer.host, model.digest
    return outcome
