"""The `palimpsest` command: serve, worker, migrate, process, export, import, evaluate,
storage."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from service.config import get_settings
from service.exports.service import ExportFormat
from service.jobs.steps import Queue
from service.observability import configure_logging


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: what a user can fix is one line on stderr and
    exit code 2, never a traceback."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        configure_logging(args.log_level, get_settings().log_format)
        return _run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line when a user can fix it, else the traceback
        message = fixable(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2


# What each command needs of the database schema: `migrate` it when absent (the quickest
# try of the README), `require` it (say which command to run), or `serve` (require it when
# the server answers; a server still starting gives 503s until it is up).
SCHEMA = {
    "process": "migrate",
    "export": "require",
    "import": "require",
    "createuser": "require",
    "eval-translation": "require",
    "serve": "serve",
}


def _run(args: argparse.Namespace) -> int:
    policy = SCHEMA.get(args.command)
    if policy is not None:
        refused = _check_schema(policy)
        if refused is not None:
            print(refused, file=sys.stderr)
            return 2
    result: int = args.handler(args)
    return result


def _check_schema(policy: str) -> str | None:
    """None when the command may go on (after migrating, for `migrate`), else why not."""
    import logging

    from sqlalchemy.exc import OperationalError

    alembic_log = logging.getLogger("alembic")
    if alembic_log.getEffectiveLevel() > logging.DEBUG:  # its plugin chatter, on every command
        alembic_log.setLevel(logging.WARNING)
    from service.migrate import SchemaState, schema_state, upgrade

    try:
        state = schema_state()
    except OperationalError:
        if policy == "serve":
            return None
        raise
    if state is SchemaState.CURRENT:
        return None
    if policy == "migrate":
        upgrade()
        had = "no schema" if state is SchemaState.ABSENT else "an older schema"
        print(
            f"the database {_where()} had {had}: migrated it (as `palimpsest migrate` does)",
            file=sys.stderr,
        )
        return None
    what = "has no schema yet" if state is SchemaState.ABSENT else "has an older schema"
    return f"the database {_where()} {what}: run `palimpsest migrate` first"


def _where() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(get_settings().sqlalchemy_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def fixable(exc: BaseException) -> str | None:
    """One line for an error a user can fix (a server down, a schema missing), else None."""
    import redis
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from service.errors import PalimpsestError

    if isinstance(exc, PalimpsestError):
        return exc.message
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        return (
            f"cannot reach the database {_where()} ({reason}): is PostgreSQL running, and "
            "is PALIMPSEST_DATABASE_URL right?"
        )
    if isinstance(exc, ProgrammingError) and "does not exist" in str(exc.orig):
        return f"the database {_where()} lacks tables: run `palimpsest migrate` first"
    if isinstance(exc, redis.ConnectionError):
        return (
            f"cannot reach Redis at {get_settings().redis_url}: is it running, and is "
            "PALIMPSEST_REDIS_URL right?"
        )
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="palimpsest", description=__doc__)
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

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

    process = commands.add_parser(
        "process",
        help="OCR and translate scans now, in this process",
        description="Each file (a folder: its scans; a quoted glob: its matches) becomes a "
        "document and an export, or all of them one with --combine. Files the database "
        "already holds finished, with the same languages and model, are exported again "
        "without being read again. A database never migrated is migrated first.",
    )
    process.add_argument("inputs", nargs="+", metavar="FILE|FOLDER|GLOB")
    process.add_argument("--source-lang", required=True, help="e.g. fr, la, de-Latf (Fraktur)")
    process.add_argument("--target-lang", default="en")
    process.add_argument(
        "--backend", choices=["auto", "ollama", "embedded", "openai"], default=None
    )
    process.add_argument("--model", default=None)
    process.add_argument("--title", default=None)
    process.add_argument("--no-translate", action="store_true", help="OCR only")
    process.add_argument("--combine", action="store_true", help="all inputs: one document")
    process.add_argument(
        "--format", choices=[f.value for f in ExportFormat], default="tei", help="as `export`"
    )
    process.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="file to write, - for stdout; with several outputs a folder "
        "(default: the current folder, named after each input)",
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
    from service.process import Request, process_inputs

    request = Request(
        source_lang=args.source_lang,
        target_lang=args.target_lang,
        backend=args.backend,
        model=args.model,
        title=args.title,
        translate=not args.no_translate,
        fmt=args.format,
        output=args.output,
        combine=args.combine,
    )
    return process_inputs(args.inputs, request)


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
