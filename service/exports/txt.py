"""Plain-text export: pages separated by form feeds, each segment followed by its translation."""

from __future__ import annotations

from service.exports.model import ExportDocument

PAGE_BREAK = "\f"


def render(document: ExportDocument, translation: bool = True) -> str:
    """Normalised source text, interleaved with the translation when there is one."""
    with_translation = translation and document.has_translation
    pages = []
    for page in document.pages:
        blocks = []
        for segment in page.segments:
            block = segment.normalized
            if with_translation:
                block += "\n" + (segment.translation or "[not translated]")
            blocks.append(block)
        pages.append("\n\n".join(blocks))
    return PAGE_BREAK.join(pages) + "\n"
