"""The `palimpsest` command: serve, worker, migrate, process, export, import, evaluate,
storage."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from service.config import get_settings
from service.jobs.steps import Queue
from service.observability import configure_logging


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, get_settings().log_format)
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

    beat = commands.add_parser(
        "beat", help="send the periodic reconciler (re-sends work lost by a crash) to the workers"
    )
    beat.set_defaults(handler=_beat)

    create_user = commands.add_parser("createuser", help="create an account")
    create_user.add_argument("username")
    create_user.add_argument("--admin", action="store_true", help="an administrator")
    create_user.add_argument("--role", choices=["admin", "editor", "viewer"], default="editor")
    create_user.add_argument("--display-name", default=None)
    secret = create_user.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    secret.add_argument("--generate-password", action="store_true", help="make one and print it")
    create_user.add_argument(
        "--if-no-admin", action="store_true", help="do nothing when an administrator already exists"
    )
    create_user.set_defaults(handler=_create_user)

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

    evaluate = commands.add_parser(
        "eval-ocr", help="CER of the OCR stage per page, beside plain tesseract"
    )
    evaluate.add_argument("folder", type=Path, help="laid out like ../shared/data")
    evaluate.add_argument("--split", type=Path, default=None, help="JSON with the tuning ids")
    evaluate.add_argument("--steps", default=None, help="preprocessing steps, comma-separated")
    evaluate.add_argument("--pages", default=None, help="only page ids containing one of these")
    evaluate.add_argument("--no-baseline", action="store_true", help="skip plain tesseract")
    evaluate.add_argument(
        "-o", "--output", type=Path, default=Path("bench/results/ocr-eval.md"), help="report"
    )
    evaluate.set_defaults(handler=_eval_ocr)

    fidelity = commands.add_parser(
        "eval-translation",
        help="translate parallel sets through the real path and score them with chrF",
    )
    fidelity.add_argument("files", nargs="+", type=Path, help="like ../shared/data/parallel/*.json")
    fidelity.add_argument(
        "--backend", choices=["auto", "ollama", "embedded", "openai"], default=None
    )
    fidelity.add_argument("--model", default=None)
    fidelity.add_argument(
        "--unit", choices=["auto", "sentence", "segment"], default=None, help="prompting unit"
    )
    fidelity.add_argument(
        "--references",
        action="store_true",
        help="check the human references as if they were answers (the checks' false alarms)",
    )
    fidelity.add_argument("--limit", type=int, default=None, help="only the first N items")
    fidelity.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("bench/results/translation-eval"),
        help="report path without suffix: .md and .json are written",
    )
    fidelity.set_defaults(handler=_eval_translation)

    _add_export(commands)
    _add_import(commands)
    _add_storage(commands)
    return parser


def _add_storage(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.storage.cli import add_arguments

    storage = commands.add_parser(
        "storage", help="check the file store, or migrate it into object storage"
    )
    add_arguments(storage)


def _add_export(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.exports.cli import add_arguments, run

    export = commands.add_parser("export", help="export a document or a collection")
    add_arguments(export)
    export.set_defaults(handler=run)


def _add_import(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.imports.cli import add_arguments, run

    imports = commands.add_parser(
        "import", help="create a document from PAGE/ALTO files with images, or a IIIF manifest"
    )
    add_arguments(imports)
    imports.set_defaults(handler=run)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    proxies = settings.trusted_proxy_list
    # X-Forwarded-For decides the address logins are limited by: believed only from proxies
    # the administrator named (uvicorn's own default trusts 127.0.0.1, so any local process
    # or a proxy passing the header through could pose as any client).
    uvicorn.run(
        "service.main:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
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
    os.execv(sys.executable, command)  # noqa: S606 - replaces this process with the worker
    return 0  # not reached: execv does not return


def _beat(args: argparse.Namespace) -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "beat",
        "--schedule",
        str(settings.data_dir / "celerybeat-schedule"),
        "--loglevel",
        args.log_level.upper(),
    ]
    os.execv(sys.executable, command)  # noqa: S606 - replaces this process with celery beat
    return 0  # not reached: execv does not return


def _create_user(args: argparse.Namespace) -> int:
    import getpass
    import secrets

    from service.accounts import service as accounts
    from service.accounts.models import Role
    from service.db import unit_of_work
    from service.errors import InvalidInput

    with unit_of_work() as session:
        if args.if_no_admin and accounts.has_admin(session):
            return 0
    if args.generate_password:
        password = secrets.token_urlsafe(12)
    elif args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 2
    role = Role.ADMIN if args.admin else Role(args.role)
    try:
        with unit_of_work() as session:
            accounts.create_user(session, args.username, password, role, args.display_name)
    except InvalidInput as exc:
        print(exc.message, file=sys.stderr)
        return 2
    print(f"created {role.value} {args.username.strip().lower()!r}")
    if args.generate_password:
        print(f"password: {password}")
    return 0


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


def _eval_ocr(args: argparse.Namespace) -> int:
    from service.ocr.eval_command import run_evaluation

    return run_evaluation(
        folder=args.folder,
        split=args.split,
        steps=args.steps,
        pages=args.pages,
        baseline=not args.no_baseline,
        output=args.output,
    )


def _eval_translation(args: argparse.Namespace) -> int:
    from service.translation.eval_command import run_evaluation

    return run_evaluation(
        files=args.files,
        backend=args.backend,
        model=args.model,
        unit=args.unit,
        references=args.references,
        limit=args.limit,
        output=args.output,
    )


if __name__ == "__main__":
    raise SystemExit(main())
