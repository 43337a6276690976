"""Where each OCR word of a segment sits in its text, kept beside the word boxes.

The review page marks low-confidence words in every row; finding them means walking the
word boxes (`lines`, the bulk of a segment's row). Their character offsets and confidences
are computed once when the text or the boxes change, so the page reads a few numbers per
word instead of decoding every box.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def word_spans(text: str, lines: Sequence[dict[str, Any]]) -> list[list[float]]:
    """[start, end, confidence] of every word, or [] once the text no longer matches them."""
    spans: list[list[float]] = []
    offset = 0
    for i, line in enumerate(lines):
        if i:
            offset += 1  # the newline between lines
        for j, word in enumerate(line.get("words", [])):
            if j:
                offset += 1  # the space between words
            token = str(word.get("text", ""))
            if text[offset : offset + len(token)] != token:
                return []  # the text was corrected since OCR: boxes no longer map
            spans.append([offset, offset + len(token), _confidence(word.get("conf"))])
            offset += len(token)
    return spans


def _confidence(value: Any) -> float:
    # Imported transcriptions may give no confidence: such a word is not flagged.
    return float(value) if isinstance(value, int | float) else 100.0


def relined(text: str, lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Typed lines after their text changed as a whole (an edit on the review desk, an
    undo): line i keeps the box and marks of the line that was i-th, its text is the
    text's i-th line; a line beyond the boxes has none."""
    kept = list(lines)
    result: list[dict[str, Any]] = []
    for i, line_text in enumerate(text.split("\n")):
        before: dict[str, Any] = dict(kept[i]) if i < len(kept) else {"bbox": None}
        before["text"] = line_text
        before["words"] = []
        result.append(before)
    return result
