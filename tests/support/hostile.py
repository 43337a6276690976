"""Hostile input, kept here so that the next regression fails CI.

- Hostile text: an XSS corpus, and a document that carries it everywhere a user's or a
  model's words are shown (title, file names, segment text, translations, annotation
  bodies, errors, comparison runs). Every payload that would run calls `xss(n)`; a page
  under test defines `xss` to record the call, so "nothing ran" is an observation, not an
  absence of evidence.
- The probes of the second hostile pass (issue 21): page numbers, lone surrogates, IIIF
  manifest URLs and files of every wrong shape, and builders of hostile files (a
  truncated multi-page TIFF, zip entries of zeros, a damaged entry, a 13000 x 13000 PNG
  cut short). Sent by tests/web/test_hostile_probes.py, test_hostile_imports.py,
  test_served.py and tests/workers/test_bad_uploads.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.documents.models import FileStatus, SourceFile
from service.jobs.models import Job, JobStage
from service.review.models import AnnotationType
from service.translation.models import (
    ItemStatus,
    RunItem,
    RunKind,
    RunPurpose,
    RunStatus,
    Translation,
    TranslationRun,
    TranslationStatus,
)
from tests.support.helpers import annotate, make_document, segment_ids

PAYLOADS = [
    "<script>xss(1)</script>",
    '<img src=x onerror="xss(2)">',
    "<svg onload=xss(3)>",
    "<svg><script>xss(4)</script></svg>",
    '"><script>xss(5)</script>',
    "'><img src=x onerror=xss(6)>",
    '" autofocus onfocus="xss(7)" x="',
    "' onmouseover='xss(8)' '",
    '<a href="javascript:xss(9)">open</a>',
    "javascript:xss(10)",
    '<iframe srcdoc="<script>parent.xss(11)</script>"></iframe>',
    "<details open ontoggle=xss(12)>",
    "</textarea><script>xss(13)</script>",
    "</title><script>xss(14)</script>",
    "<style>*{background:url(javascript:xss(15))}</style>",
    "{{ 7*7 }}{% if 1 %}<script>xss(16)</script>{% endif %}",
    "\u202e<script>xss(17)</script>\u202c",  # right-to-left override
    "\uff1cscript\uff1exss(18)\uff1c/script\uff1e",  # full-width brackets
    "<scr\u200bipt>xss(19)</scr\u200bipt>",  # a zero-width space inside the tag
    '<math><mtext><img src=x onerror="xss(20)"></mtext></math>',
    '<object data="javascript:xss(21)"></object>',
    "<input autofocus onfocus=xss(22)>",
    '<meta http-equiv="refresh" content="0;url=javascript:xss(23)">',
    '<img src="x" onerror="&#120;ss(24)">',
    "<body onload=xss(25)>",
    "<svg><animate onbegin=xss(26) attributeName=x dur=1s>",
    '<a href="&#106;avascript:xss(27)">open</a>',
    '<noscript><p title="</noscript><img src=x onerror=xss(28)>">',
    "`${xss(29)}`",
    "<template><script>xss(30)</script></template><img src=x onerror=xss(30)>",
]
WORD = "Hexenprozess"  # every hostile segment has it, so one search finds them all


@dataclass(frozen=True)
class HostileDocument:
    """Ids of what was made, to visit."""

    document_id: int
    segment_ids: list[int]
    run_ids: tuple[int, int]


def make_hostile_document(session: Session) -> HostileDocument:
    """A processed document whose every shown text is an XSS payload."""
    texts = [f"{WORD} {p} Ende" for p in PAYLOADS]
    document = make_document(
        session,
        texts,
        [f"Witch trial {p} end" for p in PAYLOADS],
        source_lang="de",
        title=f"{PAYLOADS[0]} {PAYLOADS[6]} Protokoll",
        pages=2,
    )
    document.error = PAYLOADS[1]
    session.add(
        SourceFile(
            document_id=document.id,
            position=1,
            filename=f"{PAYLOADS[5]}.png",
            size=1,
            sha256="1" * 64,
            media_type="image/png",
            status=FileStatus.FAILED,
            error=f"Not an image: {PAYLOADS[2]}",
        )
    )
    job = session.scalars(
        select(Job).where(Job.document_id == document.id, Job.stage == JobStage.TRANSLATE)
    ).one()
    job.detail, job.error, job.waiting = PAYLOADS[3], PAYLOADS[4], PAYLOADS[11]
    session.commit()
    ids = segment_ids(session, document.id)
    for n, seg_id in enumerate(ids):
        annotate(session, seg_id, 0, len(WORD), AnnotationType.NOTE, PAYLOADS[-1 - n])
    runs = (_run(session, document.id, ids, "model-a"), _run(session, document.id, ids, "model-b"))
    return HostileDocument(document.id, ids, runs)


def _run(session: Session, document_id: int, ids: list[int], model: str) -> int:
    """A finished comparison run whose translations and details are payloads too."""
    run = TranslationRun(
        document_id=document_id,
        kind=RunKind.TRANSLATE,
        purpose=RunPurpose.COMPARE,
        status=RunStatus.DONE,
        backend="ollama",
        model=f"{model}{PAYLOADS[7]}",
        requested_backend="ollama",
        requested_model=model,
        detail=PAYLOADS[8],
        waiting=PAYLOADS[11],  # shown beside the run in the progress panel
        total=len(ids),
        done=len(ids),
    )
    session.add(run)
    session.flush()
    for n, seg_id in enumerate(ids):
        session.add(
            RunItem(run_id=run.id, segment_id=seg_id, ordinal=n, batch=n, status=ItemStatus.DONE)
        )
        session.add(
            Translation(
                segment_id=seg_id,
                document_id=document_id,
                backend="ollama",
                model=run.model or model,
                text=f"{model} {PAYLOADS[(n + 9) % len(PAYLOADS)]}",
                status=TranslationStatus.MACHINE,
                source_hash="0" * 64,
                run_id=run.id,
            )
        )
    session.commit()
    return run.id


# Probes of the second hostile pass (issue 21): inputs that once gave a 500 or leaked. Each
# must now get a 4xx with a reason (tests/web/test_hostile_probes.py sends them all).

# Page numbers: only ASCII digits make a page number ("²".isdigit() is True in Python).
BAD_PAGE_NUMBERS = ["²", "١", "３", "Ⅻ", "½", "0", "-1", "1e3", "1.5", "9" * 30, "2;3", "\x00"]

# JSON strings Python decodes but UTF-8 cannot encode: lone halves of surrogate pairs.
LONE_SURROGATES = ["\\ud800", "\\udfff", "a\\ud83d", "\\ude00b"]


def truncated_tiff(frames: int = 200) -> bytes:
    """The first half of a multi-page TIFF (LZW, small): Pillow raises TypeError ("Missing
    dimensions") when it seeks to a frame that was cut off."""
    import io

    from PIL import Image

    pages = [Image.new("L", (400, 300), 255) for _ in range(frames)]
    buffer = io.BytesIO()
    pages[0].save(
        buffer, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw"
    )
    data = buffer.getvalue()
    return data[: len(data) // 2]


def page_xml(image_name: str, text: str, width: int = 1000, height: int = 1000) -> bytes:
    """A minimal PAGE XML file: one region, one line, naming its image."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="{image_name}" imageWidth="{width}" imageHeight="{height}">
    <TextRegion id="r1" type="paragraph"><Coords points="10,10 900,10 900,90 10,90"/>
      <TextLine id="l1"><Coords points="10,10 900,10 900,90 10,90"/>
        <TextEquiv><Unicode>{text}</Unicode></TextEquiv></TextLine>
    </TextRegion>
  </Page>
</PcGts>""".encode()


def zeros_entries(archive: object, count: int, size: int, name: str = "zeros-{}.png") -> None:
    """Write `count` entries of `size` zero bytes into an open ZipFile, streamed (deflate
    makes 200 MiB of zeros about 200 KB)."""
    import zipfile

    assert isinstance(archive, zipfile.ZipFile)
    chunk = bytes(8 << 20)
    for n in range(1, count + 1):
        with archive.open(name.format(n), "w") as entry:
            left = size
            while left > 0:
                entry.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)


def corrupt_entry(data: bytes, content: bytes) -> bytes:
    """The zip with the first copy of a stored entry's content altered (its CRC then fails)."""
    at = data.index(content)
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def huge_truncated_png(width: int = 13000, height: int = 13000) -> bytes:
    """A white PNG of width x height that stops half way through its pixel data: the header
    is sound (Pillow opens it), decoding fails. Whole it would take 169 MB to decode."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" + b"\xff" * width
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height // 2))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# IIIF imports (issue 21, item 8): each answered 500. `{base}` is an allowed host.
IIIF_URLS = [
    "http://127.0.0.1:99999/m.json",  # port out of range
    "http://127.0.0.1:abc/m.json",
    "http://[::1/m.json",  # unclosed IPv6 bracket
    "http://[::1]:99999/m.json",
    "http://127.0.0.1:0/m.json",
    "ftp://127.0.0.1/m.json",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "http://",
    " ",
    "//127.0.0.1/m.json",
    "http://evil.example/m.json",
    "http://127.0.0.1.evil.example/m.json",
    "http://127.0.0.1@evil.example/m.json",  # the host is evil.example
    "http://" + "a" * 5000 + ".org/m.json",
]
_V2 = '"@context": "http://iiif.io/api/presentation/2/context.json"'
_V3 = '"@context": "http://iiif.io/api/presentation/3/context.json"'
IIIF_MANIFESTS = [
    b"",
    b"   \n",
    b"not json",
    b"\xff\xfe\x00garbage",
    b"[]",
    b"5",
    b'"a string"',
    b"null",
    b"{}",
    b'{"label": "no context"}',
    ("{" + _V2 + ', "sequences": 5}').encode(),
    ("{" + _V3 + ', "items": 7}').encode(),
    ("{" + _V2 + ', "sequences": [5]}').encode(),
    ("{" + _V2 + ', "sequences": [{"canvases": "abc"}]}').encode(),
    ("{" + _V2 + ', "sequences": [{"canvases": [{"images": 3}]}]}').encode(),
    ("{" + _V2 + ', "sequences": [{"canvases": [{"images": [{"resource": 4}]}]}]}').encode(),
    ("{" + _V3 + ', "items": [{"items": 5}]}').encode(),
    ("{" + _V3 + ', "items": [{"items": [{"items": [{"body": 7}]}]}]}').encode(),
    ("{" + _V3 + ', "items": [{"items": [{"items": [{"body": {"id": 5}}]}]}]}').encode(),
    ("{" + _V3 + ', "items": [{"items": [{"items": [{"body": {"service": 3}}]}]}]}').encode(),
    (
        "{" + _V3 + ', "items": [{"items": [{"items": [{"body": {"id": "http://[::1"}}]}]}]}'
    ).encode(),
    ("{" + _V3 + ', "label": {"en": [[[[[["deep"]]]]]]}, "items": []}').encode(),
    b"[" * 100_000 + b"]" * 100_000,  # json.loads: RecursionError
    b'{"a": ' * 500 + b"1" + b"}" * 500,  # parses, but no manifest nests like this
]
