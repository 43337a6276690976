"""Recognising uploaded files by their bytes, counting their pages and rendering one page.

Sniffing is cheap and runs in the web process; counting and rendering run in workers.
A PDF is never rendered whole: each page is rasterised on its own at the chosen DPI.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import UnreadableFile
from service.imaging import encode_display, normalise_mode

SNIFF_BYTES = 1024


class MediaType(StrEnum):
    """File types accepted for upload."""

    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    PDF = "application/pdf"


BROWSER_IMAGES = {MediaType.PNG, MediaType.JPEG}


@dataclass(frozen=True)
class RenderedPage:
    """One page as an image ready for OCR and display."""

    image: Image.Image
    dpi: int | None


def sniff(head: bytes) -> MediaType:
    """Return the media type from a file's first bytes, or raise with a readable reason."""
    if not head:
        raise UnreadableFile("The file is empty.")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return MediaType.TIFF
    if b"%PDF-" in head[:SNIFF_BYTES]:
        return MediaType.PDF
    raise UnreadableFile(
        f"Not a supported file type ({_describe(head)}); upload PNG, JPEG, TIFF or PDF scans."
    )


def _describe(head: bytes) -> str:
    sample = head[:SNIFF_BYTES]
    if not sample.strip(b"\x00"):
        return "it holds only zero bytes"
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary content"
    if any(c < " " and c not in "\t\n\r\f" for c in text):
        return "unrecognised binary content"  # NUL and other controls are not text
    return "it looks like text"


def count_pages(path: Path, media_type: MediaType) -> int:
    """Return how many pages the file has, or raise UnreadableFile saying why."""
    if media_type is MediaType.PDF:
        return _count_pdf_pages(path)
    with _decoding(), _open_image(path) as image:
        return int(getattr(image, "n_frames", 1))


@contextmanager
def _decoding() -> Iterator[None]:
    """Whatever Pillow raises on a hostile or damaged file is that file's fault: a truncated
    multi-page TIFF raises TypeError ("Missing dimensions") when it seeks to a lost frame."""
    try:
        yield
    except UnreadableFile:
        raise
    except Exception as exc:
        reason = f"The image cannot be decoded (corrupt or truncated file): {_first_line(exc)}"
        raise UnreadableFile(reason) from exc


def decode_for_display(path: Path, media_type: MediaType) -> tuple[tuple[int, int], bytes | None]:
    """Decode an image's first frame whole (proving it is readable): its size, and the
    browser's copy of it when the browser cannot show the file itself (TIFF)."""
    with _decoding(), _open_image(path) as image:
        image.load()
        if media_type in BROWSER_IMAGES:
            return image.size, None
        return image.size, encode_display(image)


def _count_pdf_pages(path: Path) -> int:
    from pdf2image import pdfinfo_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    try:
        info = pdfinfo_from_path(str(path), timeout=60)
    except PDFInfoNotInstalledError as exc:
        raise RuntimeError("poppler-utils (pdfinfo) is not installed") from exc
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise UnreadableFile(f"The PDF cannot be read: {_first_line(exc)}") from exc
    pages = int(info.get("Pages", 0))
    if pages < 1:
        raise UnreadableFile("The PDF has no pages.")
    return pages


def render_page(path: Path, media_type: MediaType, index: int, dpi: int) -> RenderedPage:
    """Render page `index` (0-based) of a file as an upright RGB or grayscale image."""
    if media_type is MediaType.PDF:
        return _render_pdf_page(path, index, dpi)
    with _open_image(path) as image:
        try:
            image.seek(index)
            image.load()
        except Exception as exc:  # any decoder error: a damaged page fails alone
            reason = f"Page {index + 1} of the image cannot be decoded: {_first_line(exc)}"
            raise UnreadableFile(reason) from exc
        page_dpi = _image_dpi(image)
        upright = ImageOps.exif_transpose(image) or image
        return RenderedPage(normalise_mode(upright), page_dpi)


def _render_pdf_page(path: Path, index: int, dpi: int) -> RenderedPage:
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    try:
        images = convert_from_path(
            str(path), dpi=dpi, first_page=index + 1, last_page=index + 1, timeout=300
        )
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise UnreadableFile(
            f"PDF page {index + 1} cannot be rendered: {_first_line(exc)}"
        ) from exc
    if not images:
        raise UnreadableFile(f"PDF page {index + 1} cannot be rendered (poppler gave no image).")
    return RenderedPage(normalise_mode(images[0]), dpi)


def header_size(path: Path | IO[bytes], media_type: MediaType) -> tuple[int, int] | None:
    """Width and height of an image's largest frame read from its header, without
    Pillow's decompression-bomb check (which would refuse it with its own wording before
    our limit could be told in words), or None for a PDF or a header that cannot be read."""
    from PIL import JpegImagePlugin, PngImagePlugin, TiffImagePlugin

    readers: dict[MediaType, Callable[[str | IO[bytes]], Image.Image]] = {
        MediaType.PNG: PngImagePlugin.PngImageFile,
        MediaType.JPEG: JpegImagePlugin.JpegImageFile,
        MediaType.TIFF: TiffImagePlugin.TiffImageFile,
    }
    reader = readers.get(media_type)
    if reader is None:
        return None
    try:
        with reader(str(path) if isinstance(path, Path) else path) as image:
            sizes = []
            for index in range(int(getattr(image, "n_frames", 1))):
                image.seek(index)
                sizes.append(image.size)
    except Exception:  # any header Pillow cannot read is refused later, with its reason
        return None
    return max(sizes, key=lambda size: size[0] * size[1])


def too_many_pixels(size: tuple[int, int], limit: int) -> str:
    """Why an image over the pixel limit is refused, the limit in words."""
    width, height = size
    return (
        f"The image is {width:,} × {height:,} pixels ({_millions(width * height)}); "
        f"the limit is {_millions(limit)} per image (PALIMPSEST_MAX_IMAGE_PIXELS), a "
        "safeguard against images made to exhaust memory. Scan at a lower resolution, or "
        "ask the administrator to raise the limit."
    )


def _millions(pixels: int) -> str:
    return f"{pixels / 1e6:,.0f} million pixels" if pixels >= 1e6 else f"{pixels:,} pixels"


def configure_pixel_limit(max_pixels: int) -> None:
    """Refuse images above this many pixels outright (Pillow only warns below twice its limit)."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def _open_image(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except UnidentifiedImageError as exc:
        raise UnreadableFile("The image cannot be decoded (corrupt or truncated file).") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableFile(f"The image is too large to process safely: {exc}") from exc


def _image_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    value = round(float(dpi[0]))
    return value if value > 1 else None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else exc.__class__.__name__
