"""A translation whose model server is not there waits with its reason, fails with that
reason after PALIMPSEST_MODEL_WAIT_LIMIT_S, and can be cancelled meanwhile: real worker and
beat processes against a port where nothing listens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from sqlalchemy.orm import Session

from tests.conftest import TEST_REDIS
from tests.integration.test_crash_safety import FAST, processes, progress, run_of, wait_for
from tests.support.helpers import authed_client, make_document
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e


def test_a_run_waiting_for_a_missing_server_fails_at_its_limit_or_when_cancelled(
    configure: Callable[..., None], embedded_model: Path, session: Session
) -> None:
    redis.Redis.from_url(TEST_REDIS).flushdb()
    configure(
        **FAST, PALIMPSEST_MODEL_WAIT_LIMIT_S="8", OLLAMA_HOST=f"http://127.0.0.1:{free_port()}"
    )
    document = make_document(session, ["Le roy est mort.", "Vive le roy !"], ["a", "b"])
    with processes("waiting-runs") as stack:
        client = authed_client("editor")
        url = f"/api/documents/{document.id}/translation-runs"
        body = {"backend": "ollama", "model": "llama3.2:3b", "force": True}
        waiting = client.post(url, json=body).json()
        wait_for(
            lambda: "not running at" in (run_of(client, waiting["id"])["waiting"] or ""),
            "the run waiting for its model with the reason",
            stack,
        )
        panel = progress(client, document.id)
        assert "Ollama is not running at" in panel and "Fails with this reason in" in panel
        assert f'data-url="/api/translation-runs/{waiting["id"]}/cancel"' in panel
        # The comparison page says the same of the run (it showed "pending 0/0").
        compared = client.get(f"/documents/{document.id}/compare?runs={waiting['id']}").text
        assert "Waiting for the model" in compared and "Ollama is not running at" in compared

        # A second run is cancelled while it waits: it stops at once and stays stopped.
        cancelled = client.post(url, json=body).json()
        wait_for(
            lambda: run_of(client, cancelled["id"])["waiting"] is not None,
            "the second run waiting",
            stack,
        )
        answer = client.post(f"/api/translation-runs/{cancelled['id']}/cancel")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "cancelled"
        assert "Cancelled by" in answer.json()["error"]
        again = client.post(f"/api/translation-runs/{cancelled['id']}/cancel")
        assert again.status_code == 422

        # The first one gives up with its reason once the limit has passed.
        wait_for(
            lambda: run_of(client, waiting["id"])["status"] == "failed",
            "the waiting run failing at its time limit",
            stack,
            timeout=60,
        )
        failed = run_of(client, waiting["id"])
        assert "not running at" in failed["error"] and "Gave up after waiting" in failed["error"]
        assert failed["waiting"] is None
        assert run_of(client, cancelled["id"])["status"] == "cancelled"
    # The document keeps the translations it had: neither run replaced them.
    rows = client.get(f"/api/documents/{document.id}/segments").json()
    assert [r["translation"]["text"] for r in rows] == ["a", "b"]
