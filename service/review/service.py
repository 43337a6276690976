"""Every query and mutation of the review desk: the segments a page shows, edits with
history and conflicts, undo, approval, annotations, and full-text search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, cast, false, func, select
from sqlalchemy.orm import Session

from service.accounts import access
from service.documents.models import Page, Segment, SegmentKind
from service.errors import EditConflict, InvalidInput, NotFound, SegmentNotFound
from service.review.models import (
    Annotation,
    AnnotationLayer,
    AnnotationType,
    Author,
    Edit,
    EditField,
)
from service.review.render import trimmed
from service.text import normalise, source_hash, storable
from service.translation.models import Translation, TranslationStatus
from service.translation.shown import latest_shown, shown, sql_translation_stale

MANUAL_BACKEND = "manual"
MANUAL_MODEL = "reviewer"


def _segment_locked(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id, with_for_update=True)
    if segment is None or not access.may_see(segment.page.document.collection_id):
        raise SegmentNotFound(f"Segment {segment_id} does not exist.")
    return segment


def _check_version(kind: str, current: int, expected: int | None, text: str) -> None:
    if expected is not None and expected != current:
        raise EditConflict(
            f"The {kind} was changed by someone else since you opened it.", text, current
        )


def edit_source(
    session: Session, segment_id: int, text: str, version: int | None, author: Author
) -> Segment:
    """Correct the OCR text; its translations become stale (their source hash no longer matches)."""
    segment = _segment_locked(session, segment_id)
    _check_version("transcription", segment.version, version, segment.text)
    new_text = storable(text)
    if new_text == segment.text:
        return segment
    _record(session, segment, None, EditField.SOURCE, segment.text, new_text, author)
    segment.text = new_text
    segment.normalized = storable(normalise(new_text))
    segment.version += 1
    session.flush()
    return segment


def edit_translation(
    session: Session,
    segment_id: int,
    text: str,
    version: int | None,
    author: Author,
    translation_id: int | None = None,
) -> Translation:
    """Correct a translation (or write one by hand); it is then current for the segment's source."""
    segment = _segment_locked(session, segment_id)
    translation = _translation_for(session, segment, translation_id)
    if translation is None:
        translation = _manual_translation(session, segment)
    else:
        _check_version("translation", translation.version, version, translation.text)
    new_text = storable(text)
    _record(
        session, segment, translation, EditField.TRANSLATION, translation.text, new_text, author
    )
    translation.text = new_text
    _settle(translation, TranslationStatus.EDITED)
    translation.error = None
    translation.source_hash = source_hash(segment.normalized)
    translation.version += 1
    translation.reviewed_by = author.name
    session.flush()
    return translation


def _translation_for(
    session: Session, segment: Segment, translation_id: int | None
) -> Translation | None:
    if translation_id is None:
        return current_translation(session, segment.id, lock=True)
    translation = session.get(Translation, translation_id, with_for_update=True)
    if translation is None or translation.segment_id != segment.id:
        raise NotFound(f"Translation {translation_id} of segment {segment.id} does not exist.")
    return translation


def current_translation(
    session: Session, segment_id: int, lock: bool = False
) -> Translation | None:
    """The translation shown for a segment: the most recently changed, comparisons aside."""
    query = (
        select(Translation)
        .where(Translation.segment_id == segment_id, shown())
        .order_by(Translation.updated_at.desc(), Translation.id.desc())
        .limit(1)
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


@dataclass(slots=True)
class ShownTranslation:
    """What a review row shows of a segment's translation (plain attributes, quick to render)."""

    id: int
    version: int
    status: TranslationStatus
    backend: str
    model: str
    text: str
    error: str | None
    flags: list[dict[str, Any]]
    changed: str  # when it last changed, as Postgres writes it (part of the row's key)

    @property
    def model_name(self) -> str:
        """The model's name without its repository path (`org/name:tag` → `name:tag`)."""
        return self.model.rsplit("/", 1)[-1]


@dataclass(slots=True)
class ReviewSegment:
    """What a review row shows of a segment, with the translation it shows if any."""

    id: int
    position: int
    kind: SegmentKind
    text: str
    normalized: str
    x0: int
    y0: int
    x1: int
    y1: int
    word_spans: list[list[float]]
    confidence: float | None
    min_confidence: float | None
    version: int
    draft: bool
    translation: ShownTranslation | None
    # True when the source changed after the shown translation was made: compared in the
    # query, so a page of 500 rows hashes no text in Python.
    stale: bool = False


_DERIVED = ("translation", "stale")  # ReviewSegment's fields that are not Segment columns

# Read as plain columns, not ORM entities: a page of 500 rows skips the identity map, and
# the template reads plain attributes. The fields name the columns, so the two stay in step.
_TRANSLATION_COLUMNS = (
    *(getattr(Translation, f.name) for f in fields(ShownTranslation)[:-1]),
    cast(Translation.updated_at, String).label("changed"),
)
_SEGMENT_COLUMNS = tuple(
    getattr(Segment, f.name) for f in fields(ReviewSegment) if f.name not in _DERIVED
)


def page_segments(session: Session, page_id: int) -> list[ReviewSegment]:
    """A page's segments in reading order with their shown translations (one query)."""
    rows = session.execute(_PAGE_SEGMENTS, {"page_id": page_id})
    return [_review_segment(row) for row in rows]


def get_review_segment(session: Session, segment_id: int) -> ReviewSegment | None:
    """One segment as its review row shows it (after an edit), or None."""
    row = session.execute(_ONE_SEGMENT, {"segment_id": segment_id}).first()
    return None if row is None else _review_segment(row)


def _review_query(where: ColumnElement[bool]) -> Select[Any]:
    """Segments matching `where` in reading order, each joined to its shown translation."""
    stale = sql_translation_stale(Translation.status, Translation.source_hash, Segment.normalized)
    translations = latest_shown(
        select(Translation.segment_id, *_TRANSLATION_COLUMNS, stale.label("stale"))
        .join(Segment, Segment.id == Translation.segment_id)
        .where(where)
    ).subquery()
    shown = [translations.c[column.key] for column in _TRANSLATION_COLUMNS]
    return (
        select(*_SEGMENT_COLUMNS, *shown, func.coalesce(translations.c.stale, false()))
        .outerjoin(translations, translations.c.segment_id == Segment.id)
        .where(where)
        .order_by(Segment.position)
    )


# Built once: building the statement on every request took about a millisecond.
_PAGE_SEGMENTS = _review_query(Segment.page_id == bindparam("page_id"))
_ONE_SEGMENT = _review_query(Segment.id == bindparam("segment_id"))


def _review_segment(columns: Sequence[Any]) -> ReviewSegment:
    n = len(_SEGMENT_COLUMNS)
    end = n + len(_TRANSLATION_COLUMNS)
    translation = None if columns[n] is None else ShownTranslation(*columns[n:end])
    return ReviewSegment(*[*columns[:n], translation, columns[end]])


def _manual_translation(session: Session, segment: Segment) -> Translation:
    translation = Translation(
        segment_id=segment.id,
        document_id=segment.document_id,
        backend=MANUAL_BACKEND,
        model=MANUAL_MODEL,
        text="",
        status=TranslationStatus.EDITED,
        source_hash=source_hash(segment.normalized),
        version=0,
    )
    session.add(translation)
    session.flush()
    return translation


def _record(
    session: Session,
    segment: Segment,
    translation: Translation | None,
    field: EditField,
    before: str,
    after: str,
    author: Author,
    reverts: Edit | None = None,
) -> Edit:
    edit = Edit(
        document_id=segment.document_id,
        segment_id=segment.id,
        translation_id=translation.id if translation else None,
        field=field,
        before=before,
        after=after,
        author=author.name,
        author_id=author.user_id,
        reverts_id=reverts.id if reverts else None,
        translation_before=_state(translation) if translation else None,
    )
    session.add(edit)
    return edit


def _state(translation: Translation) -> dict[str, Any]:
    """What an undo restores of a translation besides its text: its status and flags."""
    return {"status": translation.status.value, "flags": list(translation.flags or [])}


def _settle(translation: Translation, status: TranslationStatus) -> None:
    """A reviewer's edit or approval: the checks' flags are answered and cleared."""
    translation.status = status
    translation.flags = []


def history(session: Session, segment_id: int) -> Sequence[Edit]:
    """A segment's edits, newest first."""
    return session.scalars(
        select(Edit).where(Edit.segment_id == segment_id).order_by(Edit.id.desc())
    ).all()


def undo(session: Session, segment_id: int, author: Author) -> Edit:
    """Revert the segment's latest edit that is not yet reverted (repeat to go further back)."""
    segment = _segment_locked(session, segment_id)
    reverted = select(Edit.reverts_id).where(Edit.reverts_id.is_not(None))
    last = session.scalars(
        select(Edit)
        .where(Edit.segment_id == segment_id, Edit.reverts_id.is_(None), Edit.id.not_in(reverted))
        .order_by(Edit.id.desc())
        .limit(1)
    ).first()
    if last is None:
        raise InvalidInput("There is nothing to undo on this segment.")
    return _apply_reverse(session, segment, last, author)


def _apply_reverse(session: Session, segment: Segment, last: Edit, author: Author) -> Edit:
    if last.field is EditField.SOURCE:
        current = segment.text
        segment.text = last.before
        segment.normalized = storable(normalise(last.before))
        segment.version += 1
        return _record(session, segment, None, last.field, current, last.before, author, last)
    translation = session.get(Translation, last.translation_id, with_for_update=True)
    if translation is None:
        raise InvalidInput("The translation this edit changed no longer exists.")
    is_text = last.field is EditField.TRANSLATION
    current = translation.text if is_text else translation.status.value
    undo = _record(session, segment, translation, last.field, current, last.before, author, last)
    if is_text:
        translation.text = last.before
    else:
        translation.status = TranslationStatus(last.before)
    if last.translation_before is not None:  # edits recorded before states were kept have none
        translation.status = TranslationStatus(last.translation_before["status"])
        translation.flags = list(last.translation_before.get("flags") or [])
    translation.version += 1
    return undo


def approve(session: Session, segment_ids: Sequence[int], author: Author) -> int:
    """Approve the current translation of each segment; return how many changed."""
    changed = 0
    for segment_id in segment_ids:
        segment = _segment_locked(session, segment_id)
        translation = current_translation(session, segment_id, lock=True)
        if translation is None or translation.status in (
            TranslationStatus.APPROVED,
            TranslationStatus.FAILED,
        ):
            continue
        _record(
            session,
            segment,
            translation,
            EditField.STATUS,
            translation.status.value,
            TranslationStatus.APPROVED.value,
            author,
        )
        _settle(translation, TranslationStatus.APPROVED)
        translation.reviewed_by = author.name
        translation.version += 1
        changed += 1
    session.flush()
    return changed


def page_segment_ids(session: Session, page_id: int) -> list[int]:
    """Segment ids of a page in reading order."""
    return list(
        session.scalars(
            select(Segment.id).where(Segment.page_id == page_id).order_by(Segment.position)
        )
    )


def document_segment_ids(session: Session, document_id: int) -> list[int]:
    """Segment ids of a document in reading order."""
    return list(
        session.scalars(
            select(Segment.id)
            .join(Page, Page.id == Segment.page_id)
            .where(Segment.document_id == document_id)
            .order_by(Page.number, Segment.position)
        )
    )


def layer_text(session: Session, segment: Segment, layer: AnnotationLayer) -> str:
    """The text an annotation's character range refers to."""
    if layer is AnnotationLayer.SOURCE:
        return segment.text
    translation = current_translation(session, segment.id)
    return translation.text if translation else ""


def annotate(
    session: Session,
    segment_id: int,
    layer: AnnotationLayer,
    span: tuple[int, int],
    kind: AnnotationType,
    body: str | None,
    author: Author,
) -> Annotation:
    """Tag a character range [start, end) of the source or the translation."""
    segment = session.get(Segment, segment_id)
    if segment is None or not access.may_see(segment.page.document.collection_id):
        raise SegmentNotFound(f"Segment {segment_id} does not exist.")
    text = layer_text(session, segment, layer)
    start, end = span
    if not 0 <= start < end <= len(text):
        raise InvalidInput(
            f"The range {start}–{end} is outside the {layer.value} text (0–{len(text)})."
        )
    start, end = trimmed(text, start, end)
    if kind is AnnotationType.NOTE and not (body or "").strip():
        raise InvalidInput("A note needs text.")
    annotation = Annotation(
        segment_id=segment_id,
        layer=layer,
        start=start,
        end=end,
        type=kind,
        body=storable(body).strip() if body else None,
        author=author.name,
        author_id=author.user_id,
    )
    session.add(annotation)
    session.flush()
    return annotation


def delete_annotation(session: Session, annotation_id: int) -> None:
    """Remove an annotation."""
    annotation = session.get(Annotation, annotation_id)
    if annotation is None or not access.may_see(
        session.get(Segment, annotation.segment_id).page.document.collection_id  # type: ignore[union-attr]
    ):
        raise NotFound(f"Annotation {annotation_id} does not exist.")
    session.delete(annotation)
    session.flush()


def list_annotations(
    session: Session,
    document_id: int,
    kind: AnnotationType | None = None,
    layer: AnnotationLayer | None = None,
) -> list[tuple[Annotation, Segment, int]]:
    """A document's annotations with their segment and page number, in reading order."""
    query = (
        select(Annotation, Segment, Page.number)
        .join(Segment, Segment.id == Annotation.segment_id)
        .join(Page, Page.id == Segment.page_id)
        .where(Segment.document_id == document_id)
        .order_by(Page.number, Segment.position, Annotation.start)
    )
    if kind is not None:
        query = query.where(Annotation.type == kind)
    if layer is not None:
        query = query.where(Annotation.layer == layer)
    return [(a, s, n) for a, s, n in session.execute(query)]
