"""The OpenAI-compatible backend against llama-cpp-python's real server with Gemma 3 270M."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import BackendUnavailable, ModelNotFound
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.translation import batching
from service.translation.backends.base import BatchRequest, Task
from service.translation.backends.openai import OpenAIBackend, OpenAIOptions
from service.translation.chunking import SegmentText
from service.translation.models import Translation, TranslationStatus
from tests.conftest import DATA_DIR
from tests.support.helpers import make_document
from tests.support.llama_server import llama_server

ALIAS = "gemma-3-270m"


@pytest.fixture(scope="module")
def server(embedded_model: Path) -> Iterator[str]:
    with llama_server(embedded_model, ALIAS, DATA_DIR / "llama-server.log") as base:
        yield base


def backend(base: str, style: str, model: str = ALIAS) -> OpenAIBackend:
    return OpenAIBackend(base, model, OpenAIOptions(prompt_style=style, timeout_s=300))


def test_a_base_model_translates_through_completions(server: str) -> None:
    segments = [
        SegmentText(1, "Le roi est arrivé à Paris avec toute sa cour."),
        SegmentText(2, "La guerre a duré sept ans."),
    ]
    result = backend(server, "completion").translate(BatchRequest("fr", "en", segments))
    assert set(result.translations) == {1, 2} and not result.failures
    king, war = (result.translations[i].text.lower() for i in (1, 2))
    assert "king" in king and "paris" in king
    assert "war" in war and ("seven" in war or "7" in war)
    assert result.translations[1].tokens_out and result.translations[1].tokens_per_s
    assert result.host == server


def test_chat_answers_come_back_as_schema_json_and_a_copy_is_not_taken_for_a_translation(
    server: str,
) -> None:
    # A base model behind a chat endpoint copies its input: the grammar keeps the JSON and
    # the id right, and the check refuses the copy, twice, with the reason.
    unit = batching.Unit(7, "La guerre a duré sept ans.")
    spec = batching.Spec(Task.TRANSLATE, "fr", "en", budget=600)
    outcome = batching.answer([unit], backend(server, "chat"), spec)[0]
    if outcome.text is not None:  # a real translation is fine too, if it is one
        assert outcome.text.casefold() != unit.text.casefold()
        assert "war" in outcome.text.lower()
    else:
        assert outcome.error in (
            "the model returned the source text unchanged, also after a stricter retry",
            "the answer is in 'fr', not in 'en' as asked, also after a stricter retry",
        )
        assert outcome.attempts == 2
        assert outcome.fallbacks == [f"strict retry after: {outcome.flags[0]['message']}"]


def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(server: str) -> None:
    with pytest.raises(ModelNotFound, match=r"serves no model 'llama-70b' \(it serves: gemma"):
        backend(server, "chat", model="llama-70b").describe()
    info = backend(server, "chat").describe()
    assert (info.name, info.digest) == (ALIAS, None)


def test_a_server_that_is_not_running_is_named() -> None:
    with pytest.raises(BackendUnavailable, match="No OpenAI-compatible server is running at"):
        backend("http://127.0.0.1:9/v1", "chat").describe()


def test_a_document_translates_through_the_openai_backend(
    server: str, session: Session, configure: object
) -> None:
    configure(  # type: ignore[operator]
        PALIMPSEST_OPENAI_BASE_URL=server,
        PALIMPSEST_OPENAI_MODEL=ALIAS,
        PALIMPSEST_OPENAI_PROMPT_STYLE="completion",
    )
    document = make_document(session, ["Le roi est arrivé à Paris avec toute sa cour."])
    document.backend, document.model = "openai", None
    session.commit()
    run_inline(pipeline.default_context(), [Step(TaskName.PLAN_TRANSLATION, (document.id,))])
    row = session.scalars(select(Translation)).one()
    assert row.status is TranslationStatus.MACHINE, row.error
    assert (row.backend, row.model, row.host) == ("openai", ALIAS, server)
    assert row.model_digest is None and row.prompt_version
    assert "king" in row.text.lower()
