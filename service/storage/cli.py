"""`palimpsest storage check` and `palimpsest storage migrate --to URL`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from service.config import get_settings
from service.errors import PalimpsestError
from service.storage import open_storage, store_for_url
from service.storage.base import human_bytes
from service.storage.migrate import migrate, switch_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the storage subcommands."""
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    check = actions.add_parser("check", help="write, read back and remove a test blob")
    check.set_defaults(handler=run_check)
    move = actions.add_parser(
        "migrate", help="copy the current store into another (resumable), then switch to it"
    )
    move.add_argument("--to", required=True, help="s3://bucket/prefix or file:///path")
    move.add_argument(
        "--from", dest="source", help="copy from this store instead of the configured one"
    )
    move.add_argument(
        "--env-file",
        type=Path,
        default=Path(".env"),
        help="where PALIMPSEST_STORAGE_URL is switched (default: .env)",
    )
    move.add_argument("--no-switch", action="store_true", help="copy only")
    move.set_defaults(handler=run_migrate)


def run_check(_: argparse.Namespace) -> int:
    """Exit 0 when the configured store can be written and read; else say why, exit 2."""
    settings = get_settings()
    try:
        storage = open_storage(settings)
        storage.check()
    except (PalimpsestError, ValueError) as exc:
        print(f"storage: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    where = f" at {settings.s3_endpoint_url}" if storage.url.startswith("s3://") else ""
    print(f"storage: {storage.url}{where} can be written and read")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    """Copy every blob to `--to`, verified by hash; switch the env file when all arrived."""
    settings = get_settings()
    try:
        source = (
            store_for_url(args.source, settings.s3_endpoint_url)
            if args.source
            else open_storage(settings)
        )
        target = store_for_url(args.to, settings.s3_endpoint_url)
        target.check()
        if source.url == target.url:
            print(f"storage: {source.url} is already the store", file=sys.stderr)
            return 2
        print(f"storage: copying {source.url} to {target.url}")
        done = migrate(source, target, report=print)
    except (PalimpsestError, ValueError) as exc:
        print(f"storage: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    print(
        f"storage: {done.copied} copied ({human_bytes(done.bytes_copied)}), "
        f"{done.present} already there, {len(done.failed)} failed"
    )
    if done.failed:
        print("storage: not switched; run the same command again to retry", file=sys.stderr)
        return 1
    if not args.no_switch and not args.source:
        values = {"PALIMPSEST_STORAGE_URL": args.to}
        if settings.s3_endpoint_url:
            values["PALIMPSEST_S3_ENDPOINT_URL"] = settings.s3_endpoint_url
        switch_config(args.env_file, values)
        print(f"storage: {args.env_file} now names {args.to}; restart the web and workers")
        if os.environ.get("PALIMPSEST_STORAGE_URL"):
            print("storage: PALIMPSEST_STORAGE_URL is set in the environment and wins: change it")
    print(f"storage: {source.url} is left as it was; remove it once all is well")
    return 0
