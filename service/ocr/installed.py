"""Which Tesseract models are installed, and the apt package that brings a missing one.

Checked by the CLI before it reads anything, so a missing language pack is one clear line
naming the package, not a page failed deep inside the pipeline.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

from service.ocr.languages import AUTO_MODELS, ocr_models, tesseract_languages

# Script models live in their own Debian packages (tesseract-ocr-script-*).
SCRIPT_PACKAGES = {"Fraktur": "frak", "Latin": "latn", "Greek": "grek"}


def installed() -> set[str] | None:
    """The models `tesseract --list-langs` names (TESSDATA_PREFIX respected); None when
    Tesseract itself is missing."""
    try:
        done = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        return None
    lines = (done.stdout + done.stderr).splitlines()
    return {line.strip() for line in lines[1:] if line.strip() and " " not in line.strip()}


def needed(tag: str, plain: bool = False) -> set[str]:
    """The models reading a document in `tag` may use (every candidate of an undecided
    script, OSD for `auto`); with `plain`, also the baseline's models (eval-ocr)."""
    choice = ocr_models(tag)
    models = _split([choice.models, *(m for _, m in choice.candidates)])
    if not choice.models and not choice.candidates:  # auto: OSD picks the script's model
        models |= {"osd", *_split(AUTO_MODELS.values())}
    if plain and tesseract_languages(tag):
        models |= _split([tesseract_languages(tag)])
    return models


def apt_package(model: str) -> str:
    """The Debian/Ubuntu package that installs a Tesseract model."""
    if model in SCRIPT_PACKAGES:
        return f"tesseract-ocr-script-{SCRIPT_PACKAGES[model]}"
    return f"tesseract-ocr-{model.lower()}"


def missing_message(models: Iterable[str]) -> str | None:
    """One line naming what to install when some models (or Tesseract) are missing."""
    have = installed()
    if have is None:
        return "Tesseract is not installed: sudo apt install tesseract-ocr"
    missing = sorted(set(models) - have)
    if not missing:
        return None
    packages = " ".join(sorted({apt_package(m) for m in missing}))
    return (
        f"Tesseract language data missing: {', '.join(missing)}. "
        f"Install it with: sudo apt install {packages}"
    )


def _split(values: Iterable[str]) -> set[str]:
    return {m for value in values for m in value.split("+") if m}
