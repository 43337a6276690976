"""A stand-in for the Ollama server speaking its real HTTP API; the official client runs unchanged.

It implements what Palimpsest's backend uses: `GET /api/version`, `GET /api/tags`,
`POST /api/show` and `POST /api/chat` (streamed NDJSON or one JSON object), with Ollama's
error shapes (404 for a model that is not pulled, 500, 503). Its "translation" of a segment
is deterministic — the target language code, a colon and the source text — so tests can
check that every translation landed on its own segment. Behaviour can be switched per test
(`mode`) to misbehave the way real models do.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIGEST = "sha256:" + "ab" * 32


def fake_translation(text: str, target: str = "en") -> str:
    """What the stand-in answers for one segment."""
    return f"{target.upper()}: {text}"


@dataclass
class FakeOllama:
    """Server state: pulled models, behaviour mode, and a log of chat requests."""

    models: list[str] = field(default_factory=lambda: ["llama3.2:3b", "deepseek-r1:1.5b"])
    mode: str = "ok"
    target: str = "en"
    chats: list[dict[str, Any]] = field(default_factory=list)
    fail_times: int = 0
    host: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def translate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer for a batch, shaped by the mode."""
        segments = json.loads(payload["messages"][-1]["content"])["segments"]
        items = [
            {"id": s["id"], "text": fake_translation(s["text"], self.target)} for s in segments
        ]
        if self.mode == "drop-one" and len(items) > 1:
            items = items[:-1]
        if self.mode == "reorder":
            items = list(reversed(items))
        return {"translations": items}

    def answer_text(self, payload: dict[str, Any]) -> str:
        """The assistant's content for a chat request."""
        body = json.dumps(self.translate_payload(payload), ensure_ascii=False)
        if self.mode == "think":
            return f"<think>The user wants a translation. Let me think.</think>\n{body}"
        if self.mode == "chatter":
            return f"Here is the translation:\n```json\n{body}\n```"
        if self.mode == "garbage":
            return "I cannot help with that."
        return body


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr logging."""

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/api/version":
            self._json(200, {"version": "0.12.6"})
        elif self.path == "/api/tags":
            self._json(200, {"models": [_model_entry(m) for m in state.models]})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/api/show":
            self._show(payload)
        elif self.path == "/api/chat":
            self._chat(payload)
        else:
            self._json(404, {"error": "not found"})

    def _show(self, payload: dict[str, Any]) -> None:
        name = payload.get("model") or payload.get("name")
        if name not in self.server.state.models:
            self._json(404, {"error": f"model '{name}' not found"})
            return
        capabilities = (
            ["completion", "thinking"] if "deepseek-r1" in name else ["completion", "tools"]
        )
        self._json(
            200,
            {
                "modelfile": "",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": _model_entry(name)["details"],
                "model_info": {},
                "capabilities": capabilities,
                "modified_at": _now(),
            },
        )

    def _chat(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        with state.lock:
            state.chats.append(payload)
            failing = state.fail_times > 0
            if failing:
                state.fail_times -= 1
        model = payload.get("model", "")
        if model not in state.models:
            self._json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        if state.mode == "overloaded" or (failing and state.mode == "flaky-503"):
            self._json(
                503, {"error": "server busy, please try again. maximum pending requests exceeded"}
            )
            return
        if state.mode == "error-500":
            self._json(500, {"error": "llama runner process has terminated: signal: killed"})
            return
        text = state.answer_text(payload)
        if payload.get("stream", True):
            self._stream(model, text, payload)
        else:
            self._json(
                200,
                _final(model, text, payload) | {"message": {"role": "assistant", "content": text}},
            )

    def _stream(self, model: str, text: str, payload: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in _pieces(text, 16):
            self._chunk(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )
        self._chunk(
            _final(model, text, payload) | {"message": {"role": "assistant", "content": ""}}
        )
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, obj: dict[str, Any]) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _json(self, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: FakeOllama) -> None:
        super().__init__(address, _Handler)
        self.state = state


def _pieces(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def _final(model: str, text: str, payload: dict[str, Any]) -> dict[str, Any]:
    prompt_chars = sum(len(m.get("content", "")) for m in payload.get("messages", []))
    return {
        "model": model,
        "created_at": _now(),
        "done": True,
        "done_reason": "stop",
        "total_duration": 1_000_000,
        "load_duration": 1000,
        "prompt_eval_count": max(1, prompt_chars // 4),
        "prompt_eval_duration": 1000,
        "eval_count": max(1, len(text) // 4),
        "eval_duration": 1000,
    }


def _model_entry(name: str) -> dict[str, Any]:
    family = "qwen2" if "deepseek" in name else "llama"
    return {
        "name": name,
        "model": name,
        "modified_at": _now(),
        "size": 2_019_393_189,
        "digest": DIGEST,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        },
    }


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@contextmanager
def running(state: FakeOllama | None = None, port: int = 0) -> Iterator[FakeOllama]:
    """Serve the stand-in on 127.0.0.1 in a thread; yields its state with `host` set."""
    state = state or FakeOllama()
    server = _Server(("127.0.0.1", port), state)
    state.host = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll until the predicate holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
