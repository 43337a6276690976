"""HTML of the transcription editor: one page, line by line, beside its scan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from service.deps import SessionDep
from service.templating import templates
from service.transcription.editor import open_page

router = APIRouter(include_in_schema=False)


@router.get("/documents/{document_id}/pages/{number}/transcribe", response_class=HTMLResponse)
def editor(
    request: Request, session: SessionDep, document_id: int, number: Annotated[int, Path(ge=1)]
) -> Response:
    """Type a page line by line: each line's image beside its text field, Enter to go on."""
    opened = open_page(session, document_id, number)
    return templates().TemplateResponse(request, "transcribe/editor.html", {"view": opened})
