"""`palimpsest export ID --format F -o OUT`: the API's export options on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.exports.model import Arrangement, ExportOptions, SourceLayer
from service.exports.service import ExportFormat


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the export command's arguments."""
    parser.add_argument("document", type=int, nargs="?", help="document id")
    parser.add_argument(
        "--collection", type=int, help="export every document of a collection (zip)"
    )
    parser.add_argument("--format", choices=[f.value for f in ExportFormat], default="tei")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="file to write, - for stdout"
    )
    parser.add_argument("--pages", help="page range, e.g. 3-10, 5 or 7-")
    parser.add_argument("--source", choices=[s.value for s in SourceLayer], default="both")
    parser.add_argument("--no-translation", action="store_true")
    parser.add_argument("--no-annotations", action="store_true")
    parser.add_argument("--approved-only", action="store_true")
    parser.add_argument("--layout", choices=[a.value for a in Arrangement], default="interleaved")
    parser.add_argument("--images", action="store_true", help="page: add the page images")
    parser.add_argument("--bilingual", action="store_true", help="pdf: scans facing translations")
    parser.add_argument(
        "--no-flagged",
        action="store_true",
        help="tmx: leave out units whose translation a check doubted (needs check)",
    )
    parser.add_argument(
        "--base-url", help="iiif: the URL the zip will be hosted at (default: relative links)"
    )


def options(args: argparse.Namespace, low_confidence: float) -> ExportOptions:
    """The export options from parsed arguments (InvalidInput for a bad base URL)."""
    from service.exports.iiif import check_base_url

    first, last = page_range(args.pages)
    return ExportOptions(
        first_page=first,
        last_page=last,
        source=SourceLayer(args.source),
        translation=not args.no_translation,
        annotations=not args.no_annotations,
        approved_only=args.approved_only,
        arrangement=Arrangement(args.layout),
        images=args.images,
        bilingual=args.bilingual,
        low_confidence=low_confidence,
        flagged=not args.no_flagged,
        base_url=check_base_url(args.base_url),
    )


def page_range(value: str | None) -> tuple[int | None, int | None]:
    """Parse "3-10", "5", "7-" or "-4" into first and last page."""
    if not value:
        return None, None
    head, dash, tail = value.partition("-")
    try:
        first = int(head) if head.strip() else None
        last = int(tail) if tail.strip() else (None if dash else first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a page range: {value!r}") from None
    return first, last


def run(args: argparse.Namespace) -> int:
    """Write the export; errors are reported in one line with exit status 2."""
    from service.config import get_settings
    from service.db import get_sessionmaker
    from service.errors import PalimpsestError
    from service.exports import service

    if (args.document is None) == (args.collection is None):
        print("give a document id or --collection ID (one of them)", file=sys.stderr)
        return 2
    try:
        chosen = options(args, get_settings().low_confidence)
    except argparse.ArgumentTypeError as exc:
        print(exc, file=sys.stderr)
        return 2
    except PalimpsestError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    fmt = ExportFormat(args.format)
    out = sys.stdout.buffer if str(args.output) == "-" else None
    session = get_sessionmaker()()
    try:
        target = out or args.output.open("wb")
        try:
            if args.collection is not None:
                name = service.export_collection(session, args.collection, fmt, target, chosen)
            else:
                name = service.export_to(session, args.document, fmt, target, chosen)
        finally:
            if out is None:
                target.close()
    except PalimpsestError as exc:
        if out is None:
            args.output.unlink(missing_ok=True)
        print(exc.message, file=sys.stderr)
        return 2
    finally:
        session.close()
    print(f"wrote {name} to {args.output}", file=sys.stderr)
    return 0
