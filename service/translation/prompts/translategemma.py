"""TranslateGemma's own prompt: one user message per text, as its model card documents.

Google's translation-tuned Gemma 3 (`translategemma:4b/12b/27b` in Ollama) expects exactly
this message, with two blank lines before the text, and answers with the translation alone.
It has no place for a glossary or notes; the sentence before and its translation, in
sentence mode, go first as an earlier exchange in the same format.
"""

from __future__ import annotations

from service.languages import language_code, language_name
from service.translation.backends.base import BatchRequest

TEMPLATE = (
    "You are a professional {source} ({source_code}) to {target} ({target_code}) translator. "
    "Your goal is to accurately convey the meaning and nuances of the original {source} text "
    "while adhering to {target} grammar, vocabulary, and cultural sensitivities.\n"
    "Produce only the {target} translation, without any additional explanations or "
    "commentary. Please translate the following {source} text into {target}:\n\n\n{text}"
)


def user_prompt(request: BatchRequest, text: str) -> str:
    """The model card's message for one text."""
    return TEMPLATE.format(
        source=language_name(request.source_lang),
        source_code=language_code(request.source_lang),
        target=language_name(request.target_lang),
        target_code=language_code(request.target_lang),
        text=" ".join(text.split()),
    )


def messages(request: BatchRequest, text: str) -> list[dict[str, str]]:
    """The chat for one text: the sentence before as an earlier exchange, then this one."""
    chat: list[dict[str, str]] = []
    if request.previous is not None:
        source, translation = request.previous
        chat.append({"role": "user", "content": user_prompt(request, source)})
        chat.append({"role": "assistant", "content": translation})
    chat.append({"role": "user", "content": user_prompt(request, text)})
    return chat


def echoes(request: BatchRequest) -> tuple[tuple[str, str], ...]:
    """The instructions, which must never come back as a translation."""
    lines = user_prompt(request, "").splitlines()
    return tuple(("the instructions of the prompt", line) for line in lines if len(line) > 30)
