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
MULTIHOST = {"minio", "minio-bucket", "worker-ocr-remote"}
AWS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def setting_env_names() -> set[str]:
    names = {f"PALIMPSEST_{name.upper()}" for name in Settings.model_fields}
    return names | {"OLLAMA_HOST", "OMP_THREAD_LIMIT"} | AWS


def test_every_service_the_stack_needs_is_there() -> None:
    default = {name for name, service in SERVICES.items() if not service.get("profiles")}
    assert default == {"postgres", "redis", "ollama", *APP_SERVICES}
    profiled = {name for name, service in SERVICES.items() if service.get("profiles")}
    assert profiled == MULTIHOST
    assert all(SERVICES[name]["profiles"] == ["multihost"] for name in MULTIHOST)


@pytest.mark.parametrize("name", [*APP_SERVICES, "worker-ocr-remote"])
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


@pytest.mark.parametrize("name", [*APP_SERVICES, "worker-ocr-remote"])
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


def _default(value: str) -> str:
    """What `${NAME:-default}` becomes when NAME is not set."""
    return value.split(":-", 1)[1].rstrip("}") if value.startswith("${") else value


def test_the_multihost_ocr_worker_shares_files_only_through_the_bucket() -> None:
    remote = SERVICES["worker-ocr-remote"]
    env = remote["environment"]
    assert all(not v.startswith("data:") for v in remote["volumes"])  # no shared data volume
    cache = {v.split(":")[1]: v.split(":")[0] for v in remote["volumes"]}
    assert cache[env["PALIMPSEST_DATA_DIR"]] == "ocr-cache"  # its own cache, nothing shared
    url = _default(env["PALIMPSEST_STORAGE_URL"])
    assert url.startswith("s3://")
    bucket = url.removeprefix("s3://").split("/")[0]
    assert f"store/{bucket}" in SERVICES["minio-bucket"]["command"][0]  # the bucket is made
    assert _default(env["PALIMPSEST_S3_ENDPOINT_URL"]) == "http://minio:9000"
    minio = SERVICES["minio"]["environment"]
    assert env["AWS_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
    assert env["AWS_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    args = _parser().parse_args(remote["command"][1:])
    assert args.queues == Queue.OCR.value
    depends = remote["depends_on"]
    assert depends["minio-bucket"]["condition"] == "service_completed_successfully"
    assert "miniodata:/data" in SERVICES["minio"]["volumes"]  # the objects are on a volume
    assert {"miniodata", "ocr-cache"} <= set(COMPOSE["volumes"])


def test_every_app_service_follows_the_one_storage_url() -> None:
    """Web and the other workers read PALIMPSEST_STORAGE_URL from the environment, which
    the multihost command sets; unset, they keep files on the data volume as before."""
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["PALIMPSEST_STORAGE_URL"] == "${PALIMPSEST_STORAGE_URL:-}"
        assert (
            env["PALIMPSEST_S3_ENDPOINT_URL"]
            == SERVICES["worker-ocr-remote"]["environment"]["PALIMPSEST_S3_ENDPOINT_URL"]
        )
