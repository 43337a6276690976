"""The effective Celery configuration: misspelled options would fail silently."""

from typing import Any

import pytest
from celery import Celery

from service.jobs.steps import Queue, TaskName, queue_for
from tests.conftest import TEST_REDIS


def worker_app() -> Celery:
    from workers.celery_app import app

    app.loader.import_default_modules()
    return app


def test_tasks_are_json_late_acked_and_fairly_prefetched() -> None:
    conf = worker_app().conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result is True
    assert conf.broker_url == TEST_REDIS
    assert conf.broker_transport_options["visibility_timeout"] >= 600


def test_every_pipeline_step_is_a_registered_task_on_its_queue() -> None:
    app = worker_app()
    registered = {name for name in app.tasks if name.startswith("palimpsest.")}
    assert registered == {t.value for t in TaskName}
    for task in TaskName:
        assert app.tasks[task.value].acks_late is True
        route = app.amqp.router.route({}, task.value)
        assert route["queue"].name == queue_for(task).value
    assert queue_for(TaskName.OCR_PAGE) is Queue.OCR
    assert queue_for(TaskName.TRANSLATE_BATCH) is Queue.LLM
    assert {q.name for q in app.conf.task_queues} == {q.value for q in Queue}


def test_tesseract_gets_one_thread_and_the_model_worker_keeps_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import subprocess
    import sys

    from PIL import Image

    from service.ocr.engines.tesseract import TesseractEngine

    seen: list[str | None] = []
    popen = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append((kwargs.get("env") or os.environ).get("OMP_THREAD_LIMIT"))
        return popen(*args, **kwargs)

    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    monkeypatch.setattr(subprocess, "Popen", spy)
    TesseractEngine().recognize(Image.new("L", (200, 80), 255), "eng")
    assert seen and all(value == "1" for value in seen)  # every Tesseract: one thread
    assert "OMP_THREAD_LIMIT" not in os.environ  # and only Tesseract
    monkeypatch.undo()
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    code = "import os, workers.celery_app; print(os.environ.get('OMP_THREAD_LIMIT', 'unset'))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "unset"  # llama.cpp's OpenMP threads are not limited


def test_the_web_app_never_loads_tesseract_or_a_model_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys, service.main; "
        "heavy = ('pytesseract', 'ollama', 'llama_cpp', 'workers'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_beat_sends_the_reconciler_to_the_default_queue_on_its_interval() -> None:
    conf = worker_app().conf
    entry = conf.beat_schedule["reconcile"]
    assert entry["task"] == TaskName.RECONCILE.value
    assert entry["schedule"] == 60.0  # PALIMPSEST_RECONCILE_INTERVAL_S
    assert entry["options"]["queue"] == Queue.DEFAULT.value
    assert entry["options"]["expires"] <= entry["schedule"]  # a stale one is dropped
    assert worker_app().tasks[TaskName.RECONCILE.value].max_retries == 0


def test_each_task_logs_its_first_id_under_the_name_the_task_gives_it() -> None:
    import inspect

    from service.jobs.steps import Step
    from workers.base import ids_of

    tasks = worker_app().tasks
    for name in TaskName:
        parameters = list(inspect.signature(tasks[name.value].run).parameters)
        step = Step(name, (41,) if parameters else ())
        # A translate_batch logged its run's id as document_id: the wrong rows were searched.
        assert ids_of(step) == ({parameters[0]: 41} if parameters else {}), name
