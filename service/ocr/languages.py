"""Tesseract models for a document's languages (tags are parsed by service/languages.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from service.languages import UNDETERMINED, LanguageTag, parse_tags

# Language subtag -> Tesseract model. Script overrides below take precedence.
TESSERACT_MODELS: dict[str, str] = {
    "de": "deu",
    "en": "eng",
    "fr": "fra",
    "la": "lat",
    "es": "spa",
    "it": "ita",
    "nl": "nld",
    "grc": "grc",
}

# (language, script) -> model: `Latf` is Fraktur (blackletter), read by the frk model.
SCRIPT_MODELS: dict[tuple[str, str], str] = {
    ("de", "Latf"): "frk",
}

# What the service reads with, by script (measured in bench/results/ocr-eval.md): the
# Fraktur script model knows long s and Fraktur ligatures better than `frk`.
FRAKTUR_MODELS = "Fraktur"
# OSD script name -> model for documents whose language is `auto`.
SCRIPT_OF_OSD: dict[str, str] = {"Fraktur": "Latf", "Latin": "Latn", "Greek": "Grek"}
AUTO_MODELS: dict[str, str] = {"Latf": FRAKTUR_MODELS, "Latn": "Latin", "Grek": "grc"}


def _plain_model(parsed: LanguageTag) -> str:
    if parsed.script and (parsed.language, parsed.script) in SCRIPT_MODELS:
        return SCRIPT_MODELS[(parsed.language, parsed.script)]
    return TESSERACT_MODELS[parsed.language]


def tesseract_languages(tag: str) -> str:
    """Return the plain Tesseract `-l` value for a document language (the baseline)."""
    return _join(_plain_model(t) for t in parse_tags(tag) if t.language != UNDETERMINED)


@dataclass(frozen=True)
class ModelChoice:
    """The models OCR reads a document with, and the script they are for.

    `candidates` holds more than one choice when the script must be decided from the
    first page (German without a script subtag: Fraktur or Antiqua).
    """

    models: str
    script: str | None
    candidates: tuple[tuple[str, str], ...] = ()

    @property
    def undecided(self) -> bool:
        """True when the first page must decide (by OSD or by mean confidence)."""
        return self.script is None


def ocr_models(tag: str) -> ModelChoice:
    """The models for a document language; `auto` and bare `de` are decided per document."""
    tags = parse_tags(tag)
    main = tags[0]
    if main.language == UNDETERMINED:
        return ModelChoice("", None)
    extra = [_plain_model(t) for t in tags[1:]]
    if main.language == "de" and main.script is None:
        fraktur = _join([FRAKTUR_MODELS, *extra])
        antiqua = _join(["deu", *extra])
        return ModelChoice("", None, (("Latf", fraktur), ("Latn", antiqua)))
    if main.script == "Latf":
        return ModelChoice(_join([FRAKTUR_MODELS, *extra]), "Latf")
    return ModelChoice(_join([_plain_model(main), *extra]), main.script or "Latn")


def auto_models(osd_script: str | None) -> ModelChoice:
    """Models for a page whose script OSD detected (Latin script when it could not tell)."""
    script = SCRIPT_OF_OSD.get(osd_script or "", "Latn")
    return ModelChoice(AUTO_MODELS[script], script)


def _join(models: Iterable[str]) -> str:
    seen: list[str] = []
    for model in models:
        if model not in seen:
            seen.append(model)
    return "+".join(seen)
