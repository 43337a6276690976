import hashlib
import io
from pathlib import Path

import pytest

from service.storage import LocalStore, TooLarge


def test_blobs_are_named_by_their_sha256(tmp_path: Path) -> None:
    storage = LocalStore(tmp_path)
    digest, size = storage.put_stream(io.BytesIO(b"scan bytes"))
    assert digest == hashlib.sha256(b"scan bytes").hexdigest()
    assert size == 10
    assert storage.path(digest).read_bytes() == b"scan bytes"
    # Readable by the service user only: the file and every folder above it in storage.
    assert storage.path(digest).stat().st_mode & 0o077 == 0
    assert storage.path(digest).parent.stat().st_mode & 0o077 == 0
    assert storage.path(digest).parent.parent.stat().st_mode & 0o077 == 0


def test_the_same_content_is_stored_once(tmp_path: Path) -> None:
    storage = LocalStore(tmp_path)
    first = storage.put_bytes(b"same")
    second, _ = storage.put_stream(io.BytesIO(b"same"))
    assert first == second
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_a_stream_over_the_limit_stores_nothing(tmp_path: Path) -> None:
    storage = LocalStore(tmp_path)
    with pytest.raises(TooLarge):
        storage.put_stream(io.BytesIO(b"x" * 5000), max_bytes=1000)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_paths_come_only_from_digests(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha256"):
        LocalStore(tmp_path).path("../../etc/passwd")


def test_the_storage_url_picks_the_store(tmp_path: Path) -> None:
    from service.config import Settings
    from service.storage import store_for_url
    from service.storage.s3 import S3Store

    local = store_for_url((tmp_path / "blobs").as_uri())
    assert isinstance(local, LocalStore) and local.root == tmp_path / "blobs"
    bucket = store_for_url("s3://archive/palimpsest/blobs/", "http://127.0.0.1:9000")
    assert isinstance(bucket, S3Store)
    assert (bucket.bucket, bucket.prefix, bucket.url) == (
        "archive",
        "palimpsest/blobs",
        "s3://archive/palimpsest/blobs",
    )
    assert bucket.key("ab" * 32).startswith("palimpsest/blobs/ab/ab/abab")
    with pytest.raises(ValueError, match="file:///path or s3://bucket/prefix"):
        store_for_url("ftp://host/blobs")
    with pytest.raises(ValueError, match="name the bucket"):
        store_for_url("s3:///prefix")
    # Unset, the store is the folder under the data dir, as before.
    settings = Settings(data_dir=tmp_path)
    assert settings.storage_location == (tmp_path / "storage").as_uri()
    assert Settings(data_dir=tmp_path, storage_url="s3://b/p").storage_location == "s3://b/p"
