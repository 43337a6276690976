"""The S3 store against a real S3-compatible server (SeaweedFS) on loopback."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from service.errors import BlobMissing, StorageMisconfigured, StorageUnavailable
from service.storage import LocalStore, store_for_url
from service.storage.cache import BlobCache
from service.storage.s3 import S3Store
from tests.conftest import TEST_ENV
from tests.support.s3server import SeaweedS3, free_ports


@pytest.fixture
def s3_env(s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> SeaweedS3:
    """This process's AWS_* variables point at the server."""
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    return s3_server


def store(server: SeaweedS3, bucket: str, cache: BlobCache | None = None) -> S3Store:
    return S3Store(bucket, "archive/scans", server.endpoint, cache)


def test_blobs_round_trip_through_the_bucket(s3_env: SeaweedS3) -> None:
    bucket = s3_env.new_bucket()
    blobs = store(s3_env, bucket)
    data = os.urandom(3 * 1024 * 1024 + 17)  # more than one chunk and one multipart part
    digest, size = blobs.put_stream(io.BytesIO(data))
    assert (digest, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert blobs.put_bytes(data) == digest  # written once: the same name, no second object
    keys = [o["Key"] for o in s3_env.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"archive/scans/{digest[:2]}/{digest[2:4]}/{digest}"]
    with blobs.open(digest) as stream:
        assert stream.read() == data
    assert list(blobs.digests()) == [(digest, len(data))]
    blobs.delete(digest)
    assert not blobs.exists(digest)


def test_reads_are_cached_on_this_host_within_the_size_bound(
    s3_env: SeaweedS3, tmp_path: Path
) -> None:
    blobs = store(s3_env, s3_env.new_bucket(), BlobCache(tmp_path / "cache", 2_500_000))
    pages = [os.urandom(1_000_000) for _ in range(3)]
    digests = [blobs.put_bytes(page) for page in pages]
    for digest, page in zip(digests, pages, strict=True):
        with blobs.local_file(digest) as path:
            assert path.is_relative_to(tmp_path / "cache")
            assert path.read_bytes() == page
        time.sleep(0.01)  # distinct access times
    cached = {p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert cached == set(digests[1:])  # the least recently read went first
    assert blobs.cache is not None and blobs.cache.size() <= 2_500_000


def test_a_missing_blob_is_named_in_the_error(s3_env: SeaweedS3, tmp_path: Path) -> None:
    blobs = store(s3_env, s3_env.new_bucket(), BlobCache(tmp_path, 10_000_000))
    digest = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(BlobMissing, match=f"{digest[:12]}… is missing from s3://"):
        blobs.open(digest)
    with pytest.raises(BlobMissing), blobs.local_file(digest):
        pass
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no empty file cached


def test_a_bucket_that_does_not_exist_is_named(s3_env: SeaweedS3) -> None:
    # (SeaweedFS, unlike AWS and MinIO, makes the bucket on a first write by an admin key:
    # `storage check` asks for the bucket itself, which every store answers alike.)
    blobs = store(s3_env, "no-such-bucket-here")
    with pytest.raises(StorageMisconfigured, match="bucket 'no-such-bucket-here' does not exist"):
        blobs.check()


def test_wrong_credentials_are_named(s3_env: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_env.new_bucket()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(StorageMisconfigured, match=r"refused the credentials.*AWS_SECRET"):
        store(s3_env, bucket).put_bytes(b"a scan")


def test_an_unreachable_endpoint_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    nobody = f"http://127.0.0.1:{free_ports(1)[0]}"
    with pytest.raises(StorageUnavailable, match=f"{nobody} cannot be reached"):
        S3Store("bucket", "", nobody).put_bytes(b"a scan")


READER = """
import sys
from pathlib import Path
import service.storage.s3 as s3
from service.storage.cache import BlobCache
s3.CHUNK = 256  # a slow reader, so that it is surely killed mid-read
store = s3.S3Store(sys.argv[1], "archive/scans", sys.argv[2], BlobCache(Path(sys.argv[3]), 10**9))
with store.local_file(sys.argv[4]) as path:
    print("read", path, flush=True)
"""


def test_a_reader_killed_mid_read_leaves_no_half_blob(s3_env: SeaweedS3, tmp_path: Path) -> None:
    """A worker killed while it fetches a blob into its cache leaves only a part file:
    the next read fetches the whole blob again, and the part file is cleaned away."""
    bucket = s3_env.new_bucket()
    cache_dir = tmp_path / "cache"
    data = os.urandom(4 * 1024 * 1024)
    digest = store(s3_env, bucket).put_bytes(data)
    args = [bucket, s3_env.endpoint, str(cache_dir), digest]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, *args], env=os.environ | TEST_ENV | s3_env.env
    )
    deadline = time.monotonic() + 60
    while not list(cache_dir.rglob(".part-*")) or not _bytes_in(cache_dir):
        assert reader.poll() is None, "the reader finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    reader.send_signal(signal.SIGKILL)
    reader.wait(timeout=10)
    assert 0 < _bytes_in(cache_dir) < len(data)  # killed mid-read
    assert not (cache_dir / digest[:2] / digest).exists()
    again = store(s3_env, bucket, BlobCache(cache_dir, 10**9))
    with again.local_file(digest) as path:
        assert path.read_bytes() == data
    assert list(cache_dir.rglob(".part-*")) == []  # the dead reader's part is removed


def _bytes_in(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob(".part-*") if p.is_file())


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "service.cli", "--log-level", "warning", *args]
    return subprocess.run(
        command, env=os.environ | TEST_ENV | env, cwd=cwd, capture_output=True, text=True
    )


def test_storage_check_says_what_is_wrong(s3_env: SeaweedS3, tmp_path: Path) -> None:
    bucket = s3_env.new_bucket()
    env = s3_env.env | {"PALIMPSEST_STORAGE_URL": f"s3://{bucket}/p"}
    good = cli("storage", "check", env=env, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert f"s3://{bucket}/p at {s3_env.endpoint} can be written and read" in good.stdout
    env = s3_env.env | {"PALIMPSEST_STORAGE_URL": "s3://absent/p"}
    missing = cli("storage", "check", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert "The bucket 'absent' does not exist" in missing.stderr


def test_migrate_copies_the_disk_store_resumably_and_switches(
    s3_env: SeaweedS3, tmp_path: Path
) -> None:
    """Copy a disk store into a bucket: a first run stopped part way is resumed (what
    arrived is not sent again), every copy is verified, and the env file names the bucket."""
    disk = LocalStore(tmp_path / "storage")
    digests = [disk.put_bytes(os.urandom(50_000 + i)) for i in range(5)]
    bucket = s3_env.new_bucket()
    url = f"s3://{bucket}/palimpsest"
    target = store_for_url(url, s3_env.endpoint)
    for digest in digests[:2]:  # an earlier run copied these before it was stopped
        with disk.open(digest) as stream:
            target.put_stream(stream)
    env = s3_env.env | {"PALIMPSEST_STORAGE_DIR": str(tmp_path / "storage")}
    (tmp_path / ".env").write_text("PALIMPSEST_OCR_DPI=300\n")

    done = cli("storage", "migrate", "--to", url, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 copied" in done.stdout and "2 already there, 0 failed" in done.stdout
    assert sorted(d for d, _ in target.digests()) == sorted(digests)
    for digest in digests:
        with target.open(digest) as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == digest
    lines = (tmp_path / ".env").read_text().splitlines()
    assert lines == [
        "PALIMPSEST_OCR_DPI=300",
        f"PALIMPSEST_STORAGE_URL={url}",
        f"PALIMPSEST_S3_ENDPOINT_URL={s3_env.endpoint}",
    ]
    # The switched configuration reads the store it names (the .env file in this folder).
    checked = cli("storage", "check", env=s3_env.env, cwd=tmp_path)
    assert f"{url} at {s3_env.endpoint} can be written and read" in checked.stdout


def test_migrate_refuses_to_switch_when_a_blob_is_not_what_its_name_says(
    s3_env: SeaweedS3, tmp_path: Path
) -> None:
    disk = LocalStore(tmp_path / "storage")
    good = disk.put_bytes(b"a good scan")
    bad = disk.put_bytes(b"a scan the disk damaged")
    disk.path(bad).write_bytes(b"damaged")
    url = f"s3://{s3_env.new_bucket()}/p"
    env = s3_env.env | {"PALIMPSEST_STORAGE_DIR": str(tmp_path / "storage")}
    done = cli("storage", "migrate", "--to", url, env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert f"failed {bad[:12]}…" in done.stdout and "1 copied" in done.stdout
    assert "not switched" in done.stderr and not (tmp_path / ".env").exists()
    assert [d for d, _ in store_for_url(url, s3_env.endpoint).digests()] == [good]


def test_deleting_a_document_deletes_its_objects(
    s3_env: SeaweedS3, configure: Callable[..., None], tmp_path: Path
) -> None:
    """The upload lands in the bucket before any task is queued (no worker runs here);
    deleting the document removes its objects, and the web host's data dir stays empty."""
    from tests.support.helpers import authed_client, encode, text_image

    bucket = s3_env.new_bucket()
    configure(PALIMPSEST_STORAGE_URL=f"s3://{bucket}/p", PALIMPSEST_DATA_DIR=str(tmp_path))
    client = authed_client()
    scan = encode(text_image([["Le conseil s'est assemblé."]]), "PNG")
    response = client.post(
        "/api/documents",
        data={"source_lang": "fr", "target_lang": "en", "translate": "false"},
        files=[("files", ("minutes.png", scan, "image/png"))],
    )
    assert response.status_code == 202, response.text
    digest = hashlib.sha256(scan).hexdigest()
    blobs = store_for_url(f"s3://{bucket}/p", s3_env.endpoint)
    assert [d for d, _ in blobs.digests()] == [digest]
    assert client.delete(f"/api/documents/{response.json()['id']}").status_code == 204
    assert list(blobs.digests()) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_copy_that_does_not_match_its_name_is_never_cached(
    s3_env: SeaweedS3, tmp_path: Path
) -> None:
    """Bytes fetched are checked against the digest they were asked by: other bytes under
    that key (a damaged object) fail the read, as a transient error, and are not kept."""
    bucket = s3_env.new_bucket()
    blobs = store(s3_env, bucket, BlobCache(tmp_path, 10_000_000))
    digest = hashlib.sha256(b"the real scan").hexdigest()
    s3_env.client().put_object(Bucket=bucket, Key=blobs.key(digest), Body=b"something else")
    with pytest.raises(StorageUnavailable, match="damaged copy"), blobs.local_file(digest):
        pass
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
