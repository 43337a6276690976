"""IIIF Presentation manifests (v2 and v3): a document from the page images of a manifest.

For privacy nothing is fetched from a host the user did not configure
(`PALIMPSEST_IIIF_ALLOWED_HOSTS`): the host of every URL — the manifest's, each image's,
each redirect's — is checked before a connection is opened. The images then go through
the ordinary pipeline (OCR, translation) like uploaded scans.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy.orm import Session

from service.config import Settings
from service.documents import service as documents
from service.documents.models import Document, FileStatus, SourceFile
from service.errors import InvalidInput, UnreadableFile
from service.storage import Storage

MAX_REDIRECTS = 3
MAX_MANIFEST_BYTES = 20 * 1024 * 1024


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
    context = json.dumps(data.get("@context", ""))
    if "presentation/3" in context or data.get("type") == "Manifest":
        canvases = [_canvas_v3(c, base_url) for c in data.get("items", []) if isinstance(c, dict)]
        version = 3
    elif "presentation/2" in context or data.get("@type") == "sc:Manifest":
        sequences = data.get("sequences") or [{}]
        canvases = [_canvas_v2(c, base_url) for c in sequences[0].get("canvases", [])]
        version = 2
    else:
        raise UnreadableFile("Not a IIIF Presentation manifest (no v2 or v3 @context).")
    found = [c for c in canvases if c is not None]
    if not found:
        raise UnreadableFile("The manifest has no canvas with an image.")
    return Manifest(version, _label(data.get("label")) or "IIIF manifest", found)


def _label(value: Any) -> str:
    """A v2 string/list/@value label or a v3 language map, as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(filter(None, (_label(v) for v in value)))
    if isinstance(value, dict):
        if "@value" in value:
            return str(value["@value"])
        for texts in value.values():
            return _label(texts)
    return ""


def _canvas_v2(canvas: Any, base_url: str) -> Canvas | None:
    if not isinstance(canvas, dict):
        return None
    for image in canvas.get("images", []):
        resource = image.get("resource", {}) if isinstance(image, dict) else {}
        url = resource.get("@id") or _service_url(resource.get("service"), "full")
        if url:
            return Canvas(_label(canvas.get("label")), urljoin(base_url, url))
    return None


def _canvas_v3(canvas: dict[str, Any], base_url: str) -> Canvas | None:
    for page in canvas.get("items", []):
        for annotation in page.get("items", []) if isinstance(page, dict) else []:
            body = annotation.get("body", {}) if isinstance(annotation, dict) else {}
            body = body[0] if isinstance(body, list) and body else body
            if not isinstance(body, dict):
                continue
            url = body.get("id") or _service_url(body.get("service"), "max")
            if url:
                return Canvas(_label(canvas.get("label")), urljoin(base_url, url))
    return None


def _service_url(service: Any, size: str) -> str | None:
    service = service[0] if isinstance(service, list) and service else service
    if not isinstance(service, dict):
        return None
    base = service.get("@id") or service.get("id")
    return f"{str(base).rstrip('/')}/full/{size}/0/default.jpg" if base else None


def check_host(url: str, settings: Settings) -> None:
    """Raise HostNotAllowed unless the URL is http(s) on a configured host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HostNotAllowed(f"Only http(s) URLs can be fetched, not {url!r}.")
    host = parts.hostname.lower()
    with_port = f"{host}:{parts.port}" if parts.port else host
    if host not in settings.iiif_hosts and with_port not in settings.iiif_hosts:
        configured = ", ".join(sorted(settings.iiif_hosts)) or "none"
        raise HostNotAllowed(
            f"{with_port} is not an allowed IIIF host (configured: {configured}); "
            "add it to PALIMPSEST_IIIF_ALLOWED_HOSTS to fetch from it."
        )


def fetch(url: str, settings: Settings, max_bytes: int) -> bytes:
    """GET a URL from an allowed host, following redirects only to allowed hosts."""
    with httpx.Client(timeout=settings.iiif_timeout_s, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_host(url, settings)
            with client.stream("GET", url) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                if response.status_code != 200:
                    raise UnreadableFile(f"{url} answered HTTP {response.status_code}.")
                return _read_limited(response, url, max_bytes)
    raise UnreadableFile(f"{url} redirected more than {MAX_REDIRECTS} times.")


def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise UnreadableFile(f"{url} is larger than {max_bytes // (1024 * 1024)} MB.")
    return bytes(body)


def load_manifest(source: str, settings: Settings) -> tuple[Manifest, str]:
    """Read a manifest from an allowed URL; return it and its URL (the base of relative ids)."""
    try:
        raw = fetch(source, settings, MAX_MANIFEST_BYTES)
    except httpx.HTTPError as exc:
        raise UnreadableFile(f"The manifest could not be fetched from {source}: {exc}") from exc
    return parse_manifest(_json(raw)), source


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"The manifest is not valid JSON: {exc}") from exc


def manifest_from_bytes(raw: bytes) -> Manifest:
    """Read a manifest file the user gave."""
    return parse_manifest(_json(raw))


def create(
    session: Session,
    storage: Storage,
    settings: Settings,
    spec: documents.NewDocument,
    manifest: Manifest,
) -> Document:
    """Fetch each canvas image (allowed hosts only) and create a document from them; an image
    that cannot be fetched is recorded as a failed file with its reason."""
    canvases = manifest.canvases[: settings.iiif_max_canvases]
    for canvas in canvases:  # refuse before any connection if one host is not allowed
        check_host(canvas.image_url, settings)
    uploads, failures = [], []
    for i, canvas in enumerate(canvases, start=1):
        name = f"{i:04d}-{(canvas.label or 'canvas')[:80]}.img"
        try:
            data = fetch(canvas.image_url, settings, settings.max_upload_bytes)
        except (UnreadableFile, httpx.HTTPError) as exc:
            failures.append((name, getattr(exc, "message", None) or f"{canvas.image_url}: {exc}"))
            continue
        uploads.append(documents.Upload(name, io.BytesIO(data)))
    if not uploads:
        raise UnreadableFile(
            "No image of the manifest could be fetched: " + "; ".join(f[1] for f in failures)
        )
    titled = spec if spec.title else _with_title(spec, manifest.title)
    document = documents.create(session, storage, titled, uploads, settings.max_upload_bytes)
    for offset, (name, reason) in enumerate(failures, start=len(document.files)):
        session.add(
            SourceFile(
                document_id=document.id,
                position=offset,
                filename=name,
                size=0,
                status=FileStatus.FAILED,
                error=reason,
            )
        )
    session.flush()
    return document


def _with_title(spec: documents.NewDocument, title: str) -> documents.NewDocument:
    return documents.NewDocument(
        title, spec.source_lang, spec.target_lang, spec.backend, spec.model, spec.translate
    )
