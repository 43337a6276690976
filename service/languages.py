"""BCP-47 language tags (with an optional script subtag) and the names of their languages.

Documents, imports, OCR, translation and exports all speak of languages through these.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import InvalidInput

AUTO = "auto"
# "auto" is stored as BCP-47's "und" (undetermined): OSD picks the script's model per page.
UNDETERMINED = "und"

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
# The languages a document may be in (OCR has a model for each, translation a name).
SUPPORTED = tuple(sorted(code for code in LANGUAGE_NAMES if code != UNDETERMINED))


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
    if language not in SUPPORTED:
        supported = ", ".join(SUPPORTED)
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


def language_name(tag: str) -> str:
    """English name for a tag; unknown tags are passed through as written."""
    try:
        parsed = parse_tag(tag)
    except InvalidInput:
        return tag
    return parsed.name.replace(" (Fraktur)", "")


def language_code(tag: str) -> str:
    """The primary language subtag (`de` for `de-Latf+la`); unknown tags as written."""
    try:
        return parse_tag(tag).language
    except InvalidInput:
        return tag
