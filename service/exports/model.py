"""The export model: a document's pages, segments, translations and annotations, detached.

Pages are loaded lazily in chunks (`PageStream`), so a 300-page book is never held in
memory at once: every exporter walks `document.pages` one page at a time, and may walk it
more than once (TEI writes the facsimile, then the transcription, then the translation).
A pass that needs less walks `document.read(mask)`: the same pages, leaving out the
columns `mask` does not ask for. Word boxes (`lines`) are the bulk of a segment's row and most
of the reading time; word offsets and confidences come from `Segment.word_spans` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.documents import service as documents
from service.documents.models import Collection, Document, FileStatus, Page, SegmentKind
from service.errors import InvalidInput
from service.exports.rows import (
    SegmentRow,
    TranslationRow,
    segment_rows,
    shown_translations,
    transcribers,
    typed_pages,
)
from service.review.models import Annotation
from service.translation.doubts import Doubt, standing
from service.translation.doubts import counts as needs_check_counts
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import shown

# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, surrogates, U+FFFE/U+FFFF).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
PAGE_CHUNK = 20


def xml_safe(text: str) -> str:
    """Remove characters that cannot appear in XML 1.0."""
    return _XML_FORBIDDEN.sub("", text)


class SourceLayer(StrEnum):
    """Which form of the source text an export carries."""

    DIPLOMATIC = "diplomatic"
    NORMALIZED = "normalized"
    BOTH = "both"


class Arrangement(StrEnum):
    """How text exports place the translation: after each segment, or beside it."""

    INTERLEAVED = "interleaved"
    SIDE_BY_SIDE = "side-by-side"


@dataclass(frozen=True)
class ExportOptions:
    """The user's choices: page range and layers."""

    first_page: int | None = None
    last_page: int | None = None
    source: SourceLayer = SourceLayer.BOTH
    translation: bool = True
    annotations: bool = True
    approved_only: bool = False
    arrangement: Arrangement = Arrangement.INTERLEAVED
    images: bool = False
    bilingual: bool = False
    low_confidence: float = 60.0
    # TMX: False leaves out the units whose translation a check doubted (needs check).
    flagged: bool = True
    # IIIF: the URL the zip will be hosted at; None makes every link relative to the manifest.
    base_url: str | None = None

    def includes(self, number: int) -> bool:
        """True when page `number` is in the chosen range."""
        return (self.first_page is None or number >= self.first_page) and (
            self.last_page is None or number <= self.last_page
        )


class ExportWord(NamedTuple):
    """A word as the OCR engine (or an imported file) placed it.

    A named tuple, not a frozen dataclass: a book makes one per word, and a frozen
    dataclass's __init__ costs several times a tuple's."""

    text: str
    bbox: tuple[int, int, int, int] | None
    conf: float | None
    polygon: tuple[tuple[int, int], ...] = ()


class ExportLine(NamedTuple):
    """A text line with its box and words (a named tuple, as ExportWord)."""

    text: str
    bbox: tuple[int, int, int, int] | None
    words: tuple[ExportWord, ...] = ()
    baseline: tuple[tuple[int, int], ...] = ()
    polygon: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ExportAnnotation:
    """A tagged range [start, end) of the source (diplomatic) or translation text."""

    id: int
    layer: str
    start: int
    end: int
    type: str
    body: str | None


@dataclass(frozen=True)
class ExportSegment:
    """One aligned unit."""

    id: int
    bbox: tuple[int, int, int, int]
    lines: list[ExportLine]
    diplomatic: str
    normalized: str
    confidence: float | None
    translation: str | None
    translation_status: str | None
    kind: str = "paragraph"
    position: int = 0
    min_confidence: float | None = None
    translation_backend: str | None = None
    translation_model: str | None = None
    annotations: tuple[ExportAnnotation, ...] = ()
    # [start, end, confidence] of each OCR word in `diplomatic`; [] when the text was
    # corrected apart from the words; None when unknown (then `lines` tells).
    spans: Sequence[Sequence[float]] | None = None
    # The checks' doubts about the exported translation that no reviewer has answered.
    doubts: tuple[Doubt, ...] = ()

    @property
    def line_texts(self) -> list[str]:
        """The diplomatic text line by line."""
        return self.diplomatic.split("\n")

    def annotations_on(self, layer: str) -> list[ExportAnnotation]:
        """Annotations of one layer (`source` or `translation`), in text order."""
        return sorted((a for a in self.annotations if a.layer == layer), key=lambda a: a.start)


@dataclass
class ExportPage:
    """A page and its segments in reading order."""

    number: int
    width: int | None
    height: int | None
    image: str | None
    segments: list[ExportSegment] = field(default_factory=list)
    id: int = 0
    image_sha256: str | None = None
    dpi: int | None = None
    ocr_engine: str | None = None


@dataclass
class ExportDocument:
    """Everything an exporter needs; `pages` can be iterated more than once."""

    id: int
    title: str
    source_lang: str
    target_lang: str
    files: list[str]
    ocr_engines: list[str]
    backend: str | None
    model: str | None
    pages: Iterable[ExportPage]
    options: ExportOptions = field(default_factory=ExportOptions)
    collection: str | None = None
    created: datetime | None = None
    updated: datetime | None = None
    ocr_languages: list[str] = field(default_factory=list)
    translation_models: list[tuple[str, str]] = field(default_factory=list)
    translated: bool | None = None
    approved: int = 0
    page_count: int = 0
    needs_check: int = 0
    # Pages holding regions typed by hand, and who typed them (names kept in the history).
    typed_pages: list[int] = field(default_factory=list)
    transcribers: list[str] = field(default_factory=list)

    def read(self, mask: ColumnMask) -> Iterable[ExportPage]:
        """The pages with what `mask` asks for (everything when they were given whole)."""
        pages = self.pages
        return pages.masked(mask) if isinstance(pages, PageStream) else pages

    @property
    def has_translation(self) -> bool:
        """True when translations are exported and at least one segment has one."""
        if not self.options.translation:
            return False
        if self.translated is not None:
            return self.translated
        return any(s.translation for p in self.pages for s in p.segments)


def load(
    session: Session, document_id: int, options: ExportOptions | None = None
) -> ExportDocument:
    """Collect a document's metadata; its pages are read lazily, a chunk at a time."""
    options = options or ExportOptions()
    document: Document = documents.get_or_raise(session, document_id)
    pages = [p for p in document.pages if options.includes(p.number)]
    if document.pages and not pages:
        raise InvalidInput(
            f"The document has pages 1–{len(document.pages)}; the range chosen holds none."
        )
    models = _translation_models(session, document_id)
    return ExportDocument(
        id=document.id,
        title=document.title,
        source_lang=document.source_lang,
        target_lang=document.target_lang,
        files=[f.filename for f in document.files if f.status is FileStatus.INGESTED],
        ocr_engines=sorted({p.ocr_engine for p in document.pages if p.ocr_engine}),
        ocr_languages=sorted({p.ocr_languages for p in document.pages if p.ocr_languages}),
        backend=document.backend,
        model=document.model,
        pages=PageStream(session, document_id, [p.id for p in pages], options),
        options=options,
        collection=_collection_name(session, document.collection_id),
        created=document.created_at,
        updated=document.updated_at,
        translation_models=models,
        translated=bool(models),
        approved=_count_approved(session, document_id),
        page_count=len(pages),
        needs_check=needs_check_counts(session, [document_id]).get(document_id, 0),
        typed_pages=[n for n in typed_pages(session, document_id) if options.includes(n)],
        transcribers=transcribers(session, document_id),
    )


def _collection_name(session: Session, collection_id: int | None) -> str | None:
    if collection_id is None:
        return None
    collection = session.get(Collection, collection_id)
    return collection.name if collection else None


def _translation_models(session: Session, document_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Translation.backend, Translation.model)
        .where(
            Translation.document_id == document_id,
            Translation.status != TranslationStatus.FAILED,
            Translation.text != "",
            shown(),
        )
        .distinct()
        .order_by(Translation.backend, Translation.model)
    )
    return [(b, m) for b, m in rows]


def _count_approved(session: Session, document_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Translation.document_id == document_id,
                Translation.status == TranslationStatus.APPROVED,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class ColumnMask:
    """What a pass over the pages needs; what it leaves out is not read."""

    lines: bool = True  # word boxes
    spans: bool = True  # word offsets and confidences
    translations: bool = True
    annotations: bool = True


EVERYTHING = ColumnMask()
# Text, translations and annotations (text, tabular and TMX exports).
WITHOUT_WORDS = ColumnMask(lines=False, spans=False)
# Everything but word boxes (DOCX).
WITHOUT_BOXES = ColumnMask(lines=False)
# The source with its word confidences and annotations (TEI transcription).
SOURCE_WITH_CONFIDENCE = ColumnMask(lines=False, translations=False)
# Segment boxes alone (TEI facsimile).
BOXES = ColumnMask(lines=False, spans=False, translations=False, annotations=False)


class PageStream:
    """Re-iterable pages of a document, read from the database `PAGE_CHUNK` pages at a time."""

    def __init__(
        self,
        session: Session,
        document_id: int,
        page_ids: Sequence[int],
        options: ExportOptions,
        mask: ColumnMask = EVERYTHING,
    ) -> None:
        self._session = session
        self._document_id = document_id
        self._page_ids = list(page_ids)
        self._options = options
        self._mask = mask

    def masked(self, mask: ColumnMask) -> PageStream:
        """The same pages, read with only what `mask` asks for."""
        return PageStream(self._session, self._document_id, self._page_ids, self._options, mask)

    def __iter__(self) -> Iterator[ExportPage]:
        for start in range(0, len(self._page_ids), PAGE_CHUNK):
            # The identity map holds rows weakly: a chunk's rows go once its pages are written.
            yield from self._chunk(self._page_ids[start : start + PAGE_CHUNK])

    def __len__(self) -> int:
        return len(self._page_ids)

    def _chunk(self, page_ids: list[int]) -> list[ExportPage]:
        pages = self._session.scalars(
            select(Page).where(Page.id.in_(page_ids)).order_by(Page.number)
        ).all()
        by_id = {p.id: _page(p) for p in pages}
        mask = self._mask
        segments = segment_rows(self._session, page_ids, lines=mask.lines, spans=mask.spans)
        ids = [s.id for s in segments]
        # Approved-only exports choose their segments by translation status.
        wanted = mask.translations or self._options.approved_only
        latest = shown_translations(self._session, ids) if wanted else {}
        with_notes = mask.annotations and self._options.annotations
        notes = _annotations(self._session, ids) if with_notes else {}
        spans = self._spans(segments)
        for seg in segments:
            note = notes.get(seg.id, ())
            item = _segment(seg, latest.get(seg.id), note, self._options, spans.get(seg.id))
            if item is not None:
                by_id[seg.page_id].segments.append(item)
        return [by_id[p.id] for p in pages]

    def _spans(self, segments: Sequence[SegmentRow]) -> dict[int, list[list[float]]]:
        """Word offsets by segment, when the mask reads them."""
        return {s.id: s.word_spans for s in segments if s.word_spans is not None}


def _image(page: Page) -> str | None:
    """The image the page's coordinates refer to: the one the OCR read, else the upload's."""
    return page.ocr_image_sha256 or page.image_sha256


def _page(page: Page) -> ExportPage:
    return ExportPage(
        number=page.number,
        width=page.width,
        height=page.height,
        image=f"page-{page.number:04d}.png" if _image(page) else None,
        id=page.id,
        image_sha256=_image(page),
        dpi=page.dpi,
        ocr_engine=page.ocr_engine,
    )


def _annotations(
    session: Session, segment_ids: list[int]
) -> dict[int, tuple[ExportAnnotation, ...]]:
    if not segment_ids:
        return {}
    found: dict[int, list[ExportAnnotation]] = {}
    rows = session.execute(
        select(
            Annotation.segment_id,
            Annotation.id,
            Annotation.layer,
            Annotation.start,
            Annotation.end,
            Annotation.type,
            Annotation.body,
        )
        .where(Annotation.segment_id.in_(segment_ids))
        .order_by(Annotation.segment_id, Annotation.start, Annotation.id)
    )
    for segment_id, id_, layer, start, end, type_, body in rows:
        found.setdefault(segment_id, []).append(
            ExportAnnotation(id_, layer.value, start, end, type_.value, body)
        )
    return {k: tuple(v) for k, v in found.items()}


def _segment(
    seg: SegmentRow,
    tr: TranslationRow | None,
    annotations: tuple[ExportAnnotation, ...],
    options: ExportOptions,
    spans: Sequence[Sequence[float]] | None = None,
) -> ExportSegment | None:
    approved = tr is not None and tr.status is TranslationStatus.APPROVED
    if options.approved_only and not approved:
        return None
    if seg.kind is SegmentKind.MANUAL and not seg.text.strip():
        return None  # a region drawn, nothing typed in it yet
    usable = tr is not None and tr.status is not TranslationStatus.FAILED and bool(tr.text)
    keep = [a for a in annotations if options.translation or a.layer != "translation"]
    exported = usable and tr is not None and options.translation
    return ExportSegment(
        id=seg.id,
        bbox=seg.bbox,
        lines=([_line(line) for line in seg.lines] if seg.lines is not None else [])
        or [ExportLine(t, None) for t in seg.text.split("\n")],
        diplomatic=seg.text,
        normalized=seg.normalized,
        confidence=seg.confidence,
        translation=tr.text if exported and tr is not None else None,
        translation_status=tr.status.value if tr is not None else None,
        kind=seg.kind.value,
        position=seg.position,
        min_confidence=seg.min_confidence,
        translation_backend=tr.backend if tr is not None else None,
        translation_model=tr.model if tr is not None else None,
        annotations=tuple(keep),
        spans=spans,
        doubts=tuple(standing(tr.status, tr.flags)) if exported and tr is not None else (),
    )


def _line(line: dict[str, Any]) -> ExportLine:
    words = tuple(
        ExportWord(
            str(w.get("text", "")),
            _bbox(w.get("bbox")),
            _conf(w.get("conf")),
            _points(w.get("polygon")),
        )
        for w in line.get("words") or []
    )
    return ExportLine(
        str(line.get("text", "")),
        _bbox(line.get("bbox")),
        words,
        _points(line.get("baseline")),
        _points(line.get("polygon")),
    )


# Word boxes are read a book's words at a time: the helpers below take the JSON's own
# shapes (lists of ints, float confidences) on a fast path and convert anything else.


def _points(value: Any) -> tuple[tuple[int, int], ...]:
    if type(value) is not list or not value:
        return ()
    return tuple(
        (int(p[0]), int(p[1])) for p in value if isinstance(p, (list, tuple)) and len(p) == 2
    )


def _bbox(value: Any) -> tuple[int, int, int, int] | None:
    if type(value) is list and len(value) == 4:
        x0, y0, x1, y1 = value
        if type(x0) is int and type(y0) is int and type(x1) is int and type(y1) is int:
            return (x0, y0, x1, y1)
    elif not isinstance(value, tuple) or len(value) != 4:
        return None
    x0, y0, x1, y1 = value
    return (int(x0), int(y0), int(x1), int(y1))


def _conf(value: Any) -> float | None:
    if type(value) is float:
        return value
    return float(value) if isinstance(value, int | float) else None
