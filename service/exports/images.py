"""Page images inside exports: their file names and copying them into zips."""

from __future__ import annotations

import shutil
import zipfile

from service.documents.files import SNIFF_BYTES, MediaType, sniff
from service.errors import UnreadableFile
from service.exports.model import ExportPage
from service.storage import Storage

EXTENSIONS = {MediaType.PNG: "png", MediaType.JPEG: "jpg", MediaType.TIFF: "tif"}


def file_name(page: ExportPage, storage: Storage | None) -> str:
    """The page image's name in an export, with the extension of the stored file."""
    extension = "png"
    if page.image_sha256 and storage is not None and storage.exists(page.image_sha256):
        with storage.open(page.image_sha256) as stored:
            try:
                extension = EXTENSIONS.get(sniff(stored.read(SNIFF_BYTES)), "png")
            except UnreadableFile:
                extension = "bin"
    return f"page-{page.number:04d}.{extension}"


def add_to_zip(archive: zipfile.ZipFile, storage: Storage, sha256: str, name: str) -> None:
    """Copy a stored image into the zip without reading it whole (stored, not deflated)."""
    if not storage.exists(sha256):
        return
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_STORED  # scans are already compressed
    with storage.open(sha256) as source, archive.open(info, "w", force_zip64=True) as member:
        shutil.copyfileobj(source, member, 1024 * 1024)
