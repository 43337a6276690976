"""Prompts for every way a model is asked: JSON batches for chat models, few-shot completion
for base models, and TranslateGemma's own format."""

from __future__ import annotations

from service.languages import language_code, language_name
from service.translation.prompts.chat import (
    CORRECT_PROMPT,
    STRICT_NOTE,
    SYSTEM_PROMPT,
    messages,
    response_schema,
    system_prompt,
    user_message,
)
from service.translation.prompts.fewshot import FEW_SHOT, completion_prompt

# Bumped whenever a prompt changes: the translation memory keys on it.
PROMPT_VERSION = "2026-12-04.1"

__all__ = [
    "CORRECT_PROMPT",
    "FEW_SHOT",
    "PROMPT_VERSION",
    "STRICT_NOTE",
    "SYSTEM_PROMPT",
    "completion_prompt",
    "language_code",
    "language_name",
    "messages",
    "response_schema",
    "system_prompt",
    "user_message",
]
