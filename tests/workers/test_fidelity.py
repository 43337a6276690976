"""A wrong translation says so: every check driven through the pipeline and the Ollama fake.

The fake answers the way weak models do (refusing, commenting, echoing the prompt, looping,
leaving sentences out, inventing a year). A model of 3.2B parameters (llama3.2:3b) gets whole
segments; one of 1.5B (deepseek-r1:1.5b) is led sentence by sentence. Either way an answer
that is still flagged after its one stricter retry is kept with the status `needs_check` and
the reason, and a good answer passes unflagged.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import Document
from service.translation.models import Translation, TranslationRun, TranslationStatus
from tests.conftest import SAMPLES
from tests.fakes.ollama_server import STRICT_MARK, FakeOllama, fake_translation
from tests.support.helpers import make_document
from tests.workers.test_translation_runs import translate

PARAGRAPH = (
    "Le lendemain, le bailli Dufresne fit venir les deux marchands devant le conseil. "
    "Il leur demanda pourquoi le pain se vendait si cher à Pontoise. "
    "Les marchands répondirent que la récolte avait été mauvaise et que les chemins étaient "
    "rompus depuis le mois de mars. "
    "Le conseil ordonna qu'on vendît le blé au prix de douze sous le boisseau."
)
SEGMENT_MODEL, SENTENCE_MODEL = "llama3.2:3b", "deepseek-r1:1.5b"


def translated(session: Session, ollama: FakeOllama, model: str, mode: str) -> Translation:
    """The one paragraph translated by `model` with the fake in `mode`."""
    ollama.mode = mode
    document = make_document(session, [PARAGRAPH])
    row = session.get(Document, document.id)
    assert row is not None
    row.model = model
    session.commit()
    translate(document.id)
    session.expire_all()
    found = session.scalars(select(Translation).where(Translation.document_id == document.id))
    return found.one()


def unit_of(session: Session, translation: Translation) -> str | None:
    run = session.get(TranslationRun, translation.run_id)
    assert run is not None
    return run.unit


@pytest.mark.parametrize("model", [SEGMENT_MODEL, SENTENCE_MODEL])
@pytest.mark.parametrize(
    ("mode", "kind", "words"),
    [
        ("refuse-always", "refusal", "refused"),
        ("comment-always", "commentary", "talks about the text"),
        ("echo-always", "prompt_echo", "instructions of the prompt"),
        ("loop-always", "repetition", "repeats in a loop"),
        ("invent-always", "invented_number", "1783 is not in the source"),
    ],
)
def test_an_answer_still_flagged_after_its_retry_needs_check_with_the_reason(
    ollama: FakeOllama, session: Session, model: str, mode: str, kind: str, words: str
) -> None:
    row = translated(session, ollama, model, mode)
    assert row.status is TranslationStatus.NEEDS_CHECK
    assert row.text  # kept for the reviewer, never silently accepted nor thrown away
    flagged = [f for f in row.flags if f["kind"] == kind]
    assert flagged and words in flagged[0]["message"], row.flags
    assert any("retr" in step for step in row.fallbacks), row.fallbacks
    assert any(STRICT_MARK in c["messages"][0]["content"] for c in ollama.chats)


@pytest.mark.parametrize("model", [SEGMENT_MODEL, SENTENCE_MODEL])
@pytest.mark.parametrize("mode", ["refuse", "comment", "echo", "loop", "omit", "invent"])
def test_a_stricter_retry_that_mends_the_answer_leaves_no_flag(
    ollama: FakeOllama, session: Session, model: str, mode: str
) -> None:
    row = translated(session, ollama, model, mode)
    assert row.status is TranslationStatus.MACHINE, row.flags
    assert row.flags == []
    assert "Dufresne" in row.text and "douze" in row.text  # the fake keeps names and words
    assert row.attempts > 1


def test_a_paragraph_reduced_to_one_line_is_retried_sentence_by_sentence(
    ollama: FakeOllama, session: Session
) -> None:
    row = translated(session, ollama, SEGMENT_MODEL, "omit-always")
    # The whole-segment answer kept one sentence of four; asked one sentence at a time, the
    # model cannot leave any out.
    assert row.status is TranslationStatus.MACHINE, row.flags
    assert row.fallbacks[0].startswith("strict retry after: the "), row.fallbacks
    assert "sentence by sentence (4 requests)" in row.fallbacks
    assert row.text.count(".") == 4


def test_a_small_model_is_led_sentence_by_sentence_with_the_sentence_before(
    ollama: FakeOllama, session: Session
) -> None:
    good = translated(session, ollama, SENTENCE_MODEL, "ok")
    assert unit_of(session, good) == "sentence"
    assert good.status is TranslationStatus.MACHINE and good.flags == []
    asked = [json.loads(c["messages"][-1]["content"])["segments"][0]["text"] for c in ollama.chats]
    assert (
        len(asked) == 4
        and asked[0].startswith("Le lendemain")
        and asked[3].startswith("Le conseil")
    )
    second = ollama.chats[1]["messages"]
    before = json.loads(second[-2]["content"])  # the model's own answer for the first sentence
    assert second[-3]["role"] == "user" and second[-2]["role"] == "assistant"
    first_sentence = PARAGRAPH.split(". ")[0] + "."
    assert before["translations"][0]["text"] == fake_translation(first_sentence)
    # Every call shares the same system prompt, so the server keeps its cached prefix.
    assert len({c["messages"][0]["content"] for c in ollama.chats}) == 1


def test_a_large_model_keeps_whole_segments(ollama: FakeOllama, session: Session) -> None:
    good = translated(session, ollama, SEGMENT_MODEL, "ok")
    assert unit_of(session, good) == "segment"
    assert good.status is TranslationStatus.MACHINE and good.flags == []
    assert len(ollama.chats) == 1


def load_references(name: str) -> tuple[str, list[tuple[str, str]]]:
    data = json.loads((SAMPLES / "parallel" / name).read_text(encoding="utf-8"))
    if "pairs" in data:
        return "fr", [(p["fr_clean"], p["en"]) for p in data["pairs"]]
    return data["source_lang"], [(i["src"], i["ref"]) for i in data["items"]]


def test_human_translations_given_as_answers_are_hardly_ever_flagged(
    ollama: FakeOllama, session: Session
) -> None:
    flagged: list[tuple[str, list[dict[str, str]]]] = []
    total = 0
    for name in sorted(p.name for p in (SAMPLES / "parallel").glob("*.json")):
        lang, pairs = load_references(name)
        ollama.answers = {" ".join(src.split()): ref for src, ref in pairs}
        document = make_document(session, [src for src, _ in pairs], source_lang=lang, pages=3)
        translate(document.id)
        session.expire_all()
        rows = session.scalars(select(Translation).where(Translation.document_id == document.id))
        for row in rows:
            total += 1
            assert row.status is not TranslationStatus.FAILED, row.error
            if row.flags:
                flagged.append((row.text[:60], row.flags))
    assert total == 53
    assert len(flagged) <= 0.05 * total, flagged


def test_translategemma_gets_its_model_card_prompt(ollama: FakeOllama, session: Session) -> None:
    ollama.models.append("translategemma:4b")
    row = translated(session, ollama, "translategemma:4b", "ok")
    assert row.status is TranslationStatus.MACHINE and row.text == fake_translation(PARAGRAPH)
    message = ollama.chats[-1]["messages"][-1]["content"]
    assert message.startswith("You are a professional French (fr) to English (en) translator.")
    assert "Produce only the English translation" in message
    assert message.endswith("\n\n\n" + PARAGRAPH)
    assert "format" not in ollama.chats[-1] or ollama.chats[-1]["format"] in (None, "")
