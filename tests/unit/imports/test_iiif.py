"""IIIF manifests (v2, v3) from a IIIF server on this machine; other hosts are never contacted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.documents.models import Document, Segment
from service.documents.service import NewDocument
from service.imports import fetching, iiif
from service.jobs import pipeline
from service.jobs.runner import run_inline
from tests.support.helpers import authed_client
from tests.support.servers import IiifServer


@pytest.fixture
def server(iiif_server: IiifServer) -> IiifServer:
    """The IIIF server of tests/support/servers.py, its host allowed."""
    return iiif_server


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


def create(url: str | None = None, manifest: bytes | None = None, fetch: bool = True) -> int:
    """A IIIF import as the web request makes it; then its fetch steps and what follows."""
    ctx = pipeline.default_context()
    spec = NewDocument(source_lang="fr", translate=False)
    with unit_of_work() as session:
        document_id = fetching.create(
            session, ctx.storage, ctx.settings, spec, url=url, manifest=manifest
        ).id
    if fetch:
        run_inline(ctx, pipeline.start_iiif(document_id))
    return document_id


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
    server.requests.clear()
    document_id = create(url)

    document = session.get(Document, document_id)
    assert document is not None and document.title == "Registre des délibérations"
    assert [f.filename for f in document.files] == ["0001-f. 1.img", "0002-f. 2.img"]
    assert [f.source_url for f in document.files] == urls
    text = " ".join(
        s.normalized
        for s in session.scalars(select(Segment).where(Segment.document_id == document_id))
    )
    assert "conseil" in text and "pont" in text
    assert [p for _, p in server.requests] == ["/manifest.json", "/img/1.png", "/img/2.png"]


def test_v3_manifest_file_with_image_services(server: IiifServer, session: Session) -> None:
    server.image("/iiif/p1/full/max/0/default.jpg", ["Première lettre"])
    data = json.dumps(manifest_v3([f"{server.base}/iiif/p1"])).encode()
    manifest = iiif.manifest_from_bytes(data)
    assert (manifest.version, manifest.title) == (3, "Lettres")
    assert manifest.canvases == [
        iiif.Canvas("p. 1", f"{server.base}/iiif/p1/full/max/0/default.jpg")
    ]
    document = session.get(Document, create(manifest=data))
    assert document is not None and len(document.files) == 1 and document.files[0].error is None
    assert document.title == "Lettres"


def test_hosts_not_configured_are_refused_without_any_connection(server: IiifServer) -> None:
    settings = pipeline.default_context().settings
    elsewhere = f"http://localhost:{server.port}/manifest.json"  # same server, other name
    server.manifest("/manifest.json", manifest_v2([server.image("/img/1.png", ["x"])]))
    with pytest.raises(iiif.HostNotAllowed) as refused:
        iiif.load_manifest(elsewhere, settings)
    assert f"localhost:{server.port} is not an allowed IIIF host" in refused.value.message
    with pytest.raises(iiif.HostNotAllowed):
        create(elsewhere)
    mixed = manifest_v2([f"{server.base}/img/1.png", f"http://localhost:{server.port}/img/1.png"])
    with pytest.raises(iiif.HostNotAllowed):
        create(manifest=json.dumps(mixed).encode())
    assert server.requests == []  # nothing was fetched, not even from the allowed host


def test_a_redirect_to_another_host_is_not_followed(server: IiifServer) -> None:
    server.redirects["/moved.json"] = f"http://localhost:{server.port}/manifest.json"
    with pytest.raises(iiif.HostNotAllowed):
        iiif.load_manifest(f"{server.base}/moved.json", pipeline.default_context().settings)
    assert [p for _, p in server.requests] == ["/moved.json"]


def test_api_imports_a_manifest_and_refuses_other_hosts(
    server: IiifServer, session: Session, redis_client: Any
) -> None:
    url = server.manifest("/m.json", manifest_v2([server.image("/img/1.png", ["Un mot"])]))
    client = authed_client()
    accepted = client.post("/api/imports/iiif", data={"manifest_url": url, "source_lang": "fr"})
    assert accepted.status_code == 202, accepted.text
    assert server.requests == []  # the web request fetched nothing: a worker will
    messages = [json.loads(m) for m in redis_client.lrange("default", 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["palimpsest.fetch_iiif"]
    document_id = accepted.json()["id"]
    with unit_of_work() as s:  # the worker's first step: the manifest
        assert pipeline.fetch_iiif(s, pipeline.default_context(), document_id)
    ingest = client.get(f"/api/documents/{document_id}").json()["jobs"][0]
    assert ingest["detail"] == "fetched 0 of 1 page images from 127.0.0.1"
    assert client.get(f"/api/documents/{document_id}").json()["files"][0]["filename"] == (
        "0001-f. 1.img"
    )
    refused = client.post(
        "/api/imports/iiif",
        data={"manifest_url": "https://iiif.elsewhere.net/m.json", "source_lang": "fr"},
    )
    assert refused.status_code == 422
    assert "iiif.elsewhere.net is not an allowed IIIF host" in refused.json()["message"]
    missing = client.post("/api/imports/iiif", data={"source_lang": "fr"})
    assert missing.status_code == 422
