"""Tesseract through pytesseract's `image_to_data`: words, lines and paragraphs with boxes."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytesseract
from PIL import Image

from service.errors import OcrFailed, TransientError
from service.imaging import is_bilevel
from service.ocr.engines.base import BBox, Block, Line, Orientation, PageLayout, Word

# Tesseract spreads one page over all cores through OpenMP; we run one process per core,
# so each Tesseract gets one thread. Only Tesseract: the embedded model (also OpenMP) in
# the model worker must keep its threads, so the limit is not put on the worker process.
ONE_THREAD = "1"

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
        return tesseract_version()

    def recognize(self, image: Image.Image, languages: str, dpi: int = 300) -> PageLayout:
        """Run Tesseract on the image with the given `+`-joined models."""
        data = self._image_to_data(image, languages, dpi)
        blocks = list(_blocks(data))
        return PageLayout(
            width=image.width,
            height=image.height,
            blocks=blocks,
            engine=f"tesseract {self.version}",
            languages=languages,
        )

    def orientation(self, image: Image.Image, dpi: int = 300) -> Orientation | None:
        """Tesseract's orientation and script detection, or None when it finds too little text."""
        try:
            osd = self._call(
                pytesseract.image_to_osd,
                image,
                config=f"--psm 0 --dpi {dpi}",
                output_type=pytesseract.Output.DICT,
            )
        except OcrFailed:
            # OSD refuses pages with too few characters (blank pages, pictures).
            return None
        return Orientation(
            rotate=int(osd.get("rotate", 0)),
            script=str(osd.get("script") or "") or None,
            confidence=float(osd.get("orientation_conf", 0.0)),
        )

    def _image_to_data(self, image: Image.Image, languages: str, dpi: int) -> dict[str, list[Any]]:
        result: dict[str, list[Any]] = self._call(
            pytesseract.image_to_data,
            image,
            lang=languages,
            config=f"--psm {self.psm} --dpi {dpi}",
            output_type=pytesseract.Output.DICT,
        )
        return result

    def _call(self, function: Any, image: Image.Image, **kwargs: Any) -> Any:
        # An uncompressed PBM/PGM/PPM is written and read far faster than pytesseract's PNG.
        with tempfile.TemporaryDirectory(prefix="palimpsest-ocr-") as folder:
            mode = netpbm_mode(image)
            path = Path(folder) / f"page.{_NETPBM_SUFFIX[mode]}"
            image.convert(mode, dither=Image.Dither.NONE).save(path)
            return self._run(function, str(path), **kwargs)

    def _run(self, function: Any, path: str, **kwargs: Any) -> Any:
        try:
            with one_thread():
                return function(path, timeout=self.timeout_s, **kwargs)
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


_NETPBM_SUFFIX = {"1": "pbm", "L": "pgm", "RGB": "ppm"}


def netpbm_mode(image: Image.Image) -> str:
    """The mode Tesseract is given the page in: a black-and-white page (a bilevel scan that
    preparation left without grey) as 1 bit, which Tesseract reads faster than the same
    pixels as grey, with the same words and boxes (bench/results/latest.md)."""
    if image.mode == "RGB":
        return "RGB"
    if image.mode == "1" or is_bilevel(image):
        return "1"
    return "L"


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    """The binary's version, asked once per process (not once per page)."""
    with one_thread():
        return str(pytesseract.get_tesseract_version())


@contextmanager
def one_thread() -> Iterator[None]:
    """Give the Tesseract subprocess started inside the block one OpenMP thread.

    pytesseract passes this process's environment to Tesseract; worker processes run one
    task at a time, so setting it for the call and restoring it after is race-free.
    """
    before = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = ONE_THREAD
    try:
        yield
    finally:
        if before is None:
            del os.environ["OMP_THREAD_LIMIT"]
        else:
            os.environ["OMP_THREAD_LIMIT"] = before


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


def word_list(model: str) -> Path | None:
    """A text file of the dictionary inside a model's `.traineddata`, one lower-case word a
    line (None when the model has none).

    Unpacked with Tesseract's own `combine_tessdata` and `dawg2wordlist` (shipped in the
    tesseract-ocr package) the first time, then kept under the data directory beside the
    model's size and date, so later processes find it ready.
    """
    source = tessdata_dir() / f"{model}.traineddata"
    if not source.exists():
        return None
    stat = source.stat()
    from service.config import get_settings
    from service.storage import write_atomically

    kept = get_settings().data_dir / "lexicons" / f"{model}-{stat.st_size}-{stat.st_mtime_ns}.txt"
    if not kept.exists():
        words = sorted({w.lower() for w in _unpack_word_list(source)})
        write_atomically(kept, "\n".join(words).encode("utf-8"))
    return kept if kept.stat().st_size else None


def _unpack_word_list(source: Path) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="palimpsest-dawg-") as folder:
        prefix = str(Path(folder) / "model.")
        charset, dawg = Path(prefix + "lstm-unicharset"), Path(prefix + "lstm-word-dawg")
        out = Path(folder) / "words.txt"
        try:
            _tool("combine_tessdata", "-u", str(source), prefix)
            if not (charset.exists() and dawg.exists()):
                return []
            _tool("dawg2wordlist", str(charset), str(dawg), str(out))
        except (OSError, subprocess.CalledProcessError):
            return []
        return out.read_text(encoding="utf-8", errors="replace").split()


def _tool(*command: str) -> None:
    subprocess.run(command, capture_output=True, check=True, timeout=120)


@lru_cache(maxsize=1)
def tessdata_dir() -> Path:
    """Where the models lie: TESSDATA_PREFIX, or what `tesseract --list-langs` names."""
    if prefix := os.environ.get("TESSDATA_PREFIX"):
        return Path(prefix)
    done = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True)
    found = re.search(r'"([^"]+)"', done.stdout + done.stderr)
    return Path(found.group(1)) if found else Path("/usr/share/tesseract-ocr/5/tessdata")
