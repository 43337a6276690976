"""Where uploads and page images live: one small interface, two stores.

`PALIMPSEST_STORAGE_URL` picks the store: `file:///var/lib/palimpsest/data/storage` (the
default, under `PALIMPSEST_DATA_DIR`) or `s3://bucket/prefix` for S3-compatible object
storage (endpoint from `PALIMPSEST_S3_ENDPOINT_URL`, credentials from `AWS_*`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from service.config import Settings
from service.errors import BlobMissing, StorageMisconfigured, StorageUnavailable
from service.storage.base import Storage, TooLarge, human_bytes
from service.storage.cache import BlobCache
from service.storage.local import LocalStore, write_atomically

__all__ = [
    "BlobMissing",
    "LocalStore",
    "Storage",
    "StorageMisconfigured",
    "StorageUnavailable",
    "TooLarge",
    "get_storage",
    "human_bytes",
    "open_storage",
    "store_for_url",
    "write_atomically",
]


def store_for_url(
    url: str, endpoint_url: str = "", cache_dir: Path | None = None, cache_bytes: int = 0
) -> Storage:
    """The store a `file://` or `s3://` URL names (a ValueError says what is wrong)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"{url!r}: a file URL names a local folder, file:///path")
        return LocalStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"{url!r}: name the bucket, s3://bucket/prefix")
        from service.storage.s3 import S3Store

        cache = BlobCache(cache_dir, cache_bytes) if cache_dir and cache_bytes > 0 else None
        return S3Store(parts.netloc, parts.path, endpoint_url or None, cache)
    raise ValueError(f"{url!r}: storage URLs are file:///path or s3://bucket/prefix")


def open_storage(settings: Settings) -> Storage:
    """The store the settings name (one per process and configuration)."""
    return _cached(
        settings.storage_location,
        settings.s3_endpoint_url,
        settings.cache_path,
        settings.cache_max_bytes,
    )


@lru_cache(maxsize=8)
def _cached(url: str, endpoint: str, cache_dir: Path, cache_bytes: int) -> Storage:
    return store_for_url(url, endpoint, cache_dir, cache_bytes)


def get_storage() -> Storage:
    """Return the storage configured in settings."""
    from service.config import get_settings

    return open_storage(get_settings())
