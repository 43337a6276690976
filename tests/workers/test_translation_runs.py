"""Translation runs through the pipeline steps, on Postgres and the misbehaving Ollama stand-in.

The documents carry a distinct number in every segment, so a translation that landed on
another segment, or two segments' text merged into one, cannot go unnoticed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, DocumentStatus, Segment
from service.jobs import pipeline, translate_steps
from service.jobs import service as jobs
from service.jobs.models import JobStage, JobStatus
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.translation import runs
from service.translation.models import (
    ItemStatus,
    RunStatus,
    Translation,
    TranslationRun,
    TranslationStatus,
)
from tests.fakes.ollama_server import FakeOllama, digest_of, fake_translation, running
from tests.support.helpers import make_document


def sentences(count: int, start: int = 0) -> list[str]:
    return [
        f"Le conseil de la ville a payé {7 * n + 3} livres pour réparer le pont numéro {n}."
        for n in range(start, start + count)
    ]


def new_run(document_id: int, request: runs.RunRequest) -> int:
    """Create a run as the API does and return its id."""
    with unit_of_work() as s:
        document = s.get(Document, document_id)
        assert document is not None
        return runs.create(s, document, request).id


def plan_run(run_id: int, max_retries: int = 3) -> None:
    step = Step(TaskName.PLAN_TRANSLATION_RUN, (run_id,))
    run_inline(pipeline.default_context(), [step], max_retries=max_retries)


def translate(document_id: int) -> None:
    run_inline(
        pipeline.default_context(),
        [Step(TaskName.PLAN_TRANSLATION, (document_id,))],
        max_retries=0,
    )


def outcomes(session: Session, document_id: int) -> dict[int, tuple[str, Translation | None]]:
    """Each segment's source text and its translation row."""
    session.expire_all()
    rows = {
        t.segment_id: t
        for t in session.scalars(select(Translation).where(Translation.document_id == document_id))
    }
    segments = session.scalars(select(Segment).where(Segment.document_id == document_id)).all()
    return {s.id: (s.normalized, rows.get(s.id)) for s in segments}


def assert_each_has_its_own_or_a_reason(session: Session, document_id: int) -> tuple[int, int]:
    """Every segment: exactly its own translation, or failed with a reason. Returns counts."""
    good = failed = 0
    for source, row in outcomes(session, document_id).values():
        assert row is not None, f"segment {source!r} has no outcome"
        if row.status is TranslationStatus.FAILED:
            assert row.error and row.text == ""
            failed += 1
        else:
            assert row.text == fake_translation(source), (source, row.text)
            good += 1
    return good, failed


@pytest.mark.parametrize(
    "mode",
    [
        "think",
        "lone-think",
        "chatter",
        "drop-one",
        "merge",
        "reorder",
        "invalid-json",
        "truncated",
        "copy-source",
        "wrong-language",
    ],
)
def test_a_misbehaving_model_never_puts_a_translation_on_the_wrong_segment(
    ollama: FakeOllama, session: Session, mode: str
) -> None:
    ollama.mode = mode
    document = make_document(session, sentences(240), pages=4)
    translate(document.id)

    good, failed = assert_each_has_its_own_or_a_reason(session, document.id)
    assert (good, failed) == (240, 0)
    rows = [row for _, row in outcomes(session, document.id).values() if row is not None]
    if mode in ("drop-one", "merge", "invalid-json", "truncated"):
        assert all("split" in r.fallbacks for r in rows)
    if mode in ("copy-source", "wrong-language"):
        assert all(r.fallbacks[0].startswith("strict retry after: ") for r in rows)
        assert all(r.attempts == 2 for r in rows)
    session.expire_all()
    job = next(j for j in jobs.for_document(session, document.id) if j.stage is JobStage.TRANSLATE)
    assert (job.status, job.done, job.failed, job.total) == (JobStatus.DONE, 240, 0, 240)


def test_a_model_that_never_translates_leaves_failed_segments_with_the_reason(
    ollama: FakeOllama, session: Session
) -> None:
    ollama.mode = "copy-source-always"
    document = make_document(session, [*sentences(3), "Paris, 1783."])
    translate(document.id)
    rows = dict(outcomes(session, document.id).values())
    for source in sentences(3):
        row = rows[source]
        assert row is not None and row.status is TranslationStatus.FAILED
        assert row.error == (
            "the model returned the source text unchanged, also after a stricter retry"
        )
        assert row.flags == [
            {"kind": "untranslated", "message": "the model returned the source text unchanged"}
        ]
    short = rows["Paris, 1783."]
    assert short is not None and short.status is TranslationStatus.MACHINE  # names stay names
    document_row = session.get(Document, document.id)
    assert document_row is not None and document_row.status is DocumentStatus.PARTIAL
    assert "3 segment(s) could not be translated" in (document_row.error or "")


def test_ollama_going_away_mid_document_fails_the_rest_with_the_reason_then_recovers(
    session: Session, configure: object
) -> None:
    document = make_document(session, sentences(240), pages=4)
    with running(FakeOllama(refuse_after=2)) as state:
        configure(OLLAMA_HOST=state.host)  # type: ignore[operator]
        translate(document.id)
        port = int(state.host.rsplit(":", 1)[1])

    good, failed = assert_each_has_its_own_or_a_reason(session, document.id)
    assert good > 0 and failed > 0 and good + failed == 240
    errors = {row.error for _, row in outcomes(session, document.id).values() if row and row.error}
    assert any("not running at" in e or "Lost the connection" in e for e in errors), errors

    with running(FakeOllama(), port=port) as state:  # Ollama is back: translate what failed
        run_id = new_run(document.id, runs.RunRequest("ollama"))
        plan_run(run_id)
        resent = sum(len(json_segments(c)) for c in state.chats)
    assert assert_each_has_its_own_or_a_reason(session, document.id) == (240, 0)
    assert resent == failed  # the segments translated before were not sent again
    session.expire_all()
    finished = session.get(TranslationRun, run_id)
    assert finished is not None and finished.status is RunStatus.DONE
    assert (finished.done, finished.failed) == (240, 0)


def json_segments(chat: dict[str, object]) -> list[object]:
    import json

    messages = chat["messages"]
    assert isinstance(messages, list)
    return list(json.loads(messages[-1]["content"])["segments"])


def test_a_busy_server_is_retried_and_a_missing_model_fails_with_the_pull_command(
    ollama: FakeOllama, session: Session
) -> None:
    ollama.mode, ollama.fail_times = "flaky-503", 1
    busy = make_document(session, sentences(5))
    run_inline(pipeline.default_context(), [Step(TaskName.PLAN_TRANSLATION, (busy.id,))])
    assert assert_each_has_its_own_or_a_reason(session, busy.id) == (5, 0)

    ollama.models = ["qwen2.5:7b"]
    missing = make_document(session, sentences(5, start=100))
    translate(missing.id)
    assert assert_each_has_its_own_or_a_reason(session, missing.id) == (0, 5)
    errors = {row.error for _, row in outcomes(session, missing.id).values() if row}
    assert errors == {
        f"Model 'llama3.2:3b' is not pulled on Ollama at {ollama.host}: "
        "run `ollama pull llama3.2:3b`."
    }


def test_every_translation_says_where_it_came_from(ollama: FakeOllama, session: Session) -> None:
    document = make_document(session, sentences(6))
    translate(document.id)
    for _, row in outcomes(session, document.id).values():
        assert row is not None
        assert (row.backend, row.model) == ("ollama", "llama3.2:3b")
        assert row.model_digest == digest_of("llama3.2:3b")
        assert row.host == ollama.host
        assert row.prompt_version and row.run_id
        assert row.tokens_in and row.tokens_out and row.tokens_per_s
        assert row.duration_ms is not None and row.generation_ms is not None
        assert row.attempts == 1 and row.fallbacks == [] and row.memory_id is None


def test_an_identical_segment_in_the_same_context_is_never_sent_twice(
    ollama: FakeOllama, session: Session
) -> None:
    first = make_document(session, sentences(8), title="Original")
    translate(first.id)
    sent = len(ollama.chats)
    copy = make_document(session, sentences(8), title="Second copy")
    translate(copy.id)
    assert len(ollama.chats) == sent  # all from memory
    assert assert_each_has_its_own_or_a_reason(session, copy.id) == (8, 0)
    rows = [row for _, row in outcomes(session, copy.id).values() if row]
    assert all(r.memory_id is not None and r.tokens_out is None for r in rows)

    changed = make_document(session, ["Une préface qui change le contexte.", *sentences(8)])
    translate(changed.id)
    asked = sum(len(json_segments(c)) for c in ollama.chats[sent:])
    assert asked == 3  # the preface, and the two sentences whose context now includes it


def test_a_segment_longer_than_the_budget_is_split_at_sentences_and_joined(
    ollama: FakeOllama, session: Session, configure: object
) -> None:
    configure(PALIMPSEST_TRANSLATION_TOKEN_BUDGET="64")  # type: ignore[operator]
    long = " ".join(
        f"Le {n}e article du règlement ordonne aux bourgeois de tenir leurs rues propres."
        for n in range(1, 9)
    )
    document = make_document(session, [long, *sentences(2)])
    translate(document.id)
    row = next(r for s, r in outcomes(session, document.id).values() if s == long)
    assert row is not None and row.status is TranslationStatus.MACHINE
    parts = [json_segments(c) for c in ollama.chats]
    texts = [seg["text"] for batch in parts for seg in batch]  # type: ignore[index]
    pieces = [t for t in texts if t in long]
    assert len(pieces) > 1 and " ".join(pieces) == long
    assert row.text == " ".join(fake_translation(p) for p in pieces)
    assert any(f.startswith("split into") for f in row.fallbacks)


def test_the_previous_segments_go_along_as_context(ollama: FakeOllama, session: Session) -> None:
    import json

    document = make_document(session, sentences(3))
    run_id = new_run(document.id, runs.RunRequest("ollama"))
    segment_ids = list(session.scalars(select(Segment.id).order_by(Segment.position)))
    plan_run(run_id)
    ollama.chats.clear()
    with unit_of_work() as s:
        translate_steps.translate_batch(s, pipeline.default_context(), run_id, segment_ids[2:])
    assert ollama.chats == []  # done already: the idempotency guard holds
    forced_id = new_run(
        document.id, runs.RunRequest("ollama", segment_ids=segment_ids[2:], force=True)
    )
    plan_run(forced_id)
    payload = json.loads(ollama.chats[-1]["messages"][-1]["content"])
    assert payload["context_before"] == sentences(2)
    assert [s["text"] for s in payload["segments"]] == sentences(3)[2:]
    items = runs.items(session, forced_id)
    assert [i.status for i in items] == [ItemStatus.DONE]
