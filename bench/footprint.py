"""Resident memory of the web process and of the workers, idle and under load.

- web: the `palimpsest serve` process, idle after start-up and at its peak while 50
  readers load it (figures from the web section when it ran).
- OCR worker (`--queues ocr,default --concurrency 2`, as `make run` starts it): the whole
  process tree (main process, two pool processes, their Tesseract children) as PSS, so
  pages shared by the forked processes count once; idle, and at its peak while reading the
  three German Fraktur pages.
- model worker (`--queues llm,default --concurrency 1`): idle before its first task (the
  model is loaded on first use), then at its peak while translating eight sentences with
  the embedded Gemma 3 270M, and idle again with the model loaded. Reference: a bare
  Python process that loads the same GGUF with llama-cpp-python and generates once.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench import procs
from bench.common import Figure

WITHOUT_MODEL_MB = 400
WITH_MODEL_MB = 1200
BARE_MODEL = """
import sys
from pathlib import Path
from llama_cpp import Llama
m = Llama(model_path=sys.argv[1], n_ctx=int(sys.argv[2]), n_threads=int(sys.argv[3]),
          verbose=False)
m("Le roi est mort.", max_tokens=16)
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]) / 1024)
"""


def _web(web_pid: int, memory: dict[str, float]) -> list[Figure]:
    idle = memory.get("idle_rss") or procs.rss_mb(web_pid)
    busy = memory.get("busy_rss")
    out = [
        Figure(
            "footprint",
            "web process (uvicorn), idle",
            idle,
            "MB RSS",
            goal=f"≤ {WITHOUT_MODEL_MB} MB",
            met=idle <= WITHOUT_MODEL_MB,
        )
    ]
    if busy:
        out.append(
            Figure(
                "footprint",
                "web process under 50 readers, peak",
                busy,
                "MB RSS",
                "the same process idle",
                idle,
                busy / idle,
                "loaded / idle",
                f"≤ {WITHOUT_MODEL_MB} MB",
                busy <= WITHOUT_MODEL_MB,
            )
        )
    return out


def _ocr_worker(token: str, base: str) -> list[Figure]:
    from bench.ocr import Pipeline, groups

    fraktur = groups()[:1]
    with procs.worker("ocr,default", 2) as pid:
        time.sleep(1)
        idle = procs.Sampler(pid)
        idle.sample()
        with procs.Sampler(pid) as busy:
            Pipeline(base, token).run(fraktur)
    notes = ", ".join(f"{k} {v:.0f}" for k, v in sorted(busy.peak.rss_by_role.items()))
    return [
        Figure(
            "footprint",
            "OCR worker (2 processes), idle, whole tree",
            idle.peak.pss_total,
            "MB PSS",
            goal=f"≤ {WITHOUT_MODEL_MB} MB",
            met=idle.peak.pss_total <= WITHOUT_MODEL_MB,
            spread="RSS per process: "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(idle.peak.rss_by_role.items())),
        ),
        Figure(
            "footprint",
            "OCR worker (2 processes) reading pages, peak, whole tree",
            busy.peak.pss_total,
            "MB PSS",
            "the same worker idle",
            idle.peak.pss_total,
            busy.peak.pss_total / idle.peak.pss_total,
            "loaded / idle",
            f"≤ {WITHOUT_MODEL_MB} MB",
            busy.peak.pss_total <= WITHOUT_MODEL_MB,
            f"peak RSS per process (MB): {notes}",
        ),
    ]


def _bare_model() -> float:
    from service.config import get_settings
    from service.translation.backends.llamacpp import ensure_default_model

    settings = get_settings()
    path = ensure_default_model(settings.embedded_model_file)
    args = [str(path), str(settings.embedded_n_ctx), str(settings.embedded_threads)]
    out = subprocess.run(
        [sys.executable, "-c", BARE_MODEL, *args], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def _translate(texts: list[str]) -> None:
    """Queue a document's translation with the embedded model and wait for every segment."""
    from sqlalchemy import func, select

    from bench.translation import make_document
    from service.config import get_settings
    from service.db import get_sessionmaker, unit_of_work
    from service.jobs.queue import enqueue
    from service.jobs.steps import Step, TaskName
    from service.translation.backends.llamacpp import ensure_default_model
    from service.translation.models import Translation

    model = ensure_default_model(get_settings().embedded_model_file)
    with unit_of_work() as session:
        document_id = make_document(session, texts, "embedded", str(model))
    enqueue([Step(TaskName.PLAN_TRANSLATION, (document_id,))])
    query = select(func.count()).where(Translation.document_id == document_id)
    deadline = time.monotonic() + 600
    with get_sessionmaker()() as session:
        while (session.scalar(query) or 0) < len(texts):
            session.rollback()
            if time.monotonic() > deadline:
                raise RuntimeError("the model worker did not translate the document")
            time.sleep(0.2)


def _model_worker() -> list[Figure]:
    from bench.translation import sample_texts

    texts = sample_texts()[:8]
    bare = _bare_model()
    with procs.worker("llm,default", 1) as pid:
        time.sleep(1)
        before = procs.Sampler(pid)
        before.sample()
        with procs.Sampler(pid) as busy:
            _translate(texts)
        after = procs.Sampler(pid)
        after.sample()
    loaded = busy.peak.pss_total
    return [
        Figure(
            "footprint",
            "model worker (1 process), idle, model not loaded yet",
            before.peak.pss_total,
            "MB PSS",
            goal=f"≤ {WITHOUT_MODEL_MB} MB",
            met=before.peak.pss_total <= WITHOUT_MODEL_MB,
        ),
        Figure(
            "footprint",
            "model worker translating with the embedded model, peak",
            loaded,
            "MB PSS",
            "bare llama-cpp-python process with the same GGUF",
            bare,
            loaded / bare,
            "worker / bare",
            f"≤ {WITH_MODEL_MB} MB",
            loaded <= WITH_MODEL_MB,
            f"idle with the model loaded afterwards: {after.peak.pss_total:.0f} MB",
        ),
    ]


def figures(web_pid: int, memory: dict[str, float], base: str, token: str) -> list[Figure]:
    """Every footprint figure."""
    return _web(web_pid, memory) + _ocr_worker(token, base) + _model_worker()
