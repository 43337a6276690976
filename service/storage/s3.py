"""Blobs in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage, SeaweedFS).

Keys are `<prefix>/ab/cd/<sha256>`, as on disk. The client is boto3 with path-style
addressing when an endpoint is given (what self-hosted stores expect); credentials and
region come from the standard `AWS_*` variables. Reads stream; a host keeps what it read
in a bounded cache on its own disk (`BlobCache`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from service.errors import PalimpsestError, StorageMisconfigured, StorageUnavailable
from service.storage.base import CHUNK, HEX, Storage, check_digest
from service.storage.cache import BlobCache, CorruptBlob
from service.storage.local import copy_hashing, missing

if TYPE_CHECKING:
    from botocore.client import BaseClient

log = logging.getLogger(__name__)

T = TypeVar("T")

DENIED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "Forbidden"}
ABSENT = {"NoSuchKey", "404", "NotFound"}
BUSY = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}


class S3Store(Storage):
    """Blobs in one bucket under one prefix."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        cache: BlobCache | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url or None
        self.cache = cache
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._client: BaseClient | None = None
        self._pid = 0

    @property
    def client(self) -> BaseClient:
        """One boto3 client per process (a forked worker child makes its own)."""
        if self._client is None or self._pid != os.getpid():
            self._client = make_client(self.endpoint_url)
            self._pid = os.getpid()
        return self._client

    def key(self, sha256: str) -> str:
        """The object key of a blob."""
        check_digest(sha256)
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def exists(self, sha256: str) -> bool:
        """Tell whether the object is there (a HEAD request)."""
        try:
            self._call(lambda: self.client.head_object(Bucket=self.bucket, Key=self.key(sha256)))
        except _Absent:
            return False
        return True

    def put_stream(self, stream: IO[bytes], max_bytes: int | None = None) -> tuple[str, int]:
        """Spool to a temporary file while hashing (the key is the digest), then upload it
        unless the object is already there: written once, never overwritten."""
        with tempfile.TemporaryFile(prefix="palimpsest-upload-") as spool:
            digest, size = copy_hashing(stream, spool, max_bytes)
            if not self.exists(digest):
                spool.seek(0)
                key = self.key(digest)
                self._call(lambda: self.client.upload_fileobj(spool, self.bucket, key))
        return digest, size

    def open(self, sha256: str) -> IO[bytes]:
        """The object's body as a stream."""
        key = self.key(sha256)
        try:
            answer = self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=key))
        except _Absent as exc:
            raise missing(sha256, self.url) from exc
        return cast(IO[bytes], answer["Body"])

    @contextlib.contextmanager
    def local_file(self, sha256: str) -> Iterator[Path]:
        """The blob from this host's cache, fetched first if it is not there; without a
        cache, a temporary file removed afterwards."""
        if self.cache is not None:
            yield self._call(lambda: self.cache_fetch(sha256))
            return
        with tempfile.NamedTemporaryFile(prefix="palimpsest-blob-") as spool:
            self.download(sha256, spool)
            spool.flush()
            yield Path(spool.name)

    def cache_fetch(self, sha256: str) -> Path:
        """The cached copy (the caller translates errors)."""
        assert self.cache is not None
        return self.cache.fetch(sha256, lambda out: self.download(sha256, out))

    def download(self, sha256: str, out: IO[bytes]) -> None:
        """Stream the object into `out` chunk by chunk."""
        with contextlib.closing(self.open(sha256)) as body:
            self._call(lambda: _copy(body, out))

    def delete(self, sha256: str) -> None:
        """Remove the object (absent is fine)."""
        key = self.key(sha256)
        self._call(lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    def digests(self) -> Iterator[tuple[str, int]]:
        """Every blob under the prefix with its size, in key order."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in self._call(lambda: list(pages)):
            for item in page.get("Contents", []):
                name = str(item["Key"]).rsplit("/", 1)[-1]
                if len(name) == 64 and set(name) <= HEX:
                    yield name, int(item["Size"])

    def check(self) -> None:
        """The bucket exists and the credentials may write, read and delete in it."""
        self._call(lambda: self.client.head_bucket(Bucket=self.bucket))
        super().check()

    def _call(self, action: Callable[[], T]) -> T:
        """Run a client call; its failures become the storage errors users read."""
        try:
            return action()
        except PalimpsestError:
            raise
        except Exception as exc:
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc

    def _translate(self, exc: Exception) -> Exception:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = self.endpoint_url or "AWS S3"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code == "NoSuchBucket" or (code == "404" and _is_bucket_call(exc)):
                return StorageMisconfigured(
                    f"The bucket {self.bucket!r} does not exist at {where}: create it, "
                    "or correct PALIMPSEST_STORAGE_URL."
                )
            if code in ABSENT:
                return _Absent(code)
            if code in DENIED or status == "403":
                key_id = os.environ.get("AWS_ACCESS_KEY_ID", "(none set)")
                return StorageMisconfigured(
                    f"The object store at {where} refused the credentials (access key "
                    f"{key_id!r}, {code}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
                )
            if code in BUSY or status.startswith("5"):
                return StorageUnavailable(f"The object store at {where} is busy ({code}).")
            return StorageMisconfigured(f"The object store at {where} answered {code}: {exc}")
        if isinstance(exc, CorruptBlob):  # cut short or damaged on the way: fetch again
            return StorageUnavailable(f"The object store at {where} sent a damaged copy: {exc}")
        if isinstance(exc, NoCredentialsError):
            return StorageMisconfigured(
                f"No credentials for the object store at {where}: "
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
            )
        if isinstance(exc, (BotoCoreError, OSError, *_transport_errors())):
            return StorageUnavailable(
                f"The object store at {where} cannot be reached: {type(exc).__name__}: {exc}"
            )
        return exc


class _Absent(Exception):
    """The object (not the bucket) is not there."""


def _is_bucket_call(exc: Any) -> bool:
    return getattr(exc, "operation_name", "") == "HeadBucket"


def _copy(body: IO[bytes], out: IO[bytes]) -> None:
    while chunk := body.read(CHUNK):
        out.write(chunk)


def _transport_errors() -> tuple[type[Exception], ...]:
    from urllib3.exceptions import HTTPError

    return (HTTPError,)


def make_client(endpoint_url: str | None) -> BaseClient:
    """A boto3 S3 client: standard retries of transient failures, short connect timeout."""
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(
        retries={"max_attempts": 4, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        s3={"addressing_style": "path"} if endpoint_url else {},
        signature_version="s3v4",
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )
