"""Fixtures: a real worker process and the Ollama stand-in it talks to; SeaweedFS (S3)."""

from tests.support.s3server import s3_server
from tests.support.workerproc import worker, worker_log, worker_ollama

__all__ = ["s3_server", "worker", "worker_log", "worker_ollama"]
