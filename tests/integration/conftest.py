"""Fixtures: a real worker process and the Ollama stand-in it talks to."""

from tests.support.workerproc import worker, worker_log, worker_ollama

__all__ = ["worker", "worker_log", "worker_ollama"]
