"""The `palimpsest` command: serve, worker, migrate, process."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from service.config import get_settings
from service.jobs.steps import Queue


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result: int = args.handler(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="palimpsest", description=__doc__)
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web application")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run a Celery worker")
    worker.add_argument(
        "--queues",
        default=",".join(q.value for q in Queue),
        help="comma-separated: ocr, llm, default",
    )
    worker.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    worker.add_argument("--name", default=None, help="worker node name (default: from queues)")
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(handler=_migrate)

    process = commands.add_parser("process", help="OCR and translate files now, in this process")
    process.add_argument("files", nargs="+", type=Path)
    process.add_argument("--source-lang", required=True, help="e.g. fr, la, de-Latf (Fraktur)")
    process.add_argument("--target-lang", default="en")
    process.add_argument(
        "--backend", choices=["auto", "ollama", "embedded", "openai"], default=None
    )
    process.add_argument("--model", default=None)
    process.add_argument("--title", default=None)
    process.add_argument("--no-translate", action="store_true", help="OCR only")
    process.add_argument("--format", choices=["tei", "txt"], default="tei")
    process.add_argument(
        "-o", "--output", type=Path, required=True, help="file to write, - for stdout"
    )
    process.set_defaults(handler=_process)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "service.main:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        proxy_headers=True,
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = set(queues) - {q.value for q in Queue}
    if unknown:
        print(f"unknown queue(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    name = args.name or f"{'-'.join(queues)}@%h"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "-Q",
        ",".join(queues),
        "-c",
        str(args.concurrency),
        "-O",
        "fair",
        "--prefetch-multiplier",
        "1",
        "-n",
        name,
        "--loglevel",
        args.log_level.upper(),
    ]
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    os.execv(sys.executable, command)  # noqa: S606 - replaces this process with the worker
    return 0  # not reached: execv does not return


def _migrate(_: argparse.Namespace) -> int:
    from service.migrate import upgrade

    upgrade()
    print("database is at the latest schema revision")
    return 0


def _process(args: argparse.Namespace) -> int:
    from service.process import process_files

    return process_files(
        files=args.files,
        source_lang=args.source_lang,
        target_lang=args.target_lang,
        backend=args.backend,
        model=args.model,
        title=args.title,
        translate=not args.no_translate,
        fmt=args.format,
        output=args.output,
    )


if __name__ == "__main__":
    raise SystemExit(main())
