"""Long s (ſ) restored on Antiqua pages whose model read it as `f`.

Books printed before about 1800 set a long s (ſ) wherever s did not end a word. Tesseract's
Antiqua models (fra, lat, eng…) were trained on modern print and read it as `f`: "eſt"
becomes "eft", "ſociété" "fociété", "aſſurer" "aflurer". The normalised text sent to
translation then holds words that do not exist.

On a page where enough words are unknown with their `f` but known with ſ (the evidence:
a modern page has none), every such `f` becomes ſ in the diplomatic text, so the normalised
layer reads s. Known means in the word list of the model itself (Tesseract's dictionary),
accents aside. Where both readings are words ("fur"/"ſur"), the frequent s-word of a short
per-language list wins; where neither is, an `f` between letters that the word list pairs
far more often with s than with f ("fp", "fc") is taken for ſ.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from service.ocr.engines.base import PageLayout, Word
from service.storage import write_atomically

LONG_S = "ſ"
# Words restored on a page before any is: fewer is a modern page with a few OCR slips.
MIN_EVIDENCE = 3
# An unknown word's f is ſ when the letters around it are this many times likelier with s.
LETTER_ODDS = 20.0
# Words with more f than this are not tried (the readings to try grow as 3^n).
MAX_CANDIDATES = 4

# Where f and ſ both give a word, the one a page of that language far more often means.
_FREQUENT = {
    "fra": "se sa son ses sur si sont sous sans sera seront",
    "lat": "est sed sunt sua suo suis sic si se sit sibi sine sub super sum sive seu sint suam "
    "suum sui",
    "eng": "so see same said sent set sir soon",
    "spa": "se si su sus ser sin sobre sea son sido",
    "ita": "si se sua suo sue suoi sono sia sei sul sulla senza sopra",
    "deu": "sie sich so sind sein seine seyn",
}
FREQUENT_S_WORDS = {model: frozenset(words.split(" ")) for model, words in _FREQUENT.items()}
# Spellings of the time the word lists do not hold: French imperfect -oit for -ait.
ARCHAIC_ENDINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "fra": (("oient", "aient"), ("oit", "ait"), ("ois", "ais"), ("oi", "ai")),
}
# How Antiqua models misread ſ and its ligatures: f, and ſſ/ſt as fl, ſſ as ff, ſi as f.
_READINGS: dict[str, tuple[str, ...]] = {"fl": ("ſſ", "ſt"), "ff": ("ſſ",), "f": ("ſ", "ſi")}
_LETTERS = re.compile(r"[^\W\d_]+")


class Lexicon:
    """A model's word list as sorted 64-bit hashes of its words and their accent-free forms.

    Kept beside the word file and mapped from disk: a few MB shared by every worker process
    through the page cache, where a Python set of 338,000 English words took ~75 MB in each.
    The letter-pair counts are read from the word file when a page first needs them.
    """

    def __init__(self, model: str, path: Path) -> None:
        self.model = model
        self.path = path
        self.hashes = _hashes(path)

    def _has(self, word: str) -> bool:
        key = _hash(word)
        # As np.uint64: a Python int under 2**63 made numpy convert the whole array (~300 µs).
        at = int(np.searchsorted(self.hashes, np.uint64(key)))
        return at < len(self.hashes) and int(self.hashes[at]) == key

    def knows(self, word: str) -> bool:
        """True when the lower-case word is in the list, accents or an old ending aside."""
        if self._has(word) or self._has(_plain(word)):
            return True
        for old, new in ARCHAIC_ENDINGS.get(self.model, ()):
            if word.endswith(old) and self._has(_plain(word[: -len(old)] + new)):
                return True
        return False

    @cached_property
    def pairs(self) -> dict[str, int]:
        """How often each two letters follow each other (^ and $ mark the word's ends)."""
        counted: dict[str, int] = json.loads(_pairs_file(self.path).read_text(encoding="utf-8"))
        return counted

    def s_odds(self, before: str, after: str) -> float:
        """How much likelier the letters around are with s than with f."""
        pairs = self.pairs
        s = (pairs.get(before + "s", 0) + 1) * (pairs.get("s" + after, 0) + 1)
        f = (pairs.get(before + "f", 0) + 1) * (pairs.get("f" + after, 0) + 1)
        return s / f


def _hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def _pairs_file(words: Path) -> Path:
    """The letter-pair counts of a word file, counted once and kept beside it as JSON."""
    kept = words.with_suffix(".pairs.json")
    if not kept.exists():
        pairs: Counter[str] = Counter()
        for word in words.read_text(encoding="utf-8").split():
            pairs.update(a + b for a, b in itertools.pairwise(f"^{word}$"))
        write_atomically(kept, json.dumps(pairs, ensure_ascii=False).encode("utf-8"))
    return kept


def _hashes(words: Path) -> NDArray[np.uint64]:
    """The sorted hashes of a word file's words and accent-free forms, kept beside it."""
    kept = words.with_suffix(".hashes.npy")
    if not kept.exists():
        listed = words.read_text(encoding="utf-8").split()
        forms = {*listed, *(_plain(w) for w in listed if not w.isascii())}
        hashes = np.unique(np.fromiter((_hash(w) for w in forms), np.uint64, len(forms)))
        buffer = io.BytesIO()
        np.save(buffer, hashes)
        write_atomically(kept, buffer.getvalue())
    table: NDArray[np.uint64] = np.load(kept, mmap_mode="r")
    return table


class Reason(StrEnum):
    """Why a word is read with ſ."""

    UNKNOWN_WITH_F = "unknown with f"  # the page's evidence
    FREQUENT = "frequent s-word"
    LETTERS = "letters"


@dataclass(frozen=True)
class Decision:
    """How one word is to be read: the ſ reading, and why."""

    reading: str
    reason: Reason


def restore(layout: PageLayout, lexicon: Lexicon) -> dict[str, Any]:
    """Put ſ back into the page's words where the evidence says so; return the record."""
    by_word = [(w, _decide_word(w.text, lexicon, letters=False)) for w in _words(layout)]
    evidence = sum(
        1 for _, found in by_word for d in found.values() if d.reason is Reason.UNKNOWN_WITH_F
    )
    record: dict[str, Any] = {"lexicon": lexicon.model, "evidence": evidence, "restored": 0}
    if evidence < MIN_EVIDENCE:
        return record
    for word, decided in by_word:
        # With evidence, the letters may also decide the words nothing known fits.
        found = _decide_word(word.text, lexicon, letters=True, decided=decided)
        if found:
            word.text = _apply(word.text, found)
            record["restored"] += len(found)
    return record


def _words(layout: PageLayout) -> Iterator[Word]:
    for block in layout.blocks:
        for line in block.lines:
            yield from line.words


def _decide_word(
    text: str,
    lexicon: Lexicon,
    letters: bool,
    decided: dict[tuple[int, int], Decision] | None = None,
) -> dict[tuple[int, int], Decision]:
    """Decisions for the letter runs of a word as read, by their span; runs already
    `decided` (by an earlier pass) are kept, not decided again."""
    found = dict(decided or {})
    for match in _LETTERS.finditer(text):
        if match.span() in found:
            continue
        decision = decide(match.group(), lexicon, letters)
        if decision is not None:
            found[match.span()] = decision
    return found


def _apply(text: str, found: dict[tuple[int, int], Decision]) -> str:
    for (start, end), decision in sorted(found.items(), reverse=True):
        text = text[:start] + decision.reading + text[end:]
    return text


def decide(word: str, lexicon: Lexicon, letters: bool = True) -> Decision | None:
    """The ſ reading of a word as read, or None when its f are f (or it has none).

    `letters` lets the letters around an f decide a word known neither way (asked only on
    pages with evidence: it needs the letter-pair counts of the whole word list).
    """
    lower = word.lower()
    if "f" not in lower[:-1]:
        return None
    known_with_f = lexicon.knows(lower)
    frequent = FREQUENT_S_WORDS.get(lexicon.model, frozenset())
    for reading in readings(word):
        with_s = reading.replace(LONG_S, "s").lower()
        if not lexicon.knows(with_s):
            continue
        if not known_with_f:
            return Decision(reading, Reason.UNKNOWN_WITH_F)
        if with_s in frequent:
            return Decision(reading, Reason.FREQUENT)
    if known_with_f or not letters:
        return None
    by_letters = _by_letters(word, lexicon)
    return Decision(by_letters, Reason.LETTERS) if by_letters != word else None


def readings(word: str) -> Iterator[str]:
    """Every reading of the word with some of its inner f (or fl, ff) read as ſ."""
    spots = [i for i, c in enumerate(word) if c == "f" and i < len(word) - 1]
    if not spots or len(spots) > MAX_CANDIDATES:
        return
    options = [_options(word, i) for i in spots]
    for combination in itertools.product(*options):
        reading = _compose(word, spots, combination)
        if reading is not None and reading != word:
            yield reading


def _options(word: str, i: int) -> list[tuple[str, int]]:
    """(replacement, letters replaced) for the f at i; the first keeps it."""
    options = [("f", 1)]
    pair = word[i : i + 2]
    options += [(r, 2) for r in _READINGS.get(pair, ())]
    options += [(r, 1) for r in _READINGS["f"]]
    return options


def _compose(word: str, spots: list[int], choice: tuple[tuple[str, int], ...]) -> str | None:
    parts, end = [], 0
    for i, (replacement, length) in zip(spots, choice, strict=True):
        if i < end:  # this f was part of the pair before it
            if replacement != "f":
                return None
            continue
        parts += [word[end:i], replacement]
        end = i + length
    parts.append(word[end:])
    return "".join(parts)


def _by_letters(word: str, lexicon: Lexicon) -> str:
    framed = f"^{word.lower()}$"
    letters = list(word)
    for i, c in enumerate(word):
        inner = c == "f" and i < len(word) - 1
        if inner and lexicon.s_odds(framed[i], framed[i + 2]) >= LETTER_ODDS:
            letters[i] = LONG_S
    return "".join(letters)


def _plain(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=8)
def lexicon_for(models: str) -> Lexicon | None:
    """The word list of the first of the `+`-joined models that has one (once per process)."""
    from service.ocr.engines.tesseract import word_list

    for model in models.split("+"):
        words = word_list(model)
        if words is not None:
            return Lexicon(model, words)
    return None
