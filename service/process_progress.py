"""The progress line of `palimpsest process`: pages read, segments translated, ETA.

On a terminal it is a bar redrawn in place; otherwise (a log, a pipe) one plain line per
step, as before.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from service.db import unit_of_work
from service.jobs import service as jobs
from service.jobs.models import JobStage
from service.jobs.steps import Step

WIDTH = 24


@dataclass(frozen=True)
class Counts:
    """How far a document got: pages and segments settled of those known."""

    pages: int
    pages_total: int
    segments: int
    segments_total: int
    translating: bool

    def fraction(self) -> float:
        """Share of the work done; translation weighs as much as reading when it runs."""
        read = self.pages / self.pages_total if self.pages_total else 0.0
        if not self.translating:
            return read
        # Segments of pages not yet read are unknown: their share is the pages' share.
        translated = self.segments / self.segments_total * read if self.segments_total else 0.0
        return (read + translated) / 2


def bar(counts: Counts, elapsed_s: float, label: str) -> str:
    """`label [#####-----] pages 12/100 · segments 40/310 · ETA 2m10s`."""
    fraction = counts.fraction()
    filled = round(WIDTH * fraction)
    parts = [f"pages {counts.pages}/{counts.pages_total}"]
    if counts.translating:
        parts.append(f"segments {counts.segments}/{counts.segments_total}")
    parts.append(f"ETA {_eta(fraction, elapsed_s)}")
    return f"{label} [{'#' * filled}{'-' * (WIDTH - filled)}] " + " · ".join(parts)


def _eta(fraction: float, elapsed_s: float) -> str:
    if fraction <= 0.02 or elapsed_s < 1:
        return "…"
    left = int(elapsed_s * (1 - fraction) / fraction)
    return f"{left // 60}m{left % 60:02d}s" if left >= 60 else f"{left}s"


@dataclass
class Progress:
    """Reports a document's progress before each step the runner takes."""

    document_id: int
    label: str
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    started: float = field(default_factory=time.monotonic)
    _drawn: bool = False

    def update(self, step: Step) -> None:
        """Redraw the bar (terminal) or name the step (otherwise)."""
        if not self.stream.isatty():
            name = step.task.value.removeprefix("palimpsest.")
            print(f"… {name} {step.args[0]}", file=self.stream)
            return
        line = bar(self._counts(), time.monotonic() - self.started, self.label)
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line with the final counts."""
        if self._drawn:
            line = bar(self._counts(), time.monotonic() - self.started, self.label)
            self.stream.write("\r" + line + "\x1b[K\n")
            self.stream.flush()

    def _counts(self) -> Counts:
        with unit_of_work() as session:
            stages = {j.stage: j for j in jobs.for_document(session, self.document_id)}
        ocr, translate = stages[JobStage.OCR], stages[JobStage.TRANSLATE]
        return Counts(
            ocr.done + ocr.failed,
            ocr.total,
            translate.done + translate.failed,
            translate.total,
            translating=translate.status.value != "skipped",
        )
