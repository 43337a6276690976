"""`make bench`: every benchmark of issue 8 in one run, written to bench/results/latest.md.

    .venv/bin/python -m bench [--only ocr,translation,quality,web,exports,footprint,live,
                               transcription,pagewise]

Runs against a scratch database (PALIMPSEST_BENCH_DB, created and dropped) and its own
Redis database (PALIMPSEST_BENCH_REDIS_URL), with a real `palimpsest serve` and real
`palimpsest worker` processes. Figures go to bench/results/latest.json, the tables to
latest.md and the plots to bench/results/*.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import procs
from bench.common import RESULTS, Figure, git_revision, machine

SECTIONS = (
    "ocr",
    "translation",
    "quality",
    "web",
    "exports",
    "footprint",
    "live",
    "transcription",
    "pagewise",
)


@dataclasses.dataclass
class Context:
    """What every section may use: the running web app, its pid, a logged-in session."""

    base: str
    web_pid: int
    token: str
    web_memory: dict[str, float] = dataclasses.field(default_factory=dict)


def _ocr(ctx: Context) -> list[Figure]:
    from bench import ocr

    return ocr.figures(ocr.measure(ctx.base, ctx.token, ctx.web_pid))


def _translation(_ctx: Context) -> list[Figure]:
    from bench import translation

    return translation.figures()


def _quality(_ctx: Context) -> list[Figure]:
    from bench import translation_quality

    return translation_quality.figures()


def _web(ctx: Context) -> list[Figure]:
    from bench import web

    return web.figures(ctx.base, ctx.web_pid, ctx.web_memory)


def _exports(_ctx: Context) -> list[Figure]:
    from bench import exports

    return exports.figures()


def _footprint(ctx: Context) -> list[Figure]:
    from bench import footprint

    return footprint.figures(ctx.web_pid, ctx.web_memory, ctx.base, ctx.token)


def _live(ctx: Context) -> list[Figure]:
    from bench import live_rows

    rounds = live_rows.measure(ctx.base, ctx.token)
    found = live_rows.figures(rounds)
    live_rows.write(rounds, found[0])
    return found


def _transcription(ctx: Context) -> list[Figure]:
    from bench import transcription

    return transcription.figures(ctx.base, ctx.token)


def _pagewise(ctx: Context) -> list[Figure]:
    from bench import pagewise

    rounds = pagewise.measure(ctx.base, ctx.token)
    found = pagewise.figures(rounds)
    pagewise.write(rounds, found)
    return found


RUNNERS: dict[str, Callable[[Context], list[Figure]]] = {
    "ocr": _ocr,
    "translation": _translation,
    "quality": _quality,
    "web": _web,
    "exports": _exports,
    "footprint": _footprint,
    "live": _live,
    "transcription": _transcription,
    "pagewise": _pagewise,
}


def main() -> int:
    """Run the chosen sections in order and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS))
    args = parser.parse_args()
    chosen = [s for s in SECTIONS if s in args.only.split(",")]
    from bench.report import write
    from bench.setup import bench_database, login_token

    started, figures, seconds = time.time(), [], {}
    meta: dict[str, Any] = {"machine_start": machine(), "commit": git_revision()}
    with bench_database():
        procs.use_bench_redis()
        token = login_token()
        with procs.web_server() as (base, pid):
            ctx = Context(base, pid, token)
            for name in chosen:
                t0 = time.time()
                print(f"[bench] {name} …", file=sys.stderr, flush=True)
                figures += RUNNERS[name](ctx)
                seconds[name] = time.time() - t0
                print(f"[bench] {name}: {seconds[name]:.0f} s", file=sys.stderr, flush=True)
    meta |= {"machine_end": machine(), "seconds": seconds, "total_s": time.time() - started}
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {"meta": meta, "figures": [dataclasses.asdict(f) for f in figures]},
            indent=1,
            ensure_ascii=False,
        )
    )
    print(write(meta, figures).read_text())
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PALIMPSEST_LOG_LEVEL", "warning")
    sys.exit(main())
