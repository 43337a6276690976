"""`palimpsest eval-ocr DIR`: the OCR stage against ground truth, beside plain Tesseract.

DIR is laid out like `../shared/data`: `pages/<id>/` with one image and `gt.txt` (and
optionally `gt.norm.txt`, preferred: private-use ligatures expanded), described by
`manifest.json` (language, script, notes). Both readers run in this process, one page at a
time, Tesseract limited to one thread, so their times compare.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.documents.files import MediaType, render_page, sniff
from service.ocr.cer import Layer, cer, unordered_cer
from service.ocr.engines.base import OcrEngine
from service.ocr.languages import ocr_models, tesseract_languages
from service.ocr.preprocess import PrepStep
from service.ocr.reading import read_image

GT_FILES = ("gt.norm.txt", "gt.txt")
_LANGUAGES = {
    "german": "de",
    "french": "fr",
    "english": "en",
    "latin": "la",
    "spanish": "es",
    "italian": "it",
    "dutch": "nl",
}
_PREFIXES = {"deu": "de", "fra": "fr", "eng": "en", "lat": "la", "spa": "es", "ita": "it"}


@dataclass(frozen=True)
class EvalPage:
    """One page of the evaluation set."""

    id: str
    image: Path
    truth: str
    tag: str
    handwritten: bool
    ambiguous_order: bool


@dataclass
class PageResult:
    """CER of both readers on one page, per layer, and their times."""

    page: EvalPage
    ours: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    ours_s: float = 0.0
    baseline_s: float = 0.0
    flagged: bool = False

    def score(self, reader: str, layer: Layer) -> float:
        """The headline CER: order-independent on pages whose reading order is ambiguous."""
        values = self.ours if reader == "ours" else self.baseline
        key = f"{layer}-unordered" if self.page.ambiguous_order else str(layer)
        return values[key]


def discover(folder: Path) -> list[EvalPage]:
    """The pages of a folder laid out like ../shared/data, in manifest order."""
    manifest = folder / "manifest.json"
    records: list[dict[str, Any]] = json.loads(manifest.read_text()) if manifest.exists() else []
    by_id = {r["id"]: r for r in records}
    ids = [r["id"] for r in records] or sorted(p.name for p in (folder / "pages").iterdir())
    return [_page(folder / "pages" / pid, by_id.get(pid, {"id": pid})) for pid in ids]


def _page(directory: Path, record: dict[str, Any]) -> EvalPage:
    truth = next((directory / n).read_text() for n in GT_FILES if (directory / n).exists())
    script = str(record.get("script", "")) or ("Fraktur" if "fraktur" in record["id"] else "")
    notes = f"{record.get('notes', '')} {record.get('title', '')} {record['id']}".lower()
    return EvalPage(
        id=record["id"],
        image=_image_in(directory, record.get("image")),
        truth=truth,
        tag=_tag(record, script),
        handwritten="hand" in script.lower() or "-hand-" in record["id"],
        ambiguous_order=any(k in notes for k in ("reading order", "title page", "titlepage"))
        or "marginal" in notes,
    )


def _image_in(directory: Path, name: str | None) -> Path:
    if name:
        return directory / name
    for path in sorted(directory.iterdir()):
        try:
            with path.open("rb") as f:
                sniff(f.read(1024))
        except Exception:  # noqa: S112 - anything not an image is skipped
            continue
        return path
    raise FileNotFoundError(f"no image in {directory}")


def _tag(record: dict[str, Any], script: str) -> str:
    language = str(record.get("language", "")).lower()
    code = next((c for name, c in _LANGUAGES.items() if language.startswith(name)), None)
    code = code or _PREFIXES.get(record["id"][:3], "en")
    extra = "+grc" if "greek" in language or "greek" in script.lower() else ""
    extra += "+la" if "+latin" in language.replace(" ", "").replace("(", "") else ""
    if code == "de":
        code = "de-Latf" if "fraktur" in script.lower() else "de-Latn"
    return code + extra


def evaluate(
    pages: Iterable[EvalPage],
    engine: OcrEngine,
    steps: frozenset[PrepStep] | None,
    baseline: bool = True,
    progress: Any = None,
) -> list[PageResult]:
    """Run both readers on every page and score them."""
    results = []
    for page in pages:
        result = PageResult(page)
        text, result.ours_s, result.flagged = _ours(page, engine, steps)
        result.ours = _scores(text, page.truth)
        if baseline:
            plain = tesseract_languages(page.tag.split("+", 1)[0])
            base_text, result.baseline_s = plain_tesseract(page.image, plain)
            result.baseline = _scores(base_text, page.truth)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _ours(
    page: EvalPage, engine: OcrEngine, steps: frozenset[PrepStep] | None
) -> tuple[str, float, bool]:
    start = time.perf_counter()
    with page.image.open("rb") as f:
        media_type = MediaType(sniff(f.read(1024)))
    rendered = render_page(page.image, media_type, 0, 300)
    reading = read_image(rendered.image, rendered.dpi, ocr_models(page.tag), engine, steps)
    text = "\n\n".join(b.text for b in reading.layout.blocks if b.words)
    return text, time.perf_counter() - start, not reading.legibility.readable


def plain_tesseract(image: Path, languages: str) -> tuple[str, float]:
    """`tesseract IMAGE stdout -l LANGS`, as a user would run it, and its wall time."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        ["tesseract", str(image), "stdout", "-l", languages],
        capture_output=True,
        check=True,
        env=env,
        timeout=600,
    )
    return done.stdout.decode("utf-8", "replace"), time.perf_counter() - start


def _scores(text: str, truth: str) -> dict[str, float]:
    scores = {}
    for layer in Layer:
        scores[str(layer)] = cer(text, truth, layer)
        scores[f"{layer}-unordered"] = unordered_cer(text, truth, layer)
    return scores
