"""IIIF manifests (v2, v3) from a IIIF server on this machine; other hosts are never contacted."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, Segment
from service.documents.service import NewDocument
from service.imports import iiif
from service.jobs import pipeline
from service.jobs.runner import run_inline
from tests.helpers import authed_client, encode, text_image


class IiifServer:
    """Serves manifests and images from memory and records every request's Host and path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.redirects: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.headers.get("Host", ""), self.path))
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.end_headers()
                    return
                if self.path not in server.files:
                    self.send_error(404)
                    return
                kind, body = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def image(self, path: str, lines: list[str]) -> str:
        self.files[path] = ("image/png", encode(text_image([lines], width=1400), "PNG"))
        return self.base + path

    def manifest(self, path: str, data: dict[str, Any]) -> str:
        self.files[path] = ("application/json", json.dumps(data).encode())
        return self.base + path


@pytest.fixture
def server(configure: Callable[..., None]) -> Iterator[IiifServer]:
    state = IiifServer()
    thread = threading.Thread(target=state.httpd.serve_forever, daemon=True)
    thread.start()
    configure(PALIMPSEST_IIIF_ALLOWED_HOSTS=f"iiif.example.org, 127.0.0.1:{state.port}")
    try:
        yield state
    finally:
        state.httpd.shutdown()
        state.httpd.server_close()


def manifest_v2(images: list[str]) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/presentation/2/context.json",
        "@type": "sc:Manifest",
        "label": "Registre des délibérations",
        "sequences": [
            {
                "canvases": [
                    {
                        "@type": "sc:Canvas",
                        "label": f"f. {i + 1}",
                        "images": [{"resource": {"@id": url, "@type": "dctypes:Image"}}],
                    }
                    for i, url in enumerate(images)
                ]
            }
        ],
    }


def manifest_v3(image_services: list[str]) -> dict[str, Any]:
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "type": "Manifest",
        "label": {"fr": ["Lettres"]},
        "items": [
            {
                "type": "Canvas",
                "label": {"none": [f"p. {i + 1}"]},
                "items": [
                    {
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "type": "Annotation",
                                "motivation": "painting",
                                "body": {
                                    "type": "Image",
                                    "service": [{"id": service, "type": "ImageService3"}],
                                },
                            }
                        ],
                    }
                ],
            }
            for i, service in enumerate(image_services)
        ],
    }


def create(manifest: iiif.Manifest) -> int:
    ctx = pipeline.default_context()
    spec = NewDocument(None, "fr", "en", translate=False)
    with unit_of_work() as session:
        return iiif.create(session, ctx.storage, ctx.settings, spec, manifest).id


def test_v2_manifest_by_url_becomes_a_document_read_by_ocr(
    server: IiifServer, session: Session
) -> None:
    urls = [
        server.image("/img/1.png", ["Le conseil de la ville", "s'est assemblé ce jour."]),
        server.image("/img/2.png", ["On a résolu de réparer", "le pont avant l'hiver."]),
    ]
    url = server.manifest("/manifest.json", manifest_v2(urls))
    manifest, _ = iiif.load_manifest(url, pipeline.default_context().settings)
    assert (manifest.version, manifest.title) == (2, "Registre des délibérations")
    document_id = create(manifest)
    run_inline(pipeline.default_context(), pipeline.start(document_id))

    document = session.get(Document, document_id)
    assert document is not None and document.title == "Registre des délibérations"
    assert [f.filename for f in document.files] == ["0001-f. 1.img", "0002-f. 2.img"]
    text = " ".join(
        s.normalized
        for s in session.scalars(select(Segment).where(Segment.document_id == document_id))
    )
    assert "conseil" in text and "pont" in text
    assert [p for _, p in server.requests] == ["/manifest.json", "/img/1.png", "/img/2.png"]


def test_v3_manifest_file_with_image_services(server: IiifServer, session: Session) -> None:
    server.image("/iiif/p1/full/max/0/default.jpg", ["Première lettre"])
    data = manifest_v3([f"{server.base}/iiif/p1"])
    manifest = iiif.manifest_from_bytes(json.dumps(data).encode())
    assert (manifest.version, manifest.title) == (3, "Lettres")
    assert manifest.canvases == [
        iiif.Canvas("p. 1", f"{server.base}/iiif/p1/full/max/0/default.jpg")
    ]
    document = session.get(Document, create(manifest))
    assert document is not None and len(document.files) == 1 and document.files[0].error is None


def test_hosts_not_configured_are_refused_without_any_connection(server: IiifServer) -> None:
    settings = pipeline.default_context().settings
    elsewhere = f"http://localhost:{server.port}/manifest.json"  # same server, other name
    server.manifest("/manifest.json", manifest_v2([server.image("/img/1.png", ["x"])]))
    with pytest.raises(iiif.HostNotAllowed) as refused:
        iiif.load_manifest(elsewhere, settings)
    assert f"localhost:{server.port} is not an allowed IIIF host" in refused.value.message
    mixed = iiif.parse_manifest(
        manifest_v2([f"{server.base}/img/1.png", f"http://localhost:{server.port}/img/1.png"])
    )
    with pytest.raises(iiif.HostNotAllowed):
        create(mixed)
    assert server.requests == []  # nothing was fetched, not even from the allowed host


def test_a_redirect_to_another_host_is_not_followed(server: IiifServer) -> None:
    server.redirects["/moved.json"] = f"http://localhost:{server.port}/manifest.json"
    with pytest.raises(iiif.HostNotAllowed):
        iiif.load_manifest(f"{server.base}/moved.json", pipeline.default_context().settings)
    assert [p for _, p in server.requests] == ["/moved.json"]


def test_api_imports_a_manifest_and_refuses_other_hosts(server: IiifServer) -> None:
    url = server.manifest("/m.json", manifest_v2([server.image("/img/1.png", ["Un mot"])]))
    client = authed_client()
    accepted = client.post("/api/imports/iiif", data={"manifest_url": url, "source_lang": "fr"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["files"][0]["filename"] == "0001-f. 1.img"
    refused = client.post(
        "/api/imports/iiif",
        data={"manifest_url": "https://iiif.elsewhere.net/m.json", "source_lang": "fr"},
    )
    assert refused.status_code == 422
    assert "iiif.elsewhere.net is not an allowed IIIF host" in refused.json()["message"]
    missing = client.post("/api/imports/iiif", data={"source_lang": "fr"})
    assert missing.status_code == 422
