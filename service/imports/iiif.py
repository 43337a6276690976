"""IIIF Presentation manifests (v2 and v3): reading them, and fetching from allowed hosts.

For privacy nothing is fetched from a host the user did not configure
(`PALIMPSEST_IIIF_ALLOWED_HOSTS`): the host of every URL — the manifest's, each image's,
each redirect's — is checked before a connection is opened. Manifests are untrusted
input: whatever their shape (not JSON, not an object, a number where a list belongs,
100,000 nested brackets), reading one either succeeds or raises UnreadableFile with the
reason; so does every fetch (HTTP errors, redirect loops, timeouts). `imports.fetching`
makes documents of them, a worker step at a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from service.config import Settings
from service.errors import InvalidInput, UnreadableFile

MAX_REDIRECTS = 3
MAX_MANIFEST_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64  # real manifests nest about 10 levels


class HostNotAllowed(InvalidInput):
    """A IIIF URL points at a host the user has not configured."""


@dataclass(frozen=True)
class Canvas:
    """One page of a manifest: its label and the URL of its full image."""

    label: str
    image_url: str


@dataclass(frozen=True)
class Manifest:
    """What a document needs from a manifest."""

    version: int
    title: str
    canvases: list[Canvas]


def parse_manifest(data: Any, base_url: str = "") -> Manifest:
    """Read a v2 or v3 Presentation manifest; raise UnreadableFile saying what is wrong."""
    if not isinstance(data, dict):
        raise UnreadableFile("The manifest is not a JSON object.")
    context = data.get("@context", "")
    context_text = context if isinstance(context, str) else json.dumps(context)[:10_000]
    if "presentation/3" in context_text or data.get("type") == "Manifest":
        items = _list(data.get("items"), "items")
        canvases = [_canvas_v3(c, base_url) for c in items if isinstance(c, dict)]
        version = 3
    elif "presentation/2" in context_text or data.get("@type") == "sc:Manifest":
        sequences = _list(data.get("sequences"), "sequences") or [{}]
        first = sequences[0] if isinstance(sequences[0], dict) else {}
        canvases = [_canvas_v2(c, base_url) for c in _list(first.get("canvases"), "canvases")]
        version = 2
    else:
        raise UnreadableFile("Not a IIIF Presentation manifest (no v2 or v3 @context).")
    found = [c for c in canvases if c is not None]
    if not found:
        raise UnreadableFile("The manifest has no canvas with an image.")
    return Manifest(version, _label(data.get("label")) or "IIIF manifest", found)


def _list(value: Any, what: str) -> list[Any]:
    """A list the manifest must have there (missing: empty), or UnreadableFile."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnreadableFile(f"The manifest's {what!r} is not a list.")
    return value


def _label(value: Any, depth: int = 0) -> str:
    """A v2 string/list/@value label or a v3 language map, as one string."""
    if isinstance(value, str):
        return value[:500]
    if depth > 3:
        return ""
    if isinstance(value, list):
        return "; ".join(filter(None, (_label(v, depth + 1) for v in value[:20])))
    if isinstance(value, dict):
        if "@value" in value:
            return str(value["@value"])[:500]
        for texts in value.values():
            return _label(texts, depth + 1)
    return ""


def _canvas_v2(canvas: Any, base_url: str) -> Canvas | None:
    if not isinstance(canvas, dict):
        return None
    for image in _items(canvas.get("images")):
        resource = image.get("resource")
        if not isinstance(resource, dict):
            continue
        url = _url(resource.get("@id")) or _service_url(resource.get("service"), "full")
        if url:
            return _canvas(canvas, base_url, url)
    return None


def _canvas_v3(canvas: dict[str, Any], base_url: str) -> Canvas | None:
    for page in _items(canvas.get("items")):
        for annotation in _items(page.get("items")):
            body = annotation.get("body")
            body = body[0] if isinstance(body, list) and body else body
            if not isinstance(body, dict):
                continue
            url = _url(body.get("id")) or _service_url(body.get("service"), "max")
            if url:
                return _canvas(canvas, base_url, url)
    return None


def _items(value: Any) -> list[dict[str, Any]]:
    """The objects of a list in the manifest; anything else there is ignored."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _canvas(canvas: dict[str, Any], base_url: str, url: str) -> Canvas | None:
    try:
        return Canvas(_label(canvas.get("label")), urljoin(base_url, url))
    except ValueError:  # "http://[::1" and the like
        return None


def _service_url(service: Any, size: str) -> str | None:
    service = service[0] if isinstance(service, list) and service else service
    if not isinstance(service, dict):
        return None
    base = _url(service.get("@id")) or _url(service.get("id"))
    return f"{base.rstrip('/')}/full/{size}/0/default.jpg" if base else None


def check_host(url: str, settings: Settings) -> None:
    """Raise HostNotAllowed unless the URL is http(s) on a configured host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port of 99999 or "abc", an unclosed "[::1"
        raise HostNotAllowed(f"{_shown(url)} is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HostNotAllowed(f"Only http(s) URLs can be fetched, not {_shown(url)}.")
    host = parts.hostname.lower()
    with_port = f"{host}:{port}" if port else host
    if host not in settings.iiif_hosts and with_port not in settings.iiif_hosts:
        configured = ", ".join(sorted(settings.iiif_hosts)) or "none"
        raise HostNotAllowed(
            f"{with_port} is not an allowed IIIF host (configured: {configured}); "
            "add it to PALIMPSEST_IIIF_ALLOWED_HOSTS to fetch from it."
        )


def _shown(url: str) -> str:
    return repr(url if len(url) <= 200 else url[:200] + "…")


def fetch(url: str, settings: Settings, max_bytes: int) -> bytes:
    """GET a URL from an allowed host, following redirects only to allowed hosts; every
    failure is UnreadableFile (or HostNotAllowed) with a readable reason."""
    try:
        return _fetch(url, settings, max_bytes)
    except httpx.TimeoutException:
        raise UnreadableFile(
            f"{_shown(url)} did not answer within {settings.iiif_timeout_s:g} s."
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise UnreadableFile(f"{_shown(url)} could not be fetched: {exc}") from None


def _fetch(url: str, settings: Settings, max_bytes: int) -> bytes:
    with httpx.Client(timeout=settings.iiif_timeout_s, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_host(url, settings)
            with client.stream("GET", url) as response:
                if response.is_redirect:
                    url = _redirect(url, response.headers.get("location", ""))
                    continue
                if response.status_code != 200:
                    raise UnreadableFile(f"{_shown(url)} answered HTTP {response.status_code}.")
                return _read_limited(response, url, max_bytes)
    raise UnreadableFile(f"{_shown(url)} redirected more than {MAX_REDIRECTS} times.")


def _redirect(url: str, location: str) -> str:
    try:
        return urljoin(url, location)
    except ValueError:
        raise UnreadableFile(f"{_shown(url)} redirected to an invalid URL.") from None


def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise UnreadableFile(f"{_shown(url)} is larger than {max_bytes // (1024 * 1024)} MB.")
    return bytes(body)


def read_manifest(raw: bytes, base_url: str = "") -> Manifest:
    """Parse a manifest's bytes (fetched or uploaded); UnreadableFile says what is wrong."""
    if not raw.strip():
        raise UnreadableFile("The manifest is empty.")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise UnreadableFile("The manifest is nested too deeply to be a IIIF manifest.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"The manifest is not valid JSON: {exc}") from None
    if _depth(data) > MAX_DEPTH:
        raise UnreadableFile(
            f"The manifest is nested more than {MAX_DEPTH} levels deep; IIIF manifests are not."
        )
    return parse_manifest(data, base_url)


def _depth(data: Any) -> int:
    """How deeply lists and objects nest (counted without recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in children)
    return deepest


def load_manifest(source: str, settings: Settings) -> tuple[Manifest, str]:
    """Read a manifest from an allowed URL; return it and its URL (the base of relative ids)."""
    return read_manifest(fetch(source, settings, MAX_MANIFEST_BYTES), source), source


def manifest_from_bytes(raw: bytes) -> Manifest:
    """Read a manifest file the user gave."""
    return read_manifest(raw)
