"""Pipeline steps of transcription: find a page's lines, ask a vision model about a box.

Like every step they load by id, guard against work already done, and return what
follows; the Celery tasks in workers/transcribe.py and the tests call them alike.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PIL import Image
from sqlalchemy.orm import Session

from service.documents.models import Page
from service.jobs.steps import Step
from service.transcription.layout import store_detected

if TYPE_CHECKING:
    from service.jobs.context import Context

log = logging.getLogger(__name__)


def detect_lines(session: Session, ctx: Context, page_id: int) -> list[Step]:
    """Find the page's text lines on the image its boxes refer to (once)."""
    from service.ocr.lines import find_lines  # numpy: workers only

    page = session.get(Page, page_id, with_for_update=True)
    if page is None:
        log.info("page %s is gone; no lines to find", page_id)
        return []
    sha = page.ocr_image_sha256 or page.image_sha256
    if page.line_layout is not None or not sha:
        return []
    with ctx.storage.local_file(sha) as path, Image.open(path) as image:
        found = find_lines(image)
    store_detected(session, page, found)
    return []
