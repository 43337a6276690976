"""How a run prompts its model: whole segments, or sentence by sentence for small models."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from service.config import Settings
from service.translation.backends.base import ModelInfo, PromptStyle, Unit


def choose_unit(settings: Settings, info: ModelInfo, requested: str | None = None) -> Unit:
    """Sentence by sentence for completion-style and small models, else whole segments.

    A request (`--unit`) or the `translation_unit` setting overrides the choice.
    """
    wanted = requested or settings.translation_unit
    if wanted != "auto":
        return Unit(wanted)
    if info.style is PromptStyle.COMPLETION:
        return Unit.SENTENCE
    small = info.parameters is not None and info.parameters <= settings.sentence_mode_max_billions
    return Unit.SENTENCE if small else Unit.SEGMENT


@lru_cache(maxsize=16)
def dictionary(lang: str) -> Callable[[str], bool] | None:
    """Whether a lower-case word is in the source language's dictionary (Tesseract's word
    list for that language), or None where no word list is installed on this host."""
    try:
        from service.ocr.languages import tesseract_languages
        from service.ocr.long_s import lexicon_for

        lexicon = lexicon_for(tesseract_languages(lang))
    except Exception:
        return None
    return lexicon.knows if lexicon is not None else None
