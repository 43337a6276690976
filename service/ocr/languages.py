"""BCP-47 language tags (with an optional script subtag) to Tesseract models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from service.errors import InvalidInput

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

AUTO = "auto"
# "auto" is stored as BCP-47's "und" (undetermined): OSD picks the script's model per page.
UNDETERMINED = "und"

# (language, script) -> model: `Latf` is Fraktur (blackletter), read by the frk model.
SCRIPT_MODELS: dict[tuple[str, str], str] = {
    ("de", "Latf"): "frk",
}

LANGUAGE_NAMES: dict[str, str] = {
    "de": "German",
    "en": "English",
    "fr": "French",
    "la": "Latin",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "grc": "Ancient Greek",
    UNDETERMINED: "the original language",
}

# What the service reads with, by script (measured in bench/results/ocr-eval.md): the
# Fraktur script model knows long s and Fraktur ligatures better than `frk`.
FRAKTUR_MODELS = "Fraktur"
# OSD script name -> model for documents whose language is `auto`.
SCRIPT_OF_OSD: dict[str, str] = {"Fraktur": "Latf", "Latin": "Latn", "Greek": "Grek"}
AUTO_MODELS: dict[str, str] = {"Latf": FRAKTUR_MODELS, "Latn": "Latin", "Grek": "grc"}


@dataclass(frozen=True)
class LanguageTag:
    """A parsed BCP-47 tag: language, optional script and region."""

    language: str
    script: str | None = None
    region: str | None = None

    def __str__(self) -> str:
        return "-".join(p for p in (self.language, self.script, self.region) if p)

    @property
    def name(self) -> str:
        """English name of the language, for prompts and the UI."""
        base = LANGUAGE_NAMES.get(self.language, self.language)
        return f"{base} (Fraktur)" if self.script == "Latf" else base


def parse_tag(tag: str) -> LanguageTag:
    """Parse `de`, `de-Latf`, `fr-FR`... or raise InvalidInput naming what is supported.

    Of a combined tag (`de-Latf+la`, for a Latin motto in a German book) the first part,
    the document's main language, is returned.
    """
    primary = tag.split("+", 1)[0]
    if primary.strip().lower() in (AUTO, UNDETERMINED):
        return LanguageTag(UNDETERMINED)
    parts = primary.strip().replace("_", "-").split("-")
    language = parts[0].lower()
    if language not in TESSERACT_MODELS:
        supported = ", ".join(sorted(TESSERACT_MODELS))
        raise InvalidInput(
            f"Unsupported language {tag!r}; supported: {supported} (de-Latf for Fraktur)."
        )
    script = region = None
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            script = part.title()
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            region = part.upper()
        else:
            raise InvalidInput(f"Malformed language tag {tag!r}: unexpected subtag {part!r}.")
    return LanguageTag(language, script, region)


def parse_tags(tag: str) -> list[LanguageTag]:
    """Parse a `+`-joined list of tags (`en+grc`), main language first."""
    return [parse_tag(part) for part in tag.split("+") if part.strip()] or [parse_tag(tag)]


def normalise_tag(tag: str) -> str:
    """Return the canonical spelling of a tag (`DE-latf+LA` → `de-Latf+la`)."""
    return "+".join(str(t) for t in parse_tags(tag))


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
