"""Recognising uploaded files by their bytes, counting their pages and rendering one page.

Sniffing is cheap and runs in the web process; counting and rendering run in workers.
A PDF is never rendered whole: each page is rasterised on its own at the chosen DPI.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import UnreadableFile

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
        return RenderedPage(_normalise_mode(upright), page_dpi)


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
    return RenderedPage(_normalise_mode(images[0]), dpi)


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


def _normalise_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I"):
        # 16-bit scans: scale to 8 bits rather than letting convert() clip at 255.
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return image.convert("RGB")


# Access copies of scans the browser cannot show (TIFF, PDF pages), colour at full
# resolution (no chroma subsampling): on a page of the 1700s the pixels differ from the
# scan's by 1.7 levels of 255 on average. The uploaded file is kept as it was beside it.
DISPLAY_JPEG_QUALITY = 92


def encode_display(image: Image.Image) -> bytes:
    """Encode the browser's copy of a page: JPEG, or PNG for a black-and-white scan.

    A JPEG of a 300 DPI colour page takes about 1/25 of the time of its PNG and a seventh
    of the space; a black-and-white scan is a small PNG (JPEG would blur its edges).
    """
    shown = _normalise_mode(image)
    if is_bilevel(shown):
        return encode_png(shown.convert("1", dither=Image.Dither.NONE))
    buffer = io.BytesIO()
    shown.save(buffer, format="JPEG", quality=DISPLAY_JPEG_QUALITY, subsampling=0)
    return buffer.getvalue()


def is_bilevel(image: Image.Image) -> bool:
    """True for a grayscale page of black and white only."""
    return image.mode == "L" and not any(image.histogram()[1:255])


def encode_png(image: Image.Image) -> bytes:
    """Encode an image as PNG, losslessly: a black-and-white page as 1 bit a pixel."""
    if is_bilevel(image):
        image = image.convert("1", dither=Image.Dither.NONE)
    if image.mode in _PNG_FORMAT:
        return _png_up_filtered(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


# Pillow mode: (bit depth, PNG colour type). A 1-bit grayscale PNG row packs 8 pixels a
# byte, the first in the highest bit, 1 for white: what np.packbits makes of the booleans.
_PNG_FORMAT = {"1": (1, 0), "L": (8, 0), "RGB": (8, 2)}


def _png_up_filtered(image: Image.Image) -> bytes:
    """A PNG with every row "Up"-filtered, deflated by ISA-L at level 1.

    Pillow tries all five PNG filters on every row and keeps the best, then deflates with
    zlib. On scanned pages always using "Up" makes files of about the same size (within 3 %
    on grayscale pages of ../shared/data) in half the time, and ISA-L's deflate is 4× faster
    than zlib's fastest level for files 2 % smaller (the Fraktur pages of ../shared/data;
    README, "OCR"): an OCR worker stores one such image for every page it deskews or
    filters, every Fraktur page.
    """
    import numpy as np  # not at the top: the web process, which sniffs files, never needs it
    from isal import isal_zlib

    depth, colour = _PNG_FORMAT[image.mode]
    width, height = image.size
    pixels = np.asarray(image)  # booleans for "1": packed below, 6× faster than tobytes()
    rows = np.packbits(pixels, axis=1) if depth == 1 else pixels.reshape(height, -1)
    filtered = np.empty((height, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = 2  # filter type Up: each byte minus the one above it, modulo 256
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", isal_zlib.compress(filtered.tobytes(), 1)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else exc.__class__.__name__
