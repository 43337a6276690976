"""`palimpsest process`: the whole pipeline in this process, then an export written to a file."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from service.db import unit_of_work
from service.documents import service as documents
from service.documents.models import DocumentStatus
from service.errors import NoUsableFile, PalimpsestError
from service.exports.service import ExportFormat, export
from service.jobs import pipeline
from service.jobs.context import Context
from service.jobs.runner import run_inline
from service.jobs.steps import Step


def process_files(
    *,
    files: list[Path],
    source_lang: str,
    target_lang: str,
    backend: str | None,
    model: str | None,
    title: str | None,
    translate: bool,
    fmt: str,
    output: Path,
) -> int:
    """Ingest, OCR, translate and export; return the process exit code."""
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        print(f"no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    ctx = pipeline.default_context()
    spec = documents.NewDocument(
        title=title,
        source_lang=source_lang,
        target_lang=target_lang,
        backend=backend,
        model=model,
        translate=translate,
    )
    try:
        document_id = _create(ctx, spec, files)
    except NoUsableFile as exc:
        for name, why in exc.rejected:
            print(f"{name}: {why}", file=sys.stderr)
        return 2
    except PalimpsestError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    run_inline(ctx, pipeline.start(document_id), on_step=_report)
    with unit_of_work() as session:
        result = export(session, document_id, ExportFormat(fmt))
        document = documents.get_or_raise(session, document_id)
        status, error = document.status, document.error
    _write(output, result.content)
    print(
        f"document {document_id}: {status.value}" + (f" ({error})" if error else ""),
        file=sys.stderr,
    )
    return 1 if status is DocumentStatus.FAILED else 0


def _create(ctx: Context, spec: documents.NewDocument, files: list[Path]) -> int:
    with _opened(files) as uploads, unit_of_work() as session:
        document = documents.create(
            session, ctx.storage, spec, uploads, ctx.settings.max_upload_bytes
        )
        for f in document.files:
            if f.error:
                print(f"{f.filename}: {f.error}", file=sys.stderr)
        return document.id


@contextlib.contextmanager
def _opened(files: list[Path]) -> Iterator[list[documents.Upload]]:
    with contextlib.ExitStack() as stack:
        uploads = []
        for path in files:
            stream: BinaryIO = stack.enter_context(path.open("rb"))
            uploads.append(documents.Upload(path.name, stream))
        yield uploads


def _report(step: Step) -> None:
    print(f"… {step.task.value.removeprefix('palimpsest.')} {step.args[0]}", file=sys.stderr)


def _write(output: Path, content: bytes) -> None:
    if str(output) == "-":
        sys.stdout.buffer.write(content)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
