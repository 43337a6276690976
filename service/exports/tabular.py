"""JSON (everything, streamed page by page) and CSV (one row per segment) exports.

The JSON layout is described by `schemas/export.schema.json` (JSON Schema 2020-12).
"""

from __future__ import annotations

import csv
import io
import json
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from service.exports.model import WITHOUT_WORDS, ExportDocument, ExportPage, ExportSegment
from service.translation.doubts import reasons

SCHEMA_PATH = Path(__file__).parent / "schemas" / "export.schema.json"
SCHEMA_ID = "https://palimpsest.invalid/schemas/export-1.json"
CSV_COLUMNS = [
    "document_id",
    "page",
    "position",
    "segment_id",
    "kind",
    "x0",
    "y0",
    "x1",
    "y1",
    "confidence",
    "min_confidence",
    "diplomatic",
    "normalized",
    "translation",
    "translation_status",
    "translation_backend",
    "translation_model",
    "annotations",
    "translation_check",
]


def write_json(document: ExportDocument, out: IO[bytes]) -> None:
    """Stream the document as JSON: metadata first, then one page object at a time."""
    head = json.dumps(_metadata(document), ensure_ascii=False)
    out.write(head[:-1].encode("utf-8"))
    out.write(b', "pages": [')
    for i, page in enumerate(document.pages):
        if i:
            out.write(b",")
        out.write(b"\n")
        out.write(json.dumps(_page(page), ensure_ascii=False).encode("utf-8"))
    out.write(b"\n]}\n")


def _metadata(document: ExportDocument) -> dict[str, Any]:
    options = document.options
    return {
        "$schema": SCHEMA_ID,
        "format": "palimpsest-export",
        "version": 1,
        "generator": f"Palimpsest {version('palimpsest')}",
        "document": {
            "id": document.id,
            "title": document.title,
            "source_lang": document.source_lang,
            "target_lang": document.target_lang,
            "collection": document.collection,
            "files": document.files,
            "created": document.created.isoformat() if document.created else None,
            "updated": document.updated.isoformat() if document.updated else None,
            "ocr_engines": document.ocr_engines,
            "ocr_languages": document.ocr_languages,
            "translation_models": [
                {"backend": b, "model": m} for b, m in document.translation_models
            ],
            "approved_segments": document.approved,
            "needs_check_segments": document.needs_check,
        },
        "options": {
            "first_page": options.first_page,
            "last_page": options.last_page,
            "source": options.source.value,
            "translation": options.translation,
            "annotations": options.annotations,
            "approved_only": options.approved_only,
            "low_confidence": options.low_confidence,
        },
    }


def _page(page: ExportPage) -> dict[str, Any]:
    return {
        "number": page.number,
        "width": page.width,
        "height": page.height,
        "dpi": page.dpi,
        "image": page.image,
        "image_sha256": page.image_sha256,
        "ocr_engine": page.ocr_engine,
        "segments": [_segment(s) for s in page.segments],
    }


def _segment(segment: ExportSegment) -> dict[str, Any]:
    return {
        "id": segment.id,
        "position": segment.position,
        "kind": segment.kind,
        "bbox": list(segment.bbox),
        "confidence": segment.confidence,
        "min_confidence": segment.min_confidence,
        "diplomatic": segment.diplomatic,
        "normalized": segment.normalized,
        "lines": [
            {
                "text": line.text,
                "bbox": list(line.bbox) if line.bbox else None,
                "baseline": [list(p) for p in line.baseline] or None,
                "words": [
                    {"text": w.text, "bbox": list(w.bbox) if w.bbox else None, "conf": w.conf}
                    for w in line.words
                ],
            }
            for line in segment.lines
        ],
        "translation": None
        if segment.translation is None
        else {
            "text": segment.translation,
            "status": segment.translation_status,
            "backend": segment.translation_backend,
            "model": segment.translation_model,
            "flags": [d.flag() for d in segment.doubts],
        },
        "annotations": [
            {"layer": a.layer, "start": a.start, "end": a.end, "type": a.type, "body": a.body}
            for a in segment.annotations
        ],
    }


def write_csv(document: ExportDocument, out: IO[bytes]) -> None:
    """One row per segment (UTF-8 with BOM, so spreadsheet programs read the accents)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for page in document.read(WITHOUT_WORDS):
        for segment in page.segments:
            writer.writerow(_row(document, page, segment))
    text.flush()
    text.detach()


def _row(document: ExportDocument, page: ExportPage, segment: ExportSegment) -> list[Any]:
    notes = "; ".join(
        f"{a.layer}:{a.start}-{a.end}:{a.type}" + (f"={a.body}" if a.body else "")
        for a in segment.annotations
    )
    return [
        document.id,
        page.number,
        segment.position,
        segment.id,
        segment.kind,
        *segment.bbox,
        _number(segment.confidence),
        _number(segment.min_confidence),
        _cell(segment.diplomatic),
        _cell(segment.normalized),
        _cell(segment.translation or ""),
        segment.translation_status or "",
        segment.translation_backend or "",
        segment.translation_model or "",
        _cell(notes),
        _cell(reasons(segment.doubts)),
    ]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _cell(text: str) -> str:
    # A cell starting with = + - @ is run as a formula by spreadsheet programs: defuse it.
    text = text.replace("\x00", "")
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
