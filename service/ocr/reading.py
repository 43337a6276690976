"""Reading one page image: prepare it, pick the models, run the engine, order the layout.

This is the OCR stage without the database, shared by the pipeline and `eval-ocr`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from service.ocr import long_s
from service.ocr.engines.base import OcrEngine, PageLayout
from service.ocr.languages import ModelChoice, auto_models
from service.ocr.long_s import lexicon_for
from service.ocr.preprocess import (
    Prepared,
    PrepStep,
    apply_orientation,
    default_steps,
    osd_sample,
    prepare,
    target_dpi,
)
from service.ocr.reading_order import Legibility, assess, order_and_classify


@dataclass
class Reading:
    """What OCR made of a page: the prepared image, the ordered layout, the verdict."""

    prepared: Prepared
    layout: PageLayout
    choice: ModelChoice
    legibility: Legibility


def read_image(
    image: Image.Image,
    dpi: int | None,
    choice: ModelChoice,
    engine: OcrEngine,
    steps: frozenset[PrepStep] | None = None,
    low_confidence: float = 60.0,
) -> Reading:
    """OCR one page image with the document's model choice (decided first if undecided)."""
    chosen_steps = steps if steps is not None else default_steps(choice.script or "Latn")
    prepared = prepare(image, dpi, chosen_steps, target=target_dpi(choice.script))
    if choice.undecided:
        choice = decide(prepared, choice, engine)
    layout = engine.recognize(prepared.image, choice.models, prepared.dpi)
    legibility = assess(layout, low_confidence)
    if not legibility.readable and _may_be_upside_down(prepared, chosen_steps):
        layout, legibility = _retry_turned(prepared, choice, engine, (layout, legibility))
    if PrepStep.LONG_S in chosen_steps:
        _restore_long_s(prepared, layout, choice)
    layout = order_and_classify(layout)
    return Reading(prepared, layout, choice, assess(layout, low_confidence))


def _restore_long_s(prepared: Prepared, layout: PageLayout, choice: ModelChoice) -> None:
    """Antiqua models read ſ as f; Fraktur models know ſ and are left alone."""
    lexicon = lexicon_for(choice.models) if choice.script == "Latn" else None
    if lexicon is not None:
        prepared.record[PrepStep.LONG_S] = long_s.restore(layout, lexicon)


def _may_be_upside_down(prepared: Prepared, steps: frozenset[PrepStep]) -> bool:
    return PrepStep.ROTATE in steps and not prepared.record.get(PrepStep.ROTATE, {}).get("osd")


def _retry_turned(
    prepared: Prepared,
    choice: ModelChoice,
    engine: OcrEngine,
    first: tuple[PageLayout, Legibility],
) -> tuple[PageLayout, Legibility]:
    """A page read badly may be upside down: ask OSD, and read again if it turned the page."""
    if not apply_orientation(prepared, engine.orientation):
        return first
    layout = engine.recognize(prepared.image, choice.models, prepared.dpi)
    return layout, assess(layout, first[1].threshold)


def prepare_for(image: Image.Image, dpi: int | None, choice: ModelChoice) -> Prepared:
    """The page prepared as its script's default steps say."""
    return prepare(image, dpi, default_steps(choice.script or "Latn"))


def decide(prepared: Prepared, choice: ModelChoice, engine: OcrEngine) -> ModelChoice:
    """Resolve an undecided choice: OSD's script for `auto`, else the most confident model."""
    if not choice.candidates:
        script = prepared.script
        if script is None:
            found = engine.orientation(osd_sample(prepared.image), prepared.dpi)
            script = found.script if found else None
        return auto_models(script)
    scored = []
    for script, models in choice.candidates:
        layout = engine.recognize(prepared.image, models, prepared.dpi)
        scored.append((layout.mean_confidence or 0.0, script, models))
    _, script, models = max(scored)
    return ModelChoice(models, script)
