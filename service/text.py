"""Text layers: the diplomatic text as read, and a normalised reading form beside it."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Line-end hyphens of historical print: ASCII hyphen, Fraktur double hyphen, not sign.
LINE_END_HYPHENS = "-¬⸗="
_HYPHEN_BREAK = re.compile(rf"(\w)[{re.escape(LINE_END_HYPHENS)}]\s*\n\s*(\w)")
_WHITESPACE = re.compile(r"\s+")
_CHARACTER_MAP = str.maketrans({"ſ": "s", "ꝛ": "r", "ꝰ": "us", "\u00ad": ""})
# Superscript e over a vowel is the older umlaut: aͤ → ä, oͤ → ö, uͤ → ü.
_SUPERSCRIPT_E = re.compile("([aouAOU])\u0364")


def normalise(diplomatic: str) -> str:
    """Return the reading form: hyphenated words rejoined, long s and old umlauts modernised."""
    text = unicodedata.normalize("NFC", diplomatic)
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    text = _SUPERSCRIPT_E.sub(lambda m: unicodedata.normalize("NFC", m.group(1) + "\u0308"), text)
    text = text.translate(_CHARACTER_MAP)
    return _WHITESPACE.sub(" ", text).strip()


def source_hash(text: str) -> str:
    """Hash of the text a translation was made from; a different hash means stale."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def storable(text: str) -> str:
    """Text safe to store in Postgres, which refuses NUL characters (seen in model output)."""
    return text.replace("\x00", "")
