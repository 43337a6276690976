"""Transcription with a local vision model (opt-in), through the pipeline's steps: the Ollama
stand-in takes the images in `images`, an OpenAI-compatible stand-in takes them as
`image_url` data URIs. Proposals come with provenance and never touch typed text; models
that are missing, blind, down, thinking, chatty or answering in another language are
handled as the translation backends handle theirs."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Page, Segment, SegmentKind
from service.errors import BackendUnavailable
from service.jobs import pipeline
from service.jobs.runner import run_inline
from service.jobs.steps import Step, TaskName
from service.transcription.models import ProposalStatus, TranscriptionProposal
from service.transcription.vision.prompts import PROMPT_VERSION
from service.translation.models import Correction
from tests.conftest import SAMPLES, SHARED_DATA, TEST_ENV
from tests.fakes import openai_server
from tests.fakes.ollama_server import FakeOllama, digest_of, fake_correction, fake_reading
from tests.support.helpers import authed_client, handwritten_page, make_document

VISION = "qwen2.5vl:7b"
CANDIDE = SHARED_DATA / "pages" / "fra-hand-c1758-candide-ms-p3"


@pytest.fixture
def client(redis_client: redis.Redis) -> TestClient:
    return authed_client()


@pytest.fixture
def vision(ollama: FakeOllama, configure: Any) -> Iterator[FakeOllama]:
    """The Ollama stand-in with a vision model pulled and configured."""
    ollama.models.append(VISION)
    configure(OLLAMA_HOST=ollama.host, PALIMPSEST_VISION_MODEL=VISION)
    yield ollama


def ask(client: TestClient, page_id: int, **body: Any) -> list[dict[str, Any]]:
    response = client.post(f"/api/pages/{page_id}/proposals", json=body)
    assert response.status_code == 202, response.text
    return list(response.json())


def answer(proposals: list[dict[str, Any]], max_retries: int = 0) -> None:
    steps = [Step(TaskName.TRANSCRIBE_REGION, (p["id"],)) for p in proposals]
    run_inline(pipeline.default_context(), steps, max_retries=max_retries)


def proposals_of(session: Session, page_id: int) -> list[TranscriptionProposal]:
    session.expire_all()
    return list(
        session.scalars(
            select(TranscriptionProposal)
            .where(TranscriptionProposal.page_id == page_id)
            .order_by(TranscriptionProposal.y0, TranscriptionProposal.x0)
        )
    )


def test_a_vision_model_reads_each_line_and_its_proposals_keep_their_provenance(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    lines = client.get(f"/api/pages/{page.id}/lines").json()["lines"]
    asked = ask(client, page.id)
    assert len(asked) == len(lines) and {p["status"] for p in asked} == {"pending"}
    answer(asked)

    found = proposals_of(session, page.id)
    assert {p.status for p in found} == {ProposalStatus.DONE}
    # Each line's crop went to the model as an image in `images`, scaled to the budget.
    assert len(vision.images) == len(lines)
    assert all(i["format"] == "JPEG" for i in vision.images)
    assert all(i["width"] * i["height"] <= 1_200_000 for i in vision.images)
    read = {fake_reading(1, i["width"], i["height"]) for i in vision.images}
    assert {p.text for p in found} == read  # each proposal is its own line's answer
    sides = {max(i["width"], i["height"]) for i in vision.images}
    for proposal in found:
        assert proposal.model == VISION and proposal.backend == "ollama"
        assert proposal.model_digest == digest_of(VISION)
        assert proposal.prompt_version == PROMPT_VERSION and proposal.answered_at is not None
        assert proposal.image_pixels in sides and proposal.attempts == 1
    # The model was told to keep the page's spelling, not to modernise it.
    system = vision.chats[0]["messages"][0]["content"]
    assert "keep the original spelling" in system and "Do not modernise" in system

    # Asking again is harmless: answered boxes keep their answer; `force` asks again.
    again = ask(client, page.id)
    assert {p["status"] for p in again} == {"done"}
    assert len(ask(client, page.id, force=True)) == len(lines)


def test_region_by_region_the_answer_lines_land_on_the_regions_lines(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    regions = client.get(f"/api/pages/{page.id}/lines").json()["regions"]
    asked = ask(client, page.id, unit="region")
    assert len(asked) == len(regions)
    answer(asked)
    for proposal in proposals_of(session, page.id):
        n = len(proposal.lines)
        assert [line["text"].split(" d'une")[0] for line in proposal.lines] == [
            f"Il y avoit en Westphalie la ligne {i + 1}" for i in range(n)
        ]
        assert proposal.flags == []
        assert f"the {n} lines" in str(vision.chats) or n == 1


def test_typed_text_is_never_overwritten_by_a_proposal(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    region = client.get(f"/api/pages/{page.id}/lines").json()["regions"][-1]
    typed = [{"bbox": line["bbox"], "text": "a typed line"} for line in region["lines"]]
    body = {"bbox": region["bbox"], "lines": typed, "draft": True}
    segment = client.post(f"/api/pages/{page.id}/segments", json=body).json()
    answer(ask(client, page.id))
    session.expire_all()
    stored = session.get(Segment, segment["id"])
    assert stored is not None and set(stored.text.split("\n")) == {"a typed line"}
    # Its lines were read too (a draft): the editor shows the proposals beside them.
    boxes = {tuple(p.bbox) for p in proposals_of(session, page.id)}
    assert all(tuple(line["bbox"]) in boxes for line in region["lines"])

    # Taking a proposal over is the transcriber's act, and it is recorded on the line.
    proposal = next(p for p in proposals_of(session, page.id) if list(p.bbox) == typed[0]["bbox"])
    lines = [{"bbox": typed[0]["bbox"], "text": proposal.text, "proposal_id": proposal.id}]
    changed = client.patch(
        f"/api/segments/{segment['id']}", json={"lines": lines + typed[1:], "version": 1}
    ).json()
    assert changed["lines"][0] == {
        "bbox": typed[0]["bbox"],
        "text": proposal.text,
        "unclear": [],
        "proposal_id": proposal.id,
    }


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("think", "Il y avoit en Westphalie la ligne 1"),
        ("chatter", "Il y avoit en Westphalie la ligne 1"),
        ("vision-english", "Il y avoit en Westphalie la ligne 1"),
    ],
)
def test_thinking_chatter_and_another_language_are_cleaned_or_asked_again(
    vision: FakeOllama, session: Session, client: TestClient, mode: str, expected: str
) -> None:
    vision.mode = mode
    page = handwritten_page(session, CANDIDE)
    asked = ask(client, page.id)[:2]
    answer(asked)
    found = [p for p in proposals_of(session, page.id) if p.id in {a["id"] for a in asked}]
    assert [p.status for p in found] == [ProposalStatus.DONE] * 2
    assert all(p.text.startswith(expected) and "```" not in p.text for p in found)
    if mode == "vision-english":  # asked again, more strictly, and flagged with the reason
        assert all(p.attempts == 2 for p in found)
        assert all(f["kind"] == "wrong_language" for p in found for f in p.flags)


def test_a_model_that_keeps_answering_in_english_fails_with_the_reason(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    vision.mode = "vision-english-always"
    page = handwritten_page(session, CANDIDE)
    asked = ask(client, page.id)[:1]
    answer(asked)
    [proposal] = [p for p in proposals_of(session, page.id) if p.id == asked[0]["id"]]
    assert proposal.status is ProposalStatus.FAILED
    assert "not in 'fr'" in (proposal.error or "") and "stricter retry" in (proposal.error or "")


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("llama3.2:3b", "cannot read images"),  # pulled, but not a vision model
        ("llava:13b", "ollama pull llava:13b"),  # a vision model that is not pulled
    ],
)
def test_a_model_that_cannot_read_images_or_is_missing_fails_with_what_to_do(
    vision: FakeOllama, session: Session, client: TestClient, model: str, reason: str
) -> None:
    page = handwritten_page(session, CANDIDE)
    asked = ask(client, page.id, model=model)[:1]
    answer(asked)
    [proposal] = [p for p in proposals_of(session, page.id) if p.id == asked[0]["id"]]
    assert proposal.status is ProposalStatus.FAILED and reason in (proposal.error or "")
    assert not vision.images  # nothing was sent


def test_a_vision_server_that_is_down_makes_the_proposal_wait_then_fail(
    vision: FakeOllama, session: Session, client: TestClient, configure: Any
) -> None:
    page = handwritten_page(session, CANDIDE)
    asked = ask(client, page.id)[:1]
    configure(OLLAMA_HOST=TEST_ENV["OLLAMA_HOST"])  # nothing listens there
    step = Step(TaskName.TRANSCRIBE_REGION, (asked[0]["id"],))
    with pytest.raises(BackendUnavailable, match="not running"), unit_of_work() as unit:
        pipeline.run(unit, pipeline.default_context(), step)
    with unit_of_work() as unit:
        pipeline.note_waiting(unit, step, "Ollama is not running at http://127.0.0.1:9")
    shown = client.get(f"/api/pages/{page.id}/proposals").json()
    assert shown[0]["status"] == "pending" and "not running" in shown[0]["waiting"]
    answer(asked)  # retries spent: given up with the reason
    shown = client.get(f"/api/pages/{page.id}/proposals").json()
    assert shown[0]["status"] == "failed" and "not running" in shown[0]["error"]


def test_no_configured_vision_model_is_a_clear_error(
    ollama: FakeOllama, session: Session, client: TestClient
) -> None:
    page = handwritten_page(session, CANDIDE)
    response = client.post(f"/api/pages/{page.id}/proposals", json={})
    assert response.status_code == 422
    assert "PALIMPSEST_VISION_MODEL" in response.json()["message"]


def test_an_openai_compatible_server_gets_the_image_as_a_data_uri(
    session: Session, client: TestClient, configure: Any
) -> None:
    with openai_server.running() as server:
        configure(
            PALIMPSEST_VISION_BACKEND="openai",
            PALIMPSEST_VISION_OPENAI_BASE_URL=server.base_url,
            PALIMPSEST_VISION_MODEL=server.model,
        )
        page = handwritten_page(session, CANDIDE)
        asked = ask(client, page.id)[:2]
        answer(asked)
    found = [p for p in proposals_of(session, page.id) if p.id in {a["id"] for a in asked}]
    assert [p.status for p in found] == [ProposalStatus.DONE] * 2, [p.error for p in found]
    assert all(p.backend == "openai" and p.model == server.model for p in found)
    assert found[0].text.startswith("Il y avoit en Westphalie")
    part = server.requests[0]["messages"][1]["content"][1]
    assert part["type"] == "image_url"
    uri = part["image_url"]["url"]
    assert uri.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        assert image.width * image.height <= 1_200_000


def correct_from_images(client: TestClient, document_id: int, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/documents/{document_id}/translation-runs",
        json={"kind": "correct", "with_images": True} | body,
    )
    assert response.status_code == 202, response.text
    run = dict(response.json())
    run_inline(pipeline.default_context(), [Step(TaskName.PLAN_TRANSLATION_RUN, (run["id"],))])
    return dict(client.get(f"/api/translation-runs/{run['id']}").json())


def printed_document(session: Session) -> int:
    from service.storage import get_storage

    scan = (SAMPLES / "eng-1881-campbell-p0040.png").read_bytes()
    sha = get_storage().put_bytes(scan)
    document = make_document(
        session,
        ["The fame of the poet was great.", "Aud 1t was s0 in his own time."],
        source_lang="en",
        target_lang="fr",
        image_sha256=sha,
    )
    page = session.scalars(select(Page).where(Page.document_id == document.id)).one()
    with Image.open(io.BytesIO(scan)) as image:
        page.width, page.height = image.size
    session.commit()
    return document.id


def test_ocr_is_corrected_from_the_image_as_a_proposal_in_the_corrections_layer(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    document_id = printed_document(session)
    run = correct_from_images(client, document_id)
    assert run["status"] == "done" and run["with_images"] and run["model"] == VISION
    assert len(vision.images) == 2  # one image a segment
    listed = client.get(f"/api/documents/{document_id}/corrections").json()
    second = listed[1]
    assert second["corrected"] == fake_correction("Aud 1t was s0 in his own time.")
    assert ("-", "1t") in [tuple(d) for d in second["diff"]]
    assert [f["kind"] for f in second["flags"]] == ["from_image"]
    # The OCR text itself is untouched: the correction is a proposal for review.
    texts = [s.text for s in session.scalars(select(Segment).order_by(Segment.position))]
    assert texts[1] == "Aud 1t was s0 in his own time."
    stored = session.scalars(select(Correction)).all()
    assert {c.model_digest for c in stored} == {digest_of(VISION)}


def test_a_correction_that_modernises_the_spelling_is_asked_again_and_flagged(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    vision.mode = "modernise"
    document = make_document(session, ["Il étoit tems de partir, & ils avoient faim."])
    from service.storage import get_storage

    page = session.scalars(select(Page).where(Page.document_id == document.id)).one()
    blank = io.BytesIO()
    Image.new("L", (1000, 1500), 255).save(blank, format="PNG")
    page.image_sha256 = get_storage().put_bytes(blank.getvalue())
    session.commit()
    run = correct_from_images(client, document.id)
    assert run["status"] == "done"
    [item] = client.get(f"/api/documents/{document.id}/corrections").json()
    # Told which words it modernised, the stand-in kept the page's spelling the second time.
    assert item["corrected"] == "Il étoit tems de partir, & ils avoient faim."
    assert [f["kind"] for f in item["flags"]] == ["from_image"]
    assert "keep the spelling of the page" in vision.chats[-1]["messages"][0]["content"]


def test_the_typed_regions_of_a_page_are_not_sent_for_ocr_correction(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    document_id = printed_document(session)
    page = session.scalars(select(Page).where(Page.document_id == document_id)).one()
    typed = {"bbox": [10, 200, 900, 260], "text": "A note in the margin, by hand."}
    assert client.post(f"/api/pages/{page.id}/segments", json=typed).status_code == 201
    run = correct_from_images(client, document_id)
    assert run["total"] == 2  # the two OCR segments, not the typed one
    kinds = {s.kind for s in session.scalars(select(Segment))}
    assert SegmentKind.MANUAL in kinds


def test_a_proposal_whose_task_was_lost_is_sent_again_by_the_reconciler(
    vision: FakeOllama, session: Session, client: TestClient
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from service.jobs.reconcile import stalled_steps

    page = handwritten_page(session, CANDIDE)
    asked = ask(client, page.id)[:1]  # queued, but no worker ever takes it
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    session.execute(update(TranscriptionProposal).values(updated_at=long_ago))
    session.commit()
    steps = stalled_steps(session, datetime.now(UTC) - timedelta(minutes=2))
    lost = [s for s in steps if s.task is TaskName.TRANSCRIBE_REGION]
    assert {s.args[0] for s in lost} >= {asked[0]["id"]}
    answer([{"id": asked[0]["id"]}])
    session.expire_all()
    done = session.get(TranscriptionProposal, asked[0]["id"])
    assert done is not None and done.status is ProposalStatus.DONE
