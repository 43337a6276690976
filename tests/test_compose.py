"""docker-compose.yml is run by users, not here (no Docker engine): check it against the code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from service.cli import _parser
from service.config import PROJECT_ROOT, Settings
from service.jobs.steps import Queue

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker-ocr", "worker-llm", "beat"]


def setting_env_names() -> set[str]:
    names = {f"PALIMPSEST_{name.upper()}" for name in Settings.model_fields}
    return names | {"OLLAMA_HOST", "OMP_THREAD_LIMIT"}


def test_every_service_the_stack_needs_is_there() -> None:
    assert set(SERVICES) == {"postgres", "redis", "ollama", *APP_SERVICES}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_only_real_settings(name: str) -> None:
    env = SERVICES[name]["environment"]
    unknown = set(env) - setting_env_names()
    assert not unknown, f"{name} sets variables Palimpsest does not read: {unknown}"
    settings = Settings(
        **{
            k.removeprefix("PALIMPSEST_").lower(): v
            for k, v in env.items()
            if k.startswith("PALIMPSEST_") and "${" not in str(v)
        }
    )
    assert settings.database_url.hosts()[0]["host"] == "postgres"
    assert str(settings.redis_url).startswith("redis://redis:6379")
    assert env["OLLAMA_HOST"] == "http://ollama:11434"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_commands_are_valid_cli_invocations(name: str) -> None:
    command = SERVICES[name]["command"]
    assert command[0] == "palimpsest"
    args = _parser().parse_args(command[1:])
    assert args.handler.__name__ in {"_migrate", "_serve", "_worker", "_beat"}


def test_workers_cover_every_queue() -> None:
    queues: set[str] = set()
    for name in ("worker-ocr", "worker-llm"):
        args = _parser().parse_args(SERVICES[name]["command"][1:])
        queues |= set(args.queues.split(","))
    assert queues == {q.value for q in Queue}
    llm = _parser().parse_args(SERVICES["worker-llm"]["command"][1:])
    assert llm.concurrency == 1  # one model in memory, not one per child


def test_storage_is_shared_by_web_and_workers() -> None:
    for name in APP_SERVICES:
        data_dir = SERVICES[name]["environment"]["PALIMPSEST_DATA_DIR"]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES[name]["volumes"]}
        assert mounts[data_dir] == "data"
    assert {"data", "pgdata", "redisdata", "ollama"} <= set(COMPOSE["volumes"])
    assert "ollama:/root/.ollama" in SERVICES["ollama"]["volumes"]


def test_start_order_waits_for_health_and_migrations() -> None:
    for name in ("postgres", "redis", "ollama", "web"):
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker-ocr", "worker-llm", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert "/health" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_the_database_credentials_match_between_postgres_and_the_app() -> None:
    pg = SERVICES["postgres"]["environment"]
    url = SERVICES["web"]["environment"]["PALIMPSEST_DATABASE_URL"]
    assert (
        f"{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}" in url
    )


def test_the_image_is_built_from_the_dockerfile() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert all(SERVICES[name]["build"] == "." for name in APP_SERVICES)
    for package in ("tesseract-ocr-frk", "tesseract-ocr-script-frak", "poppler-utils"):
        assert package in dockerfile
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY")}
    assert all((PROJECT_ROOT / Path(c)).exists() for c in copied)


def test_exactly_one_beat_sends_the_reconciler_and_a_worker_takes_it() -> None:
    beats = [n for n, s in SERVICES.items() if s.get("command", [None, None])[1:2] == ["beat"]]
    assert beats == ["beat"]
    assert SERVICES["beat"].get("deploy", {}).get("replicas", 1) == 1
    default_workers = [
        name
        for name in ("worker-ocr", "worker-llm")
        if Queue.DEFAULT.value in _parser().parse_args(SERVICES[name]["command"][1:]).queues
    ]
    assert default_workers  # the reconcile task goes to the default queue


def test_make_run_starts_the_beat_too() -> None:
    run = (PROJECT_ROOT / "scripts" / "run.sh").read_text()
    assert '"$BIN/palimpsest" beat >>var/log/beat.log' in run
