"""Tesseract through pytesseract's `image_to_data`: words, lines and paragraphs with boxes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytesseract
from PIL import Image

from service.errors import OcrFailed, TransientError
from service.ocr.engines.base import BBox, Block, Line, PageLayout, Word

# Tesseract spreads one page over all cores through OpenMP; we run one process per core.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

WORD_LEVEL = 5


class TesseractEngine:
    """Runs the `tesseract` binary; paragraphs become blocks in Tesseract's reading order."""

    name = "tesseract"

    def __init__(self, timeout_s: int = 300, psm: int = 3) -> None:
        self.timeout_s = timeout_s
        self.psm = psm

    @property
    def version(self) -> str:
        """Version of the Tesseract binary, e.g. `5.3.0`."""
        return str(pytesseract.get_tesseract_version())

    def recognize(self, image: Image.Image, languages: str) -> PageLayout:
        """Run Tesseract on the image with the given `+`-joined models."""
        data = self._image_to_data(image, languages)
        blocks = list(_blocks(data))
        return PageLayout(
            width=image.width,
            height=image.height,
            blocks=blocks,
            engine=f"tesseract {self.version}",
            languages=languages,
        )

    def _image_to_data(self, image: Image.Image, languages: str) -> dict[str, list[Any]]:
        try:
            result: dict[str, list[Any]] = pytesseract.image_to_data(
                image,
                lang=languages,
                config=f"--psm {self.psm}",
                output_type=pytesseract.Output.DICT,
                timeout=self.timeout_s,
            )
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrFailed(
                "Tesseract is not installed on the worker (apt install tesseract-ocr)."
            ) from exc
        except pytesseract.TesseractError as exc:
            raise OcrFailed(f"Tesseract could not read the page: {exc.message.strip()}") from exc
        except RuntimeError as exc:
            if "timeout" in str(exc).lower():
                raise TransientError(f"Tesseract took longer than {self.timeout_s} s.") from exc
            raise
        return result


def _blocks(data: dict[str, list[Any]]) -> Iterator[Block]:
    """Group word rows by (block, paragraph, line) keeping Tesseract's order."""
    paragraphs: dict[tuple[int, int], dict[int, list[Word]]] = {}
    for i, level in enumerate(data["level"]):
        text = str(data["text"][i]).strip()
        if int(level) != WORD_LEVEL or not text:
            continue
        para_key = (int(data["block_num"][i]), int(data["par_num"][i]))
        line_key = int(data["line_num"][i])
        word = Word(text=text, bbox=_bbox(data, i), confidence=max(0.0, float(data["conf"][i])))
        paragraphs.setdefault(para_key, {}).setdefault(line_key, []).append(word)
    for lines in paragraphs.values():
        built = [Line(bbox=_union(w.bbox for w in words), words=words) for words in lines.values()]
        yield Block(bbox=_union(line.bbox for line in built), lines=built)


def _bbox(data: dict[str, list[Any]], i: int) -> BBox:
    left, top = int(data["left"][i]), int(data["top"][i])
    return (left, top, left + int(data["width"][i]), top + int(data["height"][i]))


def _union(boxes: Iterator[BBox] | list[BBox]) -> BBox:
    xs0, ys0, xs1, ys1 = zip(*boxes, strict=True)
    return (min(xs0), min(ys0), max(xs1), max(ys1))
