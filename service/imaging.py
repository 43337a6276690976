"""Encoding page images: the browser's copy of a scan and lossless PNGs of prepared pages.

Shared by documents (ingest) and OCR (the pages it deskews or filters).
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def normalise_mode(image: Image.Image) -> Image.Image:
    """The image as 8-bit grayscale or RGB, the modes OCR and the browser copy work on."""
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

    A JPEG of a colour page takes a small part of the time and space of its PNG; a
    black-and-white scan is a small PNG (JPEG would blur its edges).
    """
    shown = normalise_mode(image)
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
    zlib. On scanned pages always using "Up" makes files of about the same size in much
    less time, and ISA-L's deflate beats zlib's fastest level on both time and size
    (README, "OCR"): an OCR worker stores one such image for every page it deskews or
    filters, every Fraktur page.
    """
    import numpy as np  # not at the top: the web process, which sniffs files, never needs it
    from isal import isal_zlib

    depth, colour = _PNG_FORMAT[image.mode]
    width, height = image.size
    pixels = np.asarray(image)  # booleans for "1": packed below, cheaper than tobytes()
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
