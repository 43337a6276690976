"""Asking a vision model about one image: its answer cleaned and checked, asked once more
(more strictly) when it is unusable, and given up with the reason when it stays so — as
the translation backends handle their models' answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.errors import BackendFailed
from service.transcription.vision import checks, prompts
from service.transcription.vision.base import VisionAnswer, VisionBackend, VisionRequest
from service.transcription.vision.images import Crop


@dataclass
class Reading:
    """What came of asking: the text (lines for a transcription), flags, cost, attempts."""

    text: str
    lines: list[str] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    tokens_in: int | None = None
    tokens_out: int | None = None
    duration_ms: float = 0.0
    host: str | None = None


def transcribe(backend: VisionBackend, crop: Crop, source_lang: str, lines: int) -> Reading:
    """The text of an image of `lines` lines of handwriting or print, as written."""
    user = prompts.transcribe_user(lines)

    def ask(strict: str | None) -> VisionRequest:
        system = prompts.transcribe_system(source_lang, strict)
        return VisionRequest(crop.data, crop.media_type, system, user, 96 * max(1, lines) + 64)

    reading = _asked(backend, ask, source_lang)
    reading.lines, finding = checks.fitted_lines(reading.text, lines)
    if finding is not None:
        reading.flags.append(_flag(finding))
    return reading


def correct(backend: VisionBackend, crop: Crop, source_lang: str, ocr_text: str) -> Reading:
    """The OCR text corrected against its image, spelling kept; changes of spelling flagged."""
    user = prompts.correct_user(ocr_text)
    budget = 2 * len(ocr_text) // 3 + 64

    def ask(strict: str | None) -> VisionRequest:
        system = prompts.correct_system(source_lang, strict)
        return VisionRequest(crop.data, crop.media_type, system, user, budget)

    reading = _asked(backend, ask, source_lang)
    found = checks.modernised(ocr_text, reading.text, source_lang)
    if found:  # asked again once, told which words it changed; what stays is flagged
        strict = "; ".join(f.message for f in found) + ": keep the spelling of the page"
        again = _asked(backend, ask, source_lang, strict, reading)
        found = checks.modernised(ocr_text, again.text, source_lang)
        reading = again
    reading.flags += [_flag(f) for f in found]
    return reading


def _asked(
    backend: VisionBackend,
    ask: Callable[[str | None], VisionRequest],
    source_lang: str,
    strict: str | None = None,
    before: Reading | None = None,
) -> Reading:
    """One answer, and a stricter second one when the first cannot stand."""
    reading = before or Reading("")
    answer = _read(backend, ask(strict), reading)
    finding = checks.problem(checks.clean(answer.text), source_lang)
    if finding is not None and strict is None:
        reading.flags.append(_flag(finding) | {"retried": True})
        answer = _read(backend, ask(finding.message), reading)
        finding = checks.problem(checks.clean(answer.text), source_lang)
    if finding is not None:
        raise BackendFailed(f"{backend.model}: {finding.message}, also after a stricter retry")
    if answer.done_reason == "length":
        cut = "the answer was cut at its length limit"
        reading.flags.append({"kind": "truncated", "message": cut})
    reading.text = checks.clean(answer.text)
    return reading


def _read(backend: VisionBackend, request: VisionRequest, reading: Reading) -> VisionAnswer:
    answer = backend.read(request)
    reading.attempts += 1
    reading.tokens_in = (reading.tokens_in or 0) + (answer.tokens_in or 0) or None
    reading.tokens_out = (reading.tokens_out or 0) + (answer.tokens_out or 0) or None
    reading.duration_ms += answer.duration_ms or 0.0
    reading.host = answer.host
    return answer


def _flag(finding: checks.Finding) -> dict[str, Any]:
    return {"kind": finding.kind, "message": finding.message}
