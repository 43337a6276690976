"""IIIF Presentation 3 export, built with iiif-prezi3: a zip any static web server can host,
and the same manifest served live by the API.

One Canvas per page at the size of the image the boxes refer to, painted with that image.
Each canvas has one annotation page (a separate file, fetched by viewers when shown) in
which every segment carries two `supplementing` annotations on its box (`#xywh=`): the
transcription, and the translation with its `language`. Annotations a reviewer made become
`tagging` (persons, places, dates, …) or `commenting` (notes) on the boxes of their words.
Every text is a `TextualBody` with `format: text/plain`: what a segment holds is written as
it is, never as markup.

The zip holds `manifest.json`, `annotations/page-NNNN.json`, `images/page-NNNN.png` (full
size, as stored) and the TEI the manifest's `rendering` links to. Its URLs are relative to
the manifest (resolved against wherever it is hosted) unless a base URL is given.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, Protocol
from urllib.parse import urlsplit

from iiif_prezi3 import (
    Annotation,
    AnnotationPage,
    AnnotationPageRef,
    Canvas,
    KeyValueString,
    LinkedResource,
    Manifest,
    TextualBody,
)
from pydantic import AnyHttpUrl, TypeAdapter, ValidationError

from service.errors import InvalidInput
from service.exports import images, tei
from service.exports.model import (
    BOXES,
    EVERYTHING,
    ExportAnnotation,
    ExportDocument,
    ExportPage,
    ExportSegment,
    SourceLayer,
)
from service.languages import language_code, language_name
from service.storage import Storage

# iiif-prezi3 accepts absolute URLs only: a relative export is built under this base, which
# is then cut from every link (never from a text: those are `value`s and labels).
PLACEHOLDER = "https://relative.palimpsest.invalid/"
LINK_KEYS = frozenset({"id", "target", "source"})
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "tif": "image/tiff"}
TEI_FILE = "transcription.tei.xml"
PLAIN = "text/plain"
_HTTP_URL = TypeAdapter(AnyHttpUrl)


class Links(Protocol):
    """Where the manifest's resources are: files of the zip, or routes of the API."""

    def manifest(self) -> str:
        """The manifest's own URL (its id)."""
        ...

    def canvas(self, page: ExportPage) -> str:
        """A page's canvas id."""
        ...

    def image(self, page: ExportPage, name: str) -> str:
        """The URL of a page's full image (`name` as in the zip)."""
        ...

    def annotations(self, page: ExportPage) -> str:
        """The URL of a page's annotation page."""
        ...

    def annotation(self, name: str) -> str:
        """The id of one annotation."""
        ...

    def tei(self) -> str:
        """The URL of the TEI the manifest's `rendering` points to."""
        ...


@dataclass(frozen=True)
class ZipLinks:
    """Paths inside the zip under a base URL (the placeholder for a relative export)."""

    base: str = PLACEHOLDER

    def manifest(self) -> str:
        """The manifest's own URL (its id)."""
        return f"{self.base}manifest.json"

    def canvas(self, page: ExportPage) -> str:
        """A page's canvas id."""
        return f"{self.base}canvas/{page.number}"

    def image(self, page: ExportPage, name: str) -> str:  # noqa: ARG002 - the protocol's
        """The URL of a page's full image."""
        return f"{self.base}images/{name}"

    def annotations(self, page: ExportPage) -> str:
        """The URL of a page's annotation page."""
        return f"{self.base}{annotations_file(page)}"

    def annotation(self, name: str) -> str:
        """The id of one annotation."""
        return f"{self.base}annotation/{name}"

    def tei(self) -> str:
        """The URL of the TEI file beside the manifest."""
        return f"{self.base}{TEI_FILE}"


@dataclass(frozen=True)
class LiveLinks:
    """The API's routes for a document, on the site at `site` (ending in `/`)."""

    site: str
    document_id: int

    @property
    def base(self) -> str:
        """Where the document's IIIF routes start."""
        return f"{self.site}api/documents/{self.document_id}/iiif/"

    def manifest(self) -> str:
        """The manifest's own URL (its id)."""
        return f"{self.base}manifest.json"

    def canvas(self, page: ExportPage) -> str:
        """A page's canvas id."""
        return f"{self.base}canvas/{page.number}"

    def image(self, page: ExportPage, name: str) -> str:  # noqa: ARG002 - the protocol's
        """The page image the boxes refer to, as the review page serves it."""
        return f"{self.site}api/pages/{page.id}/image?as_read=true"

    def annotations(self, page: ExportPage) -> str:
        """The route of a page's annotation page."""
        return f"{self.base}annotations/{page.number}.json"

    def annotation(self, name: str) -> str:
        """The id of one annotation."""
        return f"{self.base}annotation/{name}"

    def tei(self) -> str:
        """The TEI export of the document."""
        return f"{self.site}api/documents/{self.document_id}/export?format=tei"


def check_base_url(value: str | None) -> str | None:
    """The base URL a zip will be hosted at (http or https, with a host), or None when it
    is blank (relative links); InvalidInput says what is wrong with anything else."""
    if value is None or not value.strip():
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        _HTTP_URL.validate_python(url)  # what iiif-prezi3 will accept as an id
    except (ValueError, ValidationError):  # a port of 99999, an unclosed "[::1", "a<b"
        ok = False
    if not ok or parts.query or parts.fragment or any(c.isspace() or c < " " for c in url):
        shown = url if len(url) <= 200 else url[:200] + "…"
        raise InvalidInput(
            f"base_url must be an http(s) URL such as https://example.org/iiif/book/, "
            f"not {shown!r}."
        )
    return url


def annotations_file(page: ExportPage) -> str:
    """A page's annotation page in the zip."""
    return f"annotations/page-{page.number:04d}.json"


def base_links(base_url: str | None) -> ZipLinks:
    """The zip's links under a base URL, or relative ones."""
    return ZipLinks(base_url.rstrip("/") + "/") if base_url else ZipLinks()


def write_zip(document: ExportDocument, out: IO[bytes], storage: Storage) -> None:
    """Write the manifest, one annotation page and the image per page, and the TEI."""
    links = base_links(document.options.base_url)
    canvases: list[Canvas] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for page in document.read(EVERYTHING):
            name = images.file_name(page, storage)
            canvases.append(canvas(page, links, name))
            archive.writestr(annotations_file(page), dumps(annotation_page(page, document, links)))
            if page.image_sha256:
                images.add_to_zip(archive, storage, page.image_sha256, f"images/{name}")
        archive.writestr("manifest.json", dumps(manifest(document, links, canvases)))
        with archive.open(TEI_FILE, "w", force_zip64=True) as member:
            tei.write(document, member)


def live_manifest(document: ExportDocument, links: LiveLinks, storage: Storage) -> dict[str, Any]:
    """The manifest as the API serves it: canvases, image routes, annotation page routes."""
    canvases = [
        canvas(page, links, images.file_name(page, storage)) for page in document.read(BOXES)
    ]
    return serialise(manifest(document, links, canvases))


def live_annotation_page(document: ExportDocument, links: LiveLinks) -> dict[str, Any]:
    """One page's annotations as the API serves them (the document holds that page alone)."""
    page = next(iter(document.read(EVERYTHING)))
    return serialise(annotation_page(page, document, links))


def manifest(document: ExportDocument, links: Links, canvases: list[Canvas]) -> Manifest:
    """The Presentation 3 manifest: title, metadata, TEI rendering, the canvases."""
    return Manifest(
        id=links.manifest(),
        label={"none": [document.title]},
        metadata=metadata(document),
        rendering=[
            LinkedResource(
                id=links.tei(),
                type="Text",
                label={"en": ["Transcription and translation (TEI P5)"]},
                format="application/tei+xml",
            )
        ],
        items=canvases,
    )


def metadata(document: ExportDocument) -> list[KeyValueString]:
    """Title, languages, OCR and translation models, and how far review has come."""
    pairs = [
        ("Title", document.title),
        ("Source language", _language(document.source_lang)),
        ("Translation language", _language(document.target_lang)),
    ]
    if document.ocr_engines:
        pairs.append(("OCR", ", ".join(document.ocr_engines)))
    if document.translation_models:
        models = ", ".join(f"{model} ({backend})" for backend, model in document.translation_models)
        pairs.append(("Translation models", models))
    pairs.append(("Approval", _approval(document)))
    if document.collection:
        pairs.append(("Collection", document.collection))
    return [KeyValueString(label={"en": [k]}, value={"none": [v]}) for k, v in pairs]


def _language(tag: str) -> str:
    name = language_name(tag)
    return f"{name} ({tag})" if name != tag else tag


def _approval(document: ExportDocument) -> str:
    text = f"{document.approved} segment translation(s) approved in review"
    if document.needs_check:
        text += f"; {document.needs_check} doubted by a check and not yet reviewed"
    return text


def canvas(page: ExportPage, links: Links, name: str) -> Canvas:
    """A page's canvas at its image's size, painted with the image, with its annotation page."""
    width, height = page_size(page)
    item = Canvas(
        id=links.canvas(page),
        label={"en": [f"Page {page.number}"]},
        width=width,
        height=height,
        items=[],
        annotations=[AnnotationPageRef(id=links.annotations(page), type="AnnotationPage")],
    )
    if page.image_sha256:
        extension = name.rsplit(".", 1)[-1]
        item.add_image(
            image_url=links.image(page, name),
            anno_id=f"{links.canvas(page)}/image",
            anno_page_id=f"{links.canvas(page)}/painting",
            format=MEDIA_TYPES.get(extension, "image/png"),
            width=width,
            height=height,
        )
    return item


def page_size(page: ExportPage) -> tuple[int, int]:
    """The page image's size (the boxes' coordinates); boxes bound it when it is unknown."""
    right = max((s.bbox[2] for s in page.segments), default=1)
    bottom = max((s.bbox[3] for s in page.segments), default=1)
    return (page.width or max(right, 1), page.height or max(bottom, 1))


def annotation_page(page: ExportPage, document: ExportDocument, links: Links) -> AnnotationPage:
    """A page's transcription, translation and reviewers' annotations, on their boxes."""
    target = links.canvas(page)
    items: list[Annotation] = []
    for segment in page.segments:
        items.extend(segment_annotations(segment, document, links, target))
    return AnnotationPage(id=links.annotations(page), items=items)


def segment_annotations(
    segment: ExportSegment, document: ExportDocument, links: Links, canvas_id: str
) -> Iterator[Annotation]:
    """The transcription, the translation (with its language) and the tags of a segment."""
    target = f"{canvas_id}#{_xywh(segment.bbox)}"
    layer = document.options.source
    source = segment.normalized if layer is SourceLayer.NORMALIZED else segment.diplomatic
    yield _supplementing(
        links.annotation(f"s{segment.id}-transcription"), source, document.source_lang, target
    )
    if segment.translation:
        yield _supplementing(
            links.annotation(f"s{segment.id}-translation"),
            segment.translation,
            document.target_lang,
            target,
        )
    words = word_boxes(segment)
    for note in segment.annotations:
        box = _words_box(words, note) if note.layer == "source" else None
        place = f"{canvas_id}#{_xywh(box)}" if box else target
        yield _user_annotation(links.annotation(f"a{note.id}"), note, place)


def _supplementing(annotation_id: str, text: str, language: str, target: str) -> Annotation:
    body = TextualBody(value=text, format=PLAIN, language=language_code(language))
    return Annotation(id=annotation_id, motivation="supplementing", body=body, target=target)


def _user_annotation(annotation_id: str, note: ExportAnnotation, target: str) -> Annotation:
    """A note becomes `commenting`; a person, place, date, … `tagging`, with its note if any."""
    if note.type == "note":
        body = TextualBody(value=note.body or "", format=PLAIN, purpose="commenting")
        return Annotation(id=annotation_id, motivation="commenting", body=body, target=target)
    bodies = [TextualBody(value=note.type, format=PLAIN, purpose="tagging")]
    if note.body:
        bodies.append(TextualBody(value=note.body, format=PLAIN, purpose="commenting"))
    return Annotation(id=annotation_id, motivation="tagging", body=bodies, target=target)


class WordBox(NamedTuple):
    """Where a word sits in the segment's text, and on the page."""

    start: int
    end: int
    bbox: tuple[int, int, int, int]


def word_boxes(segment: ExportSegment) -> list[WordBox]:
    """The OCR words' offsets in the diplomatic text with their boxes; none once the text
    was corrected apart from the words (their offsets no longer hold)."""
    found: list[WordBox] = []
    text, offset = segment.diplomatic, 0
    for i, line in enumerate(segment.lines):
        offset += 1 if i else 0  # the newline between lines
        for j, word in enumerate(line.words):
            offset += 1 if j else 0  # the space between words
            if text[offset : offset + len(word.text)] != word.text:
                return []
            if word.bbox is not None:
                found.append(WordBox(offset, offset + len(word.text), word.bbox))
            offset += len(word.text)
    return found


def _words_box(words: list[WordBox], note: ExportAnnotation) -> tuple[int, int, int, int] | None:
    """The box around the words an annotation covers, if their boxes are known."""
    covered = [w.bbox for w in words if w.start < note.end and note.start < w.end]
    if not covered:
        return None
    return (
        min(b[0] for b in covered),
        min(b[1] for b in covered),
        max(b[2] for b in covered),
        max(b[3] for b in covered),
    )


def _xywh(bbox: tuple[int, int, int, int]) -> str:
    x0, y0, x1, y1 = bbox
    x, y = max(0, x0), max(0, y0)
    return f"xywh={x},{y},{max(1, x1 - x)},{max(1, y1 - y)}"


def serialise(resource: Manifest | AnnotationPage) -> dict[str, Any]:
    """The resource as JSON-LD, with the placeholder base cut from its links."""
    data: dict[str, Any] = json.loads(resource.jsonld())
    return _relative(data) if PLACEHOLDER in data.get("id", "") else data


def dumps(resource: Manifest | AnnotationPage) -> str:
    """The resource as a JSON file's text."""
    return json.dumps(serialise(resource), ensure_ascii=False, indent=1)


def _relative(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _relative(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, key) for v in value]
    if key in LINK_KEYS and isinstance(value, str) and value.startswith(PLACEHOLDER):
        return value[len(PLACEHOLDER) :]
    return value
