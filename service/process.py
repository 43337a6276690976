"""`palimpsest process`: the whole pipeline in this process, then one export per input.

Inputs are files, folders (their scans, in name order) and globs; each file becomes a
document and an output, or all of them one document with `--combine`. An input the
database already holds finished (the same files, languages and translation choice) is not
read again: it is exported as it is.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents import service as documents
from service.documents.models import Document, DocumentStatus, SourceFile
from service.errors import NoUsableFile, PalimpsestError
from service.exports.service import FORMATS, ExportFormat, export
from service.jobs import pipeline
from service.jobs.context import Context
from service.jobs.runner import run_inline
from service.ocr import installed
from service.process_progress import Progress

# What a folder contributes: scans, PDFs and archives of them (other files are left alone).
SCAN_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
    ".jp2",
    ".webp",
    ".bmp",
    ".gif",
    ".pdf",
    ".zip",
}
FINISHED = (DocumentStatus.DONE, DocumentStatus.PARTIAL)


@dataclass(frozen=True)
class Request:
    """What the command line asked for."""

    source_lang: str
    target_lang: str
    backend: str | None
    model: str | None
    title: str | None
    translate: bool
    fmt: str
    output: Path | None
    combine: bool = False


class Refused(Exception):
    """A command line that cannot be run as given; the message says why."""


def process_inputs(inputs: list[str], request: Request) -> int:
    """Process every input; return the exit code (2: nothing could be done as asked,
    1: some document failed)."""
    try:
        files = expand(inputs)
        _check_languages(request.source_lang)
        groups = [files] if request.combine else [[f] for f in files]
        outputs = output_paths(groups, request)
    except Refused as exc:
        print(str(exc), file=sys.stderr)
        return 2
    codes = [_one(group, out, request) for group, out in zip(groups, outputs, strict=True)]
    return max(codes)


def expand(inputs: list[str]) -> list[Path]:
    """Files named, the scans of folders named and the matches of globs, each once, in the
    order given."""
    found: list[Path] = []
    missing: list[str] = []
    for item in inputs:
        # A quoted glob (the shell left it): absolute or relative, as the user typed it.
        matches = sorted(glob.glob(item))  # noqa: PTH207 - Path.glob takes no absolute pattern
        paths = [Path(p) for p in matches] if any(c in item for c in "*?[") else [Path(item)]
        if not paths or not all(p.exists() for p in paths):
            missing.append(item)
            continue
        for path in paths:
            found += _scans(path) if path.is_dir() else [path]
    if missing:
        raise Refused(f"no such file or folder: {', '.join(missing)}")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise Refused(f"no scans (images, PDF or zip) in {', '.join(inputs)}")
    return unique


def _scans(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SCAN_SUFFIXES
    )


def _check_languages(source_lang: str) -> None:
    try:
        models = installed.needed(source_lang)
    except PalimpsestError as exc:
        raise Refused(exc.message) from exc
    problem = installed.missing_message(models)
    if problem:
        raise Refused(problem)


def output_paths(groups: list[list[Path]], request: Request) -> list[Path]:
    """Where each group's export goes: `-o` itself for a single output (a file, or - for
    stdout), else `-o` (or the current folder) as a folder of `<name>.<extension>`."""
    out = request.output
    single = len(groups) == 1
    if single and out is not None and not out.is_dir():
        return [out]
    if not single and out is not None and (str(out) == "-" or out.is_file()):
        raise Refused(
            f"{len(groups)} inputs give {len(groups)} outputs: -o must name a folder "
            "(or use --combine for one document)"
        )
    folder = out or Path()
    extension = FORMATS[ExportFormat(request.fmt)].extension
    names: list[Path] = []
    for group in groups:
        stem = group[0].stem if len(group) == 1 else (request.title or group[0].parent.name)
        name, n = f"{stem}.{extension}", 1
        while folder / name in names:
            n += 1
            name = f"{stem}-{n}.{extension}"
        names.append(folder / name)
    return names


def _one(files: list[Path], output: Path, request: Request) -> int:
    ctx = pipeline.default_context()
    label = files[0].name if len(files) == 1 else f"{len(files)} files"
    hashes = [_sha256(p) for p in files]
    with unit_of_work() as session:
        known = held(session, hashes, request)
    if known is not None:
        print(
            f"{label}: already in the database as document {known}, not read again",
            file=sys.stderr,
        )
        document_id = known
    else:
        spec = documents.NewDocument(
            title=request.title,
            source_lang=request.source_lang,
            target_lang=request.target_lang,
            backend=request.backend,
            model=request.model,
            translate=request.translate,
        )
        try:
            document_id = _create(ctx, spec, files)
        except NoUsableFile as exc:
            for name, why in exc.rejected:
                print(f"{name}: {why}", file=sys.stderr)
            return 2
        progress = Progress(document_id, label)
        run_inline(ctx, pipeline.start(document_id), on_step=progress.update)
        progress.close()
    with unit_of_work() as session:
        result = export(session, document_id, ExportFormat(request.fmt))
        document = documents.get_or_raise(session, document_id)
        status, error = document.status, document.error
    _write(output, result.content)
    where = "stdout" if str(output) == "-" else str(output)
    print(f"{label}: written to {where}", file=sys.stderr)
    print(
        f"document {document_id}: {status.value}" + (f" ({error})" if error else ""),
        file=sys.stderr,
    )
    return 1 if status is DocumentStatus.FAILED else 0


def held(session: Session, hashes: list[str], request: Request) -> int | None:
    """A finished document made of exactly these files, read in the same language and
    translated (or not) the same way, with the same model when one was named."""
    source, target = documents.languages(
        documents.NewDocument(
            title=None,
            source_lang=request.source_lang,
            target_lang=request.target_lang,
            translate=False,
        )
    )
    candidates = session.scalars(
        select(Document)
        .join(SourceFile, SourceFile.document_id == Document.id)
        .where(
            SourceFile.sha256 == hashes[0],
            Document.status.in_(FINISHED),
            Document.source_lang == source,
            Document.target_lang == target,
            Document.translate.is_(request.translate),
        )
        .order_by(Document.id.desc())
    ).unique()
    for document in candidates:
        if sorted(f.sha256 or "" for f in document.files) != sorted(hashes):
            continue
        if request.translate and request.backend not in (None, "auto", document.backend):
            continue
        if request.translate and request.model and request.model != document.model:
            continue
        return document.id
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _write(output: Path, content: bytes) -> None:
    if str(output) == "-":
        sys.stdout.buffer.write(content)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
