"""Splitting a segment's text into runs for display: low-confidence words and annotations.

The text itself is never altered, so character offsets in the browser (selection → new
annotation) are offsets into the stored text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from service.review.models import Annotation, AnnotationLayer


@dataclass(frozen=True)
class Mark:
    """A character range [start, end) to style, with a CSS class and a tooltip."""

    start: int
    end: int
    css: str
    title: str = ""


@dataclass
class Run:
    """A stretch of text with the same marks."""

    text: str
    classes: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    @property
    def css(self) -> str:
        """Space-separated CSS classes."""
        return " ".join(dict.fromkeys(self.classes))

    @property
    def title(self) -> str:
        """Tooltip text of every mark on the run."""
        return "; ".join(t for t in dict.fromkeys(self.titles) if t)


def runs(text: str, marks: Iterable[Mark]) -> list[Run]:
    """Cut text at every mark boundary; each run lists the marks covering it."""
    valid = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    if not valid:
        return [Run(text)]
    cuts = sorted({0, len(text), *(m.start for m in valid), *(m.end for m in valid)})
    result = []
    for start, end in pairwise(cuts):
        # Marks are few per segment (some words, a few annotations): a scan is cheapest.
        covering = [m for m in valid if m.start <= start and end <= m.end]
        result.append(Run(text[start:end], [m.css for m in covering], [m.title for m in covering]))
    return result


def low_confidence_marks(
    text: str, lines: Sequence[dict[str, Any]], threshold: float
) -> list[Mark]:
    """Marks for words read with confidence under the threshold, if the text is still as read."""
    marks: list[Mark] = []
    offset = 0
    for i, line in enumerate(lines):
        if i:
            offset += 1  # the newline between lines
        for j, word in enumerate(line.get("words", [])):
            if j:
                offset += 1  # the space between words
            token = str(word.get("text", ""))
            if text[offset : offset + len(token)] != token:
                return []  # the text was corrected since OCR: boxes no longer map
            conf = float(word.get("conf", 100))
            if conf < threshold:
                marks.append(
                    Mark(offset, offset + len(token), "low-conf", f"OCR confidence {conf:.0f} %")
                )
            offset += len(token)
    return marks


def annotation_marks(annotations: Iterable[Annotation], layer: AnnotationLayer) -> list[Mark]:
    """Marks for the annotations of one layer."""
    return [
        Mark(
            a.start,
            a.end,
            f"ann ann-{a.type.value}",
            a.type.value + (f": {a.body}" if a.body else ""),
        )
        for a in annotations
        if a.layer is layer
    ]
