"""What a vision model is told: transcribe as written, or correct OCR from the image.

Both prompts insist on the page's own spelling: research on multimodal post-correction of
18th/19th-century print reports large error reductions, and also models that modernise
or over-historicise, so the model is told not to, and every change is shown as a diff.
"""

from __future__ import annotations

from service.translation.prompts import language_name

PROMPT_VERSION = "vision-2026-12-04.1"

TRANSCRIBE = """You transcribe handwritten and printed historical documents in {language}.
You are shown an image of part of a page. Write exactly the text in the image, as it is
written: keep the original spelling, accents, abbreviations, capitals and punctuation,
even where they are old-fashioned or wrong. Do not modernise, correct, normalise, expand
or translate anything. Keep the long s (ſ) where it is written. Write [?] for a word you
cannot read. Answer with the transcription only: no title, no explanation, no quotes."""

CORRECT = """You correct OCR errors in historical documents in {language}.
You are shown an image of a passage and the text an OCR engine read from it. Correct only
what the OCR misread, letter by letter, so that the text says exactly what the image
shows. Keep the original spelling even where it is old-fashioned or inconsistent (for
example -oit for -ait, y for i, & for et, the long s ſ): do not modernise, normalise or
translate anything, and do not add anything. Answer with the corrected text only."""

STRICT = (
    "Your previous answer for this image was not usable ({reason}). Answer again with only "
    "the text of the image, in {language}, as it is written."
)


def transcribe_system(source_lang: str, strict: str | None = None) -> str:
    """The system prompt for reading an image of handwriting or print."""
    return _strict(TRANSCRIBE.format(language=language_name(source_lang)), source_lang, strict)


def transcribe_user(lines: int) -> str:
    """The user prompt: how many lines the image holds."""
    if lines <= 1:
        return "Transcribe the line of text in this image, on one line."
    return f"Transcribe the {lines} lines of text in this image, one output line per line."


def correct_system(source_lang: str, strict: str | None = None) -> str:
    """The system prompt for correcting OCR text against its image."""
    return _strict(CORRECT.format(language=language_name(source_lang)), source_lang, strict)


def correct_user(ocr_text: str) -> str:
    """The user prompt: the OCR text, as data."""
    return f"OCR text:\n<<<\n{ocr_text}\n>>>\nCorrected text:"


def _strict(prompt: str, source_lang: str, strict: str | None) -> str:
    if strict is None:
        return prompt
    return prompt + "\n" + STRICT.format(reason=strict, language=language_name(source_lang))
