"""Character error rate of OCR text against a ground truth, in two layers and two orders.

Both sides go through the same normalisation before comparing: the diplomatic layer keeps
every character as printed (Unicode NFC, whitespace collapsed); the normalised layer applies
the project's reading form (`text.normalise`: ſ→s, old umlauts, words rejoined across line
breaks). The ordered CER is edit distance over the ground truth's length; the
order-independent CER matches lines first, for pages whose reading order is ambiguous
(tables, title pages, marginalia), so a different order of right text costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

from service.text import normalise

_WHITESPACE = re.compile(r"\s+")


class Layer(StrEnum):
    """Which text layer is compared."""

    DIPLOMATIC = "diplomatic"
    NORMALISED = "normalised"


def diplomatic_form(text: str) -> str:
    """NFC with whitespace collapsed: every printed character counts."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def layer_form(text: str, layer: Layer) -> str:
    """The text as compared in a layer."""
    return diplomatic_form(text) if layer is Layer.DIPLOMATIC else normalise(text)


def cer(hypothesis: str, reference: str, layer: Layer) -> float:
    """Edit distance between the two texts in a layer, over the reference's length."""
    hyp, ref = layer_form(hypothesis, layer), layer_form(reference, layer)
    return Levenshtein.distance(hyp, ref) / max(1, len(ref))


def _lines(text: str, layer: Layer) -> list[str]:
    # Lines joined across hyphen breaks would not match line by line: compare per line.
    forms = (layer_form(line, layer) for line in text.splitlines())
    return [line for line in forms if line]


def unordered_cer(hypothesis: str, reference: str, layer: Layer) -> float:
    """CER after matching each reference line to its closest unused hypothesis line.

    Lines are matched greedily, best pairs first; an unmatched reference line costs its
    length (deleted) and an unmatched hypothesis line its length (inserted).
    """
    hyp, ref = _lines(hypothesis, layer), _lines(reference, layer)
    total = sum(len(r) for r in ref)
    pairs = sorted(
        (Levenshtein.normalized_distance(h, r), i, j)
        for i, r in enumerate(ref)
        for j, h in enumerate(hyp)
    )
    used_ref: set[int] = set()
    used_hyp: set[int] = set()
    errors = 0
    for score, i, j in pairs:
        if score >= 1.0 or i in used_ref or j in used_hyp:
            continue
        used_ref.add(i)
        used_hyp.add(j)
        errors += Levenshtein.distance(hyp[j], ref[i])
    errors += sum(len(r) for i, r in enumerate(ref) if i not in used_ref)
    errors += sum(len(h) for j, h in enumerate(hyp) if j not in used_hyp)
    return errors / max(1, total)
