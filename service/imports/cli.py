"""`palimpsest import`: a document from PAGE/ALTO files with their images, or from a IIIF
manifest; then the pipeline runs here (`--now`) or is queued for the workers."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from service.documents.service import NewDocument, Upload
from service.errors import NoUsableFile, PalimpsestError
from service.imports import fetching
from service.jobs.steps import Step


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the import command's arguments."""
    parser.add_argument("files", nargs="*", type=Path, help="PAGE/ALTO .xml files, images, zips")
    parser.add_argument("--iiif", help="IIIF manifest URL (an allowed host) or file")
    parser.add_argument("--source-lang", required=True, help="e.g. fr, la, de-Latf (Fraktur)")
    parser.add_argument("--target-lang", default="en")
    parser.add_argument("--backend", choices=["auto", "ollama", "embedded"], default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--title", default=None)
    parser.add_argument("--no-translate", action="store_true")
    parser.add_argument("--now", action="store_true", help="run the pipeline in this process")


def run(args: argparse.Namespace) -> int:
    """Create the document; print its id (stdout) and refused files (stderr)."""
    if bool(args.files) == bool(args.iiif):
        print(
            "give PAGE/ALTO files with their images, or --iiif MANIFEST (one of them)",
            file=sys.stderr,
        )
        return 2
    spec = NewDocument(
        title=args.title,
        source_lang=args.source_lang,
        target_lang=args.target_lang,
        backend=args.backend,
        model=args.model,
        translate=not args.no_translate,
    )
    try:
        document_id, steps = _create(args, spec)
    except NoUsableFile as exc:
        for name, why in exc.rejected:
            print(f"{name}: {why}", file=sys.stderr)
        print(exc.message, file=sys.stderr)
        return 2
    except (PalimpsestError, OSError) as exc:
        print(getattr(exc, "message", None) or str(exc), file=sys.stderr)
        return 2
    _start(steps, args.now)
    print(document_id)
    return _outcome(document_id) if args.now else 0


def _outcome(document_id: int) -> int:
    """After `--now`: 1 with the reason when the import failed (a manifest that could not
    be fetched, say), else 0."""
    from service.db import unit_of_work
    from service.documents.models import Document, DocumentStatus

    with unit_of_work() as session:
        document = session.get(Document, document_id)
        if document is not None and document.status is DocumentStatus.FAILED:
            print(document.error or "the import failed", file=sys.stderr)
            return 1
    return 0


def _create(args: argparse.Namespace, spec: NewDocument) -> tuple[int, list[Step]]:
    from service.db import unit_of_work
    from service.documents.router import zip_limits
    from service.imports import service as imports
    from service.jobs import pipeline

    ctx = pipeline.default_context()
    with unit_of_work() as session:
        if args.iiif:
            url = args.iiif if args.iiif.startswith(("http://", "https://")) else None
            raw = None if url else Path(args.iiif).read_bytes()
            document = fetching.create(
                session, ctx.storage, ctx.settings, spec, url=url, manifest=raw
            )
            steps = pipeline.start_iiif(document.id)
        else:
            with contextlib.ExitStack() as stack:
                uploads = [Upload(p.name, stack.enter_context(p.open("rb"))) for p in args.files]
                document = imports.create(
                    session, ctx.storage, spec, uploads, zip_limits(ctx.settings)
                )
            steps = pipeline.start(document.id)
        for f in document.files:
            if f.error:
                print(f"{f.filename}: {f.error}", file=sys.stderr)
        if document.error:
            print(document.error, file=sys.stderr)
        return document.id, list(steps)


def _start(steps: list[Step], now: bool) -> None:
    from service.jobs import pipeline
    from service.jobs.queue import enqueue
    from service.jobs.runner import run_inline

    if now:
        run_inline(pipeline.default_context(), steps)
    else:
        enqueue(steps)
