"""Local mode specifics: the on-disk layout jobs see, path safety, loopback URLs, documented deviations."""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from batchai_compat import _home
from batchai_compat.exceptions import BatchAICompatWarning
from batchai_compat.storage import (
    AzureConflictHttpError,
    AzureHttpError,
    AzureMissingResourceHttpError,
    BlobPermissions,
    BlockBlobService,
    ContentSettings,
    FilePermissions,
    FileService,
)

from .conftest import ACCOUNT, ACCOUNT_KEY


@pytest.fixture
def blobs(home: Path) -> BlockBlobService:
    service = BlockBlobService(ACCOUNT, ACCOUNT_KEY)
    service.create_container("data")
    return service


@pytest.fixture
def files(home: Path) -> FileService:
    service = FileService(ACCOUNT, ACCOUNT_KEY)
    service.create_share("afs")
    return service


def test_blobs_land_where_jobs_mount_the_container(blobs: BlockBlobService, home: Path) -> None:
    blobs.create_blob_from_text("data", "mnist/train/images.idx", "pixels")
    root = _home.container_path(ACCOUNT, "data", home)
    assert root == home / "storage" / ACCOUNT / "blobs" / "data"
    assert (root / "mnist" / "train" / "images.idx").read_text() == "pixels"
    # ...and what a job writes there is a blob.
    (root / "outputs").mkdir()
    (root / "outputs" / "model.pt").write_bytes(b"weights")
    assert blobs.get_blob_to_bytes("data", "outputs/model.pt").content == b"weights"
    assert "outputs/model.pt" in list(blobs.list_blob_names("data"))


def test_files_land_where_jobs_mount_the_share(files: FileService, home: Path) -> None:
    files.create_directory("afs", "scripts")
    files.create_file_from_text("afs", "scripts", "train.py", "print('hi')")
    root = _home.share_path(ACCOUNT, "afs", home)
    assert (root / "scripts" / "train.py").read_text() == "print('hi')"
    (root / "outputs").mkdir()
    (root / "outputs" / "log.txt").write_text("done")
    assert files.get_file_to_text("afs", "outputs", "log.txt").content == "done"


def test_uploads_are_atomic_and_leave_no_temp_files(blobs: BlockBlobService, home: Path) -> None:
    blobs.create_blob_from_bytes("data", "x.bin", b"1" * 1000)
    blobs.create_blob_from_bytes("data", "x.bin", b"2" * 10)
    root = _home.container_path(ACCOUNT, "data", home)
    assert sorted(os.listdir(root)) == ["x.bin"]
    # A temp file a crashed upload left behind is not a blob.
    (root / ".batchai-upload-abc").write_bytes(b"partial")
    assert list(blobs.list_blob_names("data")) == ["x.bin"]


@pytest.mark.parametrize("name", ["../escape.txt", "a/../../b", "a//b", "/abs", "a/./b", "dir/"])
def test_blob_names_that_are_not_paths_are_refused(blobs: BlockBlobService, home: Path, name: str) -> None:
    with pytest.raises(AzureHttpError) as err:
        blobs.create_blob_from_text("data", name, "x")
    assert err.value.status_code == 400
    assert not (home / "storage" / ACCOUNT / "blobs" / "escape.txt").exists()
    assert not (home / "storage" / ACCOUNT / "blobs" / "b").exists()


@pytest.mark.parametrize("directory, name", [("..", "x"), ("a/../..", "x"), (None, "../x"), (None, "a/b")])
def test_file_paths_that_escape_are_refused(files: FileService, directory: str, name: str) -> None:
    with pytest.raises(AzureHttpError) as err:
        files.create_file_from_text("afs", directory, name, "x")
    assert err.value.status_code == 400


def test_symlink_out_of_the_container_is_refused(blobs: BlockBlobService, home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = _home.container_path(ACCOUNT, "data", home)
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(AzureHttpError) as err:
        blobs.get_blob_to_bytes("data", "link/secret.txt")
    assert err.value.status_code == 403
    with pytest.raises(AzureHttpError):
        blobs.create_blob_from_text("data", "link/planted.txt", "x")
    with pytest.raises(AzureHttpError) as err:
        blobs.create_blob_from_text("data", "link/new/dir/planted.txt", "x")
    assert err.value.status_code == 403
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert "link/secret.txt" not in list(blobs.list_blob_names("data"))


def test_blob_and_virtual_directory_of_the_same_name_conflict(blobs: BlockBlobService) -> None:
    blobs.create_blob_from_text("data", "a", "file")
    with pytest.raises(AzureConflictHttpError):
        blobs.create_blob_from_text("data", "a/b", "nested")
    blobs.create_blob_from_text("data", "d/e", "nested")
    with pytest.raises(AzureConflictHttpError):
        blobs.create_blob_from_text("data", "d", "file")


def test_invalid_container_names(home: Path) -> None:
    service = BlockBlobService(ACCOUNT, ACCOUNT_KEY)
    for name in ("UPPER", "bad_name", "x"):
        with pytest.raises(AzureHttpError) as err:
            service.create_container(name)
        assert err.value.status_code == 400


def test_metadata_and_content_settings_warn(blobs: BlockBlobService, files: FileService) -> None:
    with pytest.warns(BatchAICompatWarning, match="metadata"):
        blobs.create_blob_from_text("data", "m.txt", "x", metadata={"k": "v"})
    with pytest.warns(BatchAICompatWarning, match="content settings"):
        blobs.create_blob_from_text("data", "m.txt", "x", content_settings=ContentSettings(content_type="text/plain"))
    with pytest.warns(BatchAICompatWarning, match="quota"):
        files.create_share("quota", quota=10)
    with pytest.warns(BatchAICompatWarning, match="lease_id"):
        blobs.delete_blob("data", "m.txt", lease_id="abc")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blobs.create_blob_from_text("data", "plain.txt", "x")


def test_snapshots_do_not_exist_locally(blobs: BlockBlobService, files: FileService) -> None:
    blobs.create_blob_from_text("data", "s.txt", "x")
    assert blobs.exists("data", "s.txt", snapshot="2018-01-01T00:00:00Z") is False
    with pytest.raises(AzureMissingResourceHttpError):
        blobs.get_blob_to_bytes("data", "s.txt", snapshot="2018-01-01T00:00:00Z")
    with pytest.raises(AzureMissingResourceHttpError):
        files.get_share_properties("afs", snapshot="2018-01-01T00:00:00Z")


def test_file_sas_url_is_a_loopback_download(files: FileService, home: Path) -> None:
    files.create_directory("afs", "out")
    files.create_file_from_text("afs", "out", "result.txt", "42")
    sas = files.generate_file_shared_access_signature("afs", "out", "result.txt", permission=FilePermissions.READ,
                                                      expiry=datetime.now(timezone.utc) + timedelta(minutes=30))
    url = files.make_file_url("afs", "out", "result.txt", sas_token=sas)
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(url, timeout=10).text == "42"
    share_sas = files.generate_share_shared_access_signature("afs", permission="r",
                                                             expiry=datetime.now(timezone.utc) + timedelta(minutes=30))
    assert requests.get(files.make_file_url("afs", "out", "result.txt", sas_token=share_sas), timeout=10).text == "42"


def test_local_sas_token_shape(blobs: BlockBlobService) -> None:
    sas = blobs.generate_blob_shared_access_signature(
        "data", "x.txt", permission=BlobPermissions.READ + BlobPermissions.WRITE,
        expiry=datetime(2030, 1, 2, 3, 4, 5), start="2020-01-01", content_type="text/plain")
    fields = dict(p.split("=", 1) for p in sas.split("&"))
    assert fields["se"] == "2030-01-02T03%3A04%3A05Z"
    assert fields["st"] == "2020-01-01"
    assert fields["sp"] == "rw"
    assert fields["sr"] == "b"
    assert fields["rsct"] == "text%2Fplain"
    assert fields["sv"] and fields["sig"]


def test_plain_urls_are_the_canonical_account_urls(blobs: BlockBlobService, files: FileService) -> None:
    assert blobs.make_blob_url("data", "a b/c.txt") == f"https://{ACCOUNT}.blob.core.windows.net/data/a%20b/c.txt"
    assert files.make_file_url("afs", "d", "f.txt", protocol="http") == f"http://{ACCOUNT}.file.core.windows.net/afs/d/f.txt"
    assert blobs.make_container_url("data") == f"https://{ACCOUNT}.blob.core.windows.net/data?restype=container"


def test_list_pages_with_markers(blobs: BlockBlobService, files: FileService) -> None:
    for i in range(7):
        blobs.create_blob_from_text("data", f"n{i}", str(i))
        files.create_file_from_text("afs", None, f"f{i}", str(i))
    seen, marker = [], None
    while True:
        page = blobs.list_blobs("data", num_results=3, marker=marker)
        seen.extend(b.name for b in page)
        marker = page.next_marker
        if not marker:
            break
    assert seen == [f"n{i}" for i in range(7)]
    page = files.list_directories_and_files("afs", num_results=4)
    assert [e.name for e in page] == ["f0", "f1", "f2", "f3"]
    assert [e.name for e in files.list_directories_and_files("afs", marker=page.next_marker)] == ["f4", "f5", "f6"]


def test_list_containers_and_shares(blobs: BlockBlobService, files: FileService) -> None:
    blobs.create_container("second")
    assert [c.name for c in blobs.list_containers()] == ["data", "second"]
    assert [s.name for s in files.list_shares()] == ["afs"]
