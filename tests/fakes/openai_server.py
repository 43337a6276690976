"""A stand-in for an OpenAI-compatible server that reads images (vLLM serving Qwen2.5-VL,
llama.cpp's server with a projector), speaking the request shape of OpenAI's API.

`GET /v1/models` lists the served model; `POST /v1/chat/completions` takes messages whose
user content is a list of parts, `{"type": "text", "text": …}` and `{"type": "image_url",
"image_url": {"url": "data:image/jpeg;base64,…"}}`, and answers as a stream of
server-sent events (or one JSON object), with `usage`. A part of another shape, or an
image that does not decode, is refused with 400 and OpenAI's error body, as vLLM does.
What it reads in an image is the Ollama stand-in's (`fake_reading`, `fake_correction`).
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

from tests.fakes.ollama_server import FakeOllama


@dataclass
class FakeVisionServer:
    """Served model, requests seen, images decoded; `behaviour` answers like the Ollama fake."""

    model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    behaviour: FakeOllama = field(default_factory=FakeOllama)
    requests: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""


class _Refused(Exception):
    """A request of the wrong shape."""


def _image(part: dict[str, Any]) -> dict[str, Any]:
    url = part.get("image_url")
    if not isinstance(url, dict) or not str(url.get("url", "")).startswith("data:image/"):
        raise _Refused("image_url must be an object whose url is a data: URI of an image")
    header, _, data = url["url"].partition(",")
    if not header.endswith(";base64"):
        raise _Refused("only base64 data URIs are accepted")
    try:
        with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
            return {"format": image.format, "width": image.width, "height": image.height}
    except (ValueError, OSError) as exc:
        raise _Refused(f"the image cannot be decoded: {exc}") from exc


def _prompt(messages: list[dict[str, Any]]) -> tuple[str, str, list[dict[str, Any]]]:
    system, text, images = "", "", []
    for message in messages:
        content = message.get("content")
        if message.get("role") == "system":
            system = str(content)
        elif isinstance(content, list):
            for part in content:
                if part.get("type") == "text":
                    text += str(part.get("text", ""))
                elif part.get("type") == "image_url":
                    images.append(_image(part))
                else:
                    raise _Refused(f"unknown content part type {part.get('type')!r}")
        else:
            text += str(content)
    return system, text, images


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr logging."""

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            state = self.server.state
            self._json(200, {"object": "list", "data": [{"id": state.model, "object": "model"}]})
        else:
            self._error(404, "not found")

    def do_POST(self) -> None:
        state = self.server.state
        payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path != "/v1/chat/completions":
            self._error(404, "not found")
            return
        state.requests.append(payload)
        if payload.get("model") != state.model:
            self._error(404, f"The model `{payload.get('model')}` does not exist.")
            return
        try:
            system, text, images = _prompt(payload.get("messages", []))
        except _Refused as exc:
            self._error(400, str(exc))
            return
        state.images.extend(images)
        answer = state.behaviour.vision_text(system, text, images[0]) if images else text
        answer = state.behaviour.wrap(answer, {})
        if payload.get("stream"):
            self._stream(state.model, answer)
        else:
            self._json(200, _completion(state.model, answer))

    def _stream(self, model: str, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(0, len(text), 12):
            delta = {"choices": [{"index": 0, "delta": {"content": text[i : i + 12]}}]}
            self.wfile.write(f"data: {json.dumps(delta | {'model': model})}\n\n".encode())
        done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(done | {'usage': _usage(text)})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message, "type": "invalid_request_error"}})

    def _json(self, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _usage(text: str) -> dict[str, int]:
    return {"prompt_tokens": 600, "completion_tokens": max(1, len(text) // 4)}


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "object": "chat.completion",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": _usage(text),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: FakeVisionServer) -> None:
        super().__init__(address, _Handler)
        self.state = state


@contextmanager
def running(state: FakeVisionServer | None = None) -> Iterator[FakeVisionServer]:
    """Serve the stand-in on 127.0.0.1 in a thread; yields its state with `base_url` set."""
    state = state or FakeVisionServer()
    server = _Server(("127.0.0.1", 0), state)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
