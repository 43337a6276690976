"""Language names as prompts and exports write them."""

from __future__ import annotations

from service.errors import InvalidInput
from service.ocr.languages import LanguageTag, parse_tag


def language_name(tag: str) -> str:
    """English name for a tag; unknown tags are passed through as written."""
    try:
        parsed: LanguageTag = parse_tag(tag)
    except InvalidInput:
        return tag
    return parsed.name.replace(" (Fraktur)", "")


def language_code(tag: str) -> str:
    """The primary language subtag (`de` for `de-Latf+la`); unknown tags as written."""
    try:
        return parse_tag(tag).language
    except InvalidInput:
        return tag
