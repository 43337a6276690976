"""Health, metrics and structured logs."""

from __future__ import annotations

import json
import logging
import re

import pytest
import redis
from sqlalchemy.orm import Session

from service.observability import JsonFormatter, configure_logging, log_context, record_task
from tests.fakes.ollama_server import FakeOllama
from tests.support.helpers import authed_client, make_document


def test_health_reports_database_redis_and_model_host(ollama: FakeOllama) -> None:
    body = authed_client().get("/health").json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok", "ollama": "ok (2 models)"}


def test_health_says_when_the_model_host_is_down() -> None:
    response = authed_client().get("/health")
    assert response.status_code == 200  # the embedded model still translates
    assert response.json()["ollama"] == "unreachable (the embedded model translates)"


def test_metrics_count_work_queue_depth_and_task_durations(
    session: Session, redis_client: redis.Redis
) -> None:
    make_document(session, ["Un.", "Deux."], ["One.", None], pages=2)
    redis_client.rpush("ocr", b"{}", b"{}")
    record_task(redis_client, "palimpsest.ocr_page", 3.2, "ok")
    record_task(redis_client, "palimpsest.ocr_page", 40.0, "failed")
    text = authed_client().get("/metrics").text
    assert 'palimpsest_pages{status="done"} 2' in text
    assert 'palimpsest_translations{status="machine"} 1' in text
    assert 'palimpsest_queue_depth{queue="ocr"} 2' in text
    assert 'palimpsest_task_duration_seconds_bucket{task="palimpsest.ocr_page",le="5"} 1' in text
    assert 'palimpsest_task_duration_seconds_bucket{task="palimpsest.ocr_page",le="+Inf"} 2' in text
    assert 'palimpsest_task_duration_seconds_sum{task="palimpsest.ocr_page"} 43.2' in text
    assert 'palimpsest_tasks_total{task="palimpsest.ocr_page",outcome="failed"} 1' in text
    assert all(
        re.fullmatch(r"(# (HELP|TYPE) .*|[a-z_]+(\{.*\})? [-0-9.e+]+)", line)
        for line in text.strip().splitlines()
    )


def test_json_logs_carry_the_ids_of_the_work(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json")
    try:
        with log_context(document_id=7, task="palimpsest.ocr_page", task_id="abc"):
            logging.getLogger("service.test").info("page %s read", 3)
    finally:
        configure_logging("warning", "text")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["message"] == "page 3 read"
    assert (entry["document_id"], entry["task"], entry["task_id"]) == (
        7,
        "palimpsest.ocr_page",
        "abc",
    )
    assert isinstance(JsonFormatter(), logging.Formatter)


def test_every_answer_says_how_long_the_server_worked_on_it(session: Session) -> None:
    from fastapi.testclient import TestClient

    from service.main import create_app
    from service.timing import server_ms

    document = make_document(session, ["Un.", "Deux."], ["One.", None])
    client = authed_client()
    answers = [
        client.get(f"/documents/{document.id}"),
        client.get("/api/me"),
        client.get("/api/documents/999999"),  # a refusal is timed too
        TestClient(create_app()).get("/api/me"),  # and one refused before authentication
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 401]
    for answer in answers:
        took = server_ms(answer.headers)
        assert took is not None and 0 < took < 60_000, answer.headers.get("server-timing")
