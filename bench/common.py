"""Shared helpers of the benchmarks: the machine, timing statistics, results files."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    """One line describing where the figures were measured."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.2f}"
    )


def timings_ms(action: Callable[[], object], runs: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of each run after a warm-up."""
    for _ in range(warmup):
        action()
    result = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        result.append((time.perf_counter() - start) * 1000)
    return result


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


def git_revision() -> str:
    """Short commit hash of the measured code."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=RESULTS.parent.parent,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_results(name: str, title: str, body: str) -> Path:
    """Write bench/results/<name>.md with a header naming the machine, time and commit."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    header = (
        f"# {title}\n\nMeasured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} at "
        f"commit {git_revision()} on: {machine()}.\n\n"
    )
    path.write_text(header + body.rstrip() + "\n")
    return path


@dataclass
class Figure:
    """One measured figure of `make bench`, beside its reference measured in the same run.

    `ratio` is the figure over the reference (or the reference over the figure for times,
    see `ratio_label`), so that a ratio reads the way the goal is written."""

    section: str
    name: str
    value: float
    unit: str
    reference: str = ""
    reference_value: float | None = None
    ratio: float | None = None
    ratio_label: str = ""
    goal: str = ""
    met: bool | None = None
    spread: str = ""
    runs: list[float] = field(default_factory=list)


def ratio_of(values: list[float], references: list[float]) -> float:
    """Median of the per-round ratios value/reference (rounds alternate, so noise is shared)."""
    return statistics.median(v / r for v, r in zip(values, references, strict=True) if r)
