"""BCP-47 language tags (with an optional script subtag) to Tesseract models."""

from __future__ import annotations

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
}

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
}


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
    """Parse `de`, `de-Latf`, `fr-FR`... or raise InvalidInput naming what is supported."""
    parts = tag.strip().replace("_", "-").split("-")
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


def normalise_tag(tag: str) -> str:
    """Return the canonical spelling of a tag (`DE-latf` → `de-Latf`)."""
    return str(parse_tag(tag))


def tesseract_languages(tag: str) -> str:
    """Return the Tesseract `-l` value for a document language."""
    parsed = parse_tag(tag)
    if parsed.script and (parsed.language, parsed.script) in SCRIPT_MODELS:
        return SCRIPT_MODELS[(parsed.language, parsed.script)]
    return TESSERACT_MODELS[parsed.language]
