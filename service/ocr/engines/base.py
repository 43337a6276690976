"""The OCR engine interface and the layout it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class Orientation:
    """What the engine's orientation detection says: clockwise turn to upright, script."""

    rotate: int
    script: str | None
    confidence: float


@dataclass
class Word:
    """A recognised word with its box (left, top, right, bottom) and confidence 0–100."""

    text: str
    bbox: BBox
    confidence: float


@dataclass
class Line:
    """A text line: its words in reading order."""

    bbox: BBox
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The line's words joined by spaces."""
        return " ".join(w.text for w in self.words)


@dataclass
class Block:
    """A paragraph-sized block of lines; becomes one segment."""

    bbox: BBox
    lines: list[Line] = field(default_factory=list)
    # The block's role (a SegmentKind value), set by layout analysis after recognition.
    kind: str = "paragraph"

    @property
    def words(self) -> list[Word]:
        """Every word of the block in reading order."""
        return [w for line in self.lines for w in line.words]

    @property
    def text(self) -> str:
        """The block's lines joined by newlines (diplomatic line breaks kept)."""
        return "\n".join(line.text for line in self.lines)

    @property
    def confidence(self) -> float | None:
        """Mean word confidence, or None for a block without words."""
        words = self.words
        return sum(w.confidence for w in words) / len(words) if words else None

    @property
    def min_confidence(self) -> float | None:
        """Confidence of the least certain word, or None for a block without words."""
        return min((w.confidence for w in self.words), default=None)


@dataclass
class PageLayout:
    """What an engine read on one page: blocks in reading order."""

    width: int
    height: int
    blocks: list[Block]
    engine: str
    languages: str

    @property
    def mean_confidence(self) -> float | None:
        """Mean confidence of every word on the page."""
        words = [w for b in self.blocks for w in b.words]
        return sum(w.confidence for w in words) / len(words) if words else None


class OcrEngine(Protocol):
    """Reads one page image into blocks, lines and words."""

    name: str

    def recognize(self, image: Image.Image, languages: str, dpi: int = 300) -> PageLayout:
        """Return the page's layout; raise OcrFailed (permanent) or TransientError."""
        ...

    def orientation(self, image: Image.Image, dpi: int = 300) -> Orientation | None:
        """Rotation and script of the page, or None when it cannot tell."""
        ...
