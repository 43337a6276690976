"""A stand-in for the Ollama server speaking its real HTTP API; the official client runs unchanged.

It implements what Palimpsest's backend uses: `GET /api/version`, `GET /api/tags` (with a
digest per model), `POST /api/show` (with `capabilities`, `thinking` for DeepSeek-R1) and
`POST /api/chat` (streamed NDJSON or one JSON object, `done_reason` "stop" or "length"),
with Ollama's error shapes (404 for a model that is not pulled, 500, 503). Its
"translation" of a segment is deterministic — the target language code, a colon and the
source text with its function words put into English — so tests can check that every
translation landed on its own segment. Behaviour can be switched per test (`mode`) to
misbehave the way real models do:

- alignment (only in batches of two or more segments, so halving recovers): `drop-one`,
  `merge` (two items joined under the first id), `reorder`, `invalid-json`, `truncated`
  (cut in the middle, `done_reason: "length"`);
- content (until the request carries the stricter retry note): `copy-source`,
  `wrong-language`, and the unfaithful answers the checks must catch: `refuse` ("I'm
  sorry…"), `comment` ("Here is the translation: …"), `echo` (a line of the system
  prompt), `loop` (a phrase said over and over), `omit` (the first sentence only), `invent`
  (a year the source does not have); each with `-always` never mends (`copy-source-always`
  never translates);
- scripted: `answers` maps a source text to the answer to give for it (the human reference
  translations, say), whatever the mode;
- wrapping: `think`, `lone-think`, `chatter`; `garbage` never answers JSON;
- glossary: the agreed renderings listed in the system prompt are used, except in
  `ignore-glossary`; an OCR-correction request gets `fake_correction` of each text;
- server: `overloaded` (503), `error-500`, `flaky-503` (503 `fail_times` times), and
  `refuse_after=N` closes the listening socket after N chat requests, so the next
  connection is refused, as when Ollama is stopped in the middle of a document;
  `delay` (seconds) makes every chat answer that much later, like a model on a slow CPU,
  and `in_flight` counts chat requests being answered right now.

A model whose capabilities include `thinking` answers with a `<think>` block unless the
request says `think: false`, as older Ollama versions did. `/api/show` reports each model's
size as Ollama does (`details.parameter_size`, `model_info["general.parameter_count"]`),
from the size in its name. TranslateGemma (`translategemma:4b`) gets one text per message in
its model card's format and answers with plain text, as the real model does.

Vision models (qwen2.5vl, llama3.2-vision, gemma3, minicpm-v…: `vision` among their
`/api/show` capabilities) take images as base64 in a message's `images` (`/api/chat`) or
in the request's `images` (`/api/generate`), as Ollama does; an image that does not
decode is refused with 400. Every image is kept in `images` (format and size) for the
tests. Asked to transcribe, the stand-in "reads" the lines the prompt announces in old
French spelling (`fake_reading`); asked to correct OCR text from an image, it answers
`fake_correction` of it. Vision modes: `vision-english` answers in English until the
stricter retry (`vision-english-always`: always), `modernise` turns -oit into -ait and ſ
into s until told to keep the page's spelling; `think` and `chatter` wrap answers too.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from service.translation.checks import STOPWORDS

DIGEST = "sha256:" + "ab" * 32
STRICT_MARK = "previous answer for this passage was not usable"
ALIGNMENT_MODES = ("drop-one", "merge", "reorder", "invalid-json", "truncated")
_FUNCTION_WORDS = {
    word: "the" for lang, words in STOPWORDS.items() if lang != "en" for word in words
} | {"de": "of", "du": "of", "des": "of", "et": "and", "und": "and", "von": "of", "zu": "to"}
_TOKEN = re.compile(r"\w+|\W+")


def fake_translation(text: str, target: str = "en") -> str:
    """What the stand-in answers for one segment: its words, function words in English
    (capitalised where the word was, so sentences still start with a capital)."""
    words = (_english(t) for t in _TOKEN.findall(text))
    return f"{target.upper()}: {''.join(words)}"


def _english(token: str) -> str:
    word = _FUNCTION_WORDS.get(token.casefold())
    if word is None:
        return token
    return word.capitalize() if token[:1].isupper() else word


def fake_correction(text: str) -> str:
    """What the stand-in proposes as OCR correction: 0 and 1 inside words become o and l."""
    text = re.sub(r"(?<=[^\W\d])0|0(?=[^\W\d])", "o", text)
    return re.sub(r"(?<=[^\W\d])1|1(?=[^\W\d])", "l", text)


VISION_STRICT_MARK = "previous answer for this image was not usable"
VISION_NAMES = ("vl", "vision", "llava", "minicpm-v", "gemma3")


def fake_reading(line: int, width: int, height: int, english: bool = False) -> str:
    """What the stand-in reads in line `line` of an image of width × height pixels."""
    if english:
        return f"There was in Westphalia the line {line} of an image {width} pixels wide"
    return f"Il y avoit en Westphalie la ligne {line} d'une image de {width} pixels"


def modernised(text: str) -> str:
    """What a modernising model makes of old French: -oit → -ait, ſ → s."""
    return re.sub(r"oi(t|ent)\b", r"ai\1", text).replace("ſ", "s")


def _apply_glossary(system: str, text: str) -> str:
    """Use the glossary lines of the system prompt (`- term → rendering`), as a good model does."""
    for term, rendering in re.findall(r"^- (.+?) → (.+?)(?: \(.*\))?$", system, re.MULTILINE):
        text = re.sub(re.escape(term), rendering, text, flags=re.IGNORECASE)
    return text


def digest_of(model: str) -> str:
    """The digest /api/tags reports for a model."""
    return "sha256:" + hashlib.sha256(model.encode()).hexdigest()


@dataclass
class FakeOllama:
    """Server state: pulled models, behaviour mode, and a log of chat requests."""

    models: list[str] = field(default_factory=lambda: ["llama3.2:3b", "deepseek-r1:1.5b"])
    mode: str = "ok"
    answers: dict[str, str] = field(default_factory=dict)
    target: str = "en"
    chats: list[dict[str, Any]] = field(default_factory=list)
    fail_times: int = 0
    refuse_after: int | None = None
    digests: dict[str, str] = field(default_factory=dict)
    host: str = ""
    delay: float = 0.0
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    images: list[dict[str, Any]] = field(default_factory=list)

    def segments(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The segments a chat request asks for."""
        return list(json.loads(payload["messages"][-1]["content"])["segments"])

    def translate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The JSON answer for a batch, shaped by the mode."""
        segments = self.segments(payload)
        system = payload["messages"][0]["content"]
        strict = STRICT_MARK in system
        items = [{"id": s["id"], "text": self._text(s["text"], strict, system)} for s in segments]
        if system.startswith("You correct OCR errors"):
            items = [{"id": s["id"], "text": fake_correction(s["text"])} for s in segments]
        elif self.mode != "ignore-glossary":
            for item in items:
                item["text"] = _apply_glossary(system, item["text"])
        if len(items) > 1 and self.mode == "drop-one":
            items = items[:-1]
        if len(items) > 1 and self.mode == "merge":
            merged = {"id": items[0]["id"], "text": f"{items[0]['text']} {items[1]['text']}"}
            items = [merged, *items[2:]]
        if self.mode == "reorder":
            items = list(reversed(items))
        return {"translations": items}

    def _text(self, text: str, strict: bool, system: str = "") -> str:
        scripted = self.answers.get(" ".join(text.split()))
        if scripted is not None:
            return scripted
        mode = self.mode.removesuffix("-always")
        if self.mode.endswith("-always") or not strict:
            if mode == "copy-source":
                return text
            if mode == "wrong-language":
                return f"Voici le texte: {text}"
            if mode in UNFAITHFUL:
                return UNFAITHFUL[mode](text, self.target, system)
        return fake_translation(text, self.target)

    def plain_answer(self, payload: dict[str, Any]) -> str:
        """TranslateGemma's answer: the text after the model card's two blank lines."""
        text = payload["messages"][-1]["content"].split("\n\n\n", 1)[-1]
        return self._text(text, strict=False)

    def vision_text(self, system: str, prompt: str, image: dict[str, Any]) -> str:
        """What a vision model answers about one image."""
        strict = VISION_STRICT_MARK in system
        if system.startswith("You correct OCR"):
            found = re.search(r"<<<\n(.*)\n>>>", prompt, re.DOTALL)
            text = fake_correction(found.group(1) if found else "")
            keep = "keep the spelling of the page" in system
            return modernised(text) if self.mode == "modernise" and not keep else text
        count = re.search(r"the (\d+) lines", prompt)
        english = self.mode == "vision-english-always" or (
            self.mode == "vision-english" and not strict
        )
        lines = int(count.group(1)) if count else 1
        readings = [
            fake_reading(i + 1, image["width"], image["height"], english) for i in range(lines)
        ]
        return "\n".join(readings)

    def wrap(self, body: str, payload: dict[str, Any]) -> str:
        """Thinking and chatter around an answer, as the modes and capabilities say."""
        if self.mode == "think" or self._thinks(payload):
            body = f"<think>The user wants a translation. Let me think.</think>\n{body}"
        if self.mode == "chatter":
            body = f"Here is the transcription:\n```\n{body}\n```"
        return body

    def answer_text(self, payload: dict[str, Any]) -> tuple[str, str]:
        """The assistant's content for a chat request and why generation stopped."""
        images = [m for m in payload.get("messages", []) if m.get("images")]
        if images:
            system = payload["messages"][0].get("content", "")
            seen = _decoded(images[-1]["images"][0])
            with self.lock:
                self.images.append(seen)
            return self.wrap(self.vision_text(system, images[-1]["content"], seen), payload), "stop"
        if "translategemma" in payload.get("model", ""):
            return self.plain_answer(payload), "stop"
        batch = len(self.segments(payload)) > 1
        body = json.dumps(self.translate_payload(payload), ensure_ascii=False)
        if batch and self.mode == "invalid-json":
            return body.replace('"text"', "'text'", 1).rstrip("}"), "stop"
        if batch and self.mode == "truncated":
            return body[: len(body) // 2], "length"
        if self.mode == "think" or self._thinks(payload):
            body = f"<think>The user wants a translation. Let me think.</think>\n{body}"
        if self.mode == "lone-think":
            body = f"Okay, the user wants every segment in English.\n</think>\n\n{body}"
        if self.mode == "chatter":
            body = f"Here is the translation:\n```json\n{body}\n```"
        if self.mode == "garbage":
            body = "I cannot help with that."
        return body, "stop"

    def _thinks(self, payload: dict[str, Any]) -> bool:
        return (
            "thinking" in capabilities(payload.get("model", ""))
            and payload.get("think") is not False
        )

    def digest(self, model: str) -> str:
        """The digest of a pulled model."""
        return self.digests.get(model) or digest_of(model)


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]


def _instruction(system: str) -> str:
    return next((line for line in system.splitlines() if len(line) > 40), system)


# The unfaithful answers a content mode gives: text, target language, system prompt → answer.
UNFAITHFUL: dict[str, Callable[[str, str, str], str]] = {
    "refuse": lambda text, target, system: "I'm sorry, but I cannot translate this text.",
    "comment": lambda text, target, system: (
        f"Here is the translation: {fake_translation(text, target)} "
        "Note: this passage describes the customs of the time."
    ),
    "echo": lambda text, target, system: _instruction(system),
    "loop": lambda text, target, system: (
        fake_translation(_first_sentence(text), target) + " and so it went on," * 5
    ),
    "omit": lambda text, target, system: fake_translation(_first_sentence(text), target),
    "invent": lambda text, target, system: (
        f"{fake_translation(text, target)} It was in the year 1783."
    ),
}


# What Ollama's library reports for these models (their tags round the size).
SIZES = {"llama3.2:3b": 3.2, "llama3.2:1b": 1.2, "deepseek-r1:1.5b": 1.8, "translategemma:4b": 4.3}


def parameters(model: str) -> float:
    """Billions of parameters, as Ollama reports them: from its library's figure for the
    usual models, else from the size in the name (`qwen2.5:7b`), 3.2 when it has none."""
    if model in SIZES:
        return SIZES[model]
    found = re.search(r"(\d+(?:\.\d+)?)([bm])\b", model.split(":")[-1], re.IGNORECASE)
    if found is None:
        return 3.2
    number = float(found.group(1))
    return number / 1000 if found.group(2).lower() == "m" else number


def capabilities(model: str) -> list[str]:
    """What /api/show lists for a model."""
    if "deepseek-r1" in model:
        return ["completion", "thinking"]
    if any(name in model for name in VISION_NAMES):
        return ["completion", "vision"]
    return ["completion", "tools"]


def _decoded(data: str) -> dict[str, Any]:
    """An image sent as base64, opened as Ollama does (ValueError when it is none)."""
    import base64
    import io

    from PIL import Image

    raw = base64.b64decode(data, validate=True)
    with Image.open(io.BytesIO(raw)) as image:
        return {"format": image.format, "width": image.width, "height": image.height}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr logging."""

    def do_GET(self) -> None:
        state = self.server.state
        if self.path == "/api/version":
            self._json(200, {"version": "0.12.6"})
        elif self.path == "/api/tags":
            models = [_model_entry(m) | {"digest": state.digest(m)} for m in state.models]
            self._json(200, {"models": models})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/api/show":
            self._show(payload)
        elif self.path == "/api/chat":
            self._chat(payload)
        elif self.path == "/api/generate":
            self._generate(payload)
        else:
            self._json(404, {"error": "not found"})

    def _show(self, payload: dict[str, Any]) -> None:
        name = payload.get("model") or payload.get("name")
        if name not in self.server.state.models:
            self._json(404, {"error": f"model '{name}' not found"})
            return
        self._json(
            200,
            {
                "modelfile": "",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": _model_entry(name)["details"],
                "model_info": {"general.parameter_count": int(parameters(name) * 1e9)},
                "capabilities": capabilities(name),
                "modified_at": _now(),
            },
        )

    def _chat(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        with state.lock:
            state.in_flight += 1
        try:
            if state.delay:
                time.sleep(state.delay)
            self._answer_chat(payload)
        finally:
            with state.lock:
                state.in_flight -= 1

    def _generate(self, payload: dict[str, Any]) -> None:
        """`/api/generate`: a prompt (and images) in, `response` out, streamed or not."""
        state = self.server.state
        model = payload.get("model", "")
        if model not in state.models:
            self._json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        images = payload.get("images") or []
        try:
            seen = [_decoded(image) for image in images]
        except (ValueError, OSError):
            self._json(400, {"error": "illegal base64 data at input byte 0"})
            return
        with state.lock:
            state.images.extend(seen)
        prompt = str(payload.get("prompt", ""))
        system = str(payload.get("system", ""))
        text = state.vision_text(system, prompt, seen[0]) if seen else prompt[:40]
        final = _final(model, text, {"messages": [{"content": prompt}]})
        if payload.get("stream", True):
            self._stream_generate(model, state.wrap(text, payload), final)
        else:
            self._json(200, final | {"response": state.wrap(text, payload)})

    def _stream_generate(self, model: str, text: str, final: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in _pieces(text, 16):
            self._chunk({"model": model, "created_at": _now(), "response": piece, "done": False})
        self._chunk(final | {"response": ""})
        self.wfile.write(b"0\r\n\r\n")

    def _answer_chat(self, payload: dict[str, Any]) -> None:
        state = self.server.state
        with state.lock:
            state.chats.append(payload)
            failing = state.fail_times > 0
            if failing:
                state.fail_times -= 1
            refusing = state.refuse_after is not None and len(state.chats) > state.refuse_after
        if refusing:
            self._go_away()
            return
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
        try:
            text, reason = state.answer_text(payload)
        except (ValueError, OSError):
            self._json(400, {"error": "illegal base64 data at input byte 0"})
            return
        final = _final(model, text, payload) | {"done_reason": reason}
        if reason == "length":
            final["eval_count"] = payload.get("options", {}).get("num_predict", 1)
        if payload.get("stream", True):
            self._stream(model, text, final)
        else:
            self._json(200, final | {"message": {"role": "assistant", "content": text}})

    def _go_away(self) -> None:
        """Stop listening (later connections are refused) and drop this request unanswered."""
        threading.Thread(target=self.server.shutdown, daemon=True).start()
        self.server.socket.close()
        self.close_connection = True

    def _stream(self, model: str, text: str, final: dict[str, Any]) -> None:
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
        self._chunk(final | {"message": {"role": "assistant", "content": ""}})
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

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed worker) is no error of the stand-in's."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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
            "parameter_size": f"{parameters(name):g}B",
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
