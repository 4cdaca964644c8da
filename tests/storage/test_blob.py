"""``BlockBlobService``: every test runs in local mode and against Azurite (remote mode)."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Tuple

import pytest
import requests

from batchai_compat.storage import (
    AzureConflictHttpError,
    AzureHttpError,
    AzureMissingResourceHttpError,
    Blob,
    BlobPermissions,
    BlobPrefix,
    BlockBlobService,
    ContainerPermissions,
    ResourceProperties,
)

DATA = bytes(range(256)) * 4 + b"tail"  # 1028 bytes


def test_container_lifecycle(blob_service: BlockBlobService) -> None:
    name = "c" + uuid.uuid4().hex[:12]
    assert blob_service.exists(name) is False
    assert blob_service.create_container(name) is True
    assert blob_service.exists(name) is True
    assert blob_service.create_container(name) is False
    with pytest.raises(AzureConflictHttpError) as conflict:
        blob_service.create_container(name, fail_on_exist=True)
    assert conflict.value.status_code == 409
    assert "ContainerAlreadyExists" in str(conflict.value)
    assert name in [c.name for c in blob_service.list_containers(prefix=name)]
    assert blob_service.get_container_properties(name).properties.etag
    assert blob_service.delete_container(name) is True
    assert blob_service.exists(name) is False
    assert blob_service.delete_container(name) is False
    with pytest.raises(AzureMissingResourceHttpError) as missing:
        blob_service.delete_container(name, fail_not_exist=True)
    assert missing.value.status_code == 404
    assert isinstance(missing.value, AzureHttpError)


def test_bytes_round_trip_with_properties(blob_service: BlockBlobService, container: str) -> None:
    result = blob_service.create_blob_from_bytes(container, "data.bin", DATA)
    assert isinstance(result, ResourceProperties)
    assert result.etag and result.last_modified is not None
    assert blob_service.exists(container, "data.bin") is True
    blob = blob_service.get_blob_to_bytes(container, "data.bin")
    assert isinstance(blob, Blob)
    assert blob.name == "data.bin"
    assert blob.content == DATA
    assert blob.properties.content_length == len(DATA)
    assert blob.properties.blob_type == "BlockBlob"
    props = blob_service.get_blob_properties(container, "data.bin")
    assert props.properties.content_length == len(DATA)
    assert props.content is None


def test_bytes_index_and_count(blob_service: BlockBlobService, container: str) -> None:
    blob_service.create_blob_from_bytes(container, "slice.bin", DATA, index=10, count=20)
    assert blob_service.get_blob_to_bytes(container, "slice.bin").content == DATA[10:30]


def test_text_round_trip_and_overwrite(blob_service: BlockBlobService, container: str) -> None:
    blob_service.create_blob_from_text(container, "notes.txt", "héllo wörld")
    assert blob_service.get_blob_to_text(container, "notes.txt").content == "héllo wörld"
    blob_service.create_blob_from_text(container, "notes.txt", "latin-1 ü", encoding="latin-1")
    blob = blob_service.get_blob_to_text(container, "notes.txt", encoding="latin-1")
    assert blob.content == "latin-1 ü"
    assert blob.properties.content_length == len("latin-1 ü".encode("latin-1"))


def test_path_and_stream(blob_service: BlockBlobService, container: str, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(DATA)
    blob_service.create_blob_from_path(container, "dir/sub/in.bin", str(source))
    target = tmp_path / "out.bin"
    blob = blob_service.get_blob_to_path(container, "dir/sub/in.bin", str(target))
    assert target.read_bytes() == DATA
    assert blob.properties.content_length == len(DATA)

    blob_service.create_blob_from_stream(container, "streamed.bin", io.BytesIO(DATA))
    out = io.BytesIO()
    blob_service.get_blob_to_stream(container, "streamed.bin", out)
    assert out.getvalue() == DATA
    blob_service.create_blob_from_stream(container, "counted.bin", io.BytesIO(DATA), count=100)
    assert blob_service.get_blob_to_bytes(container, "counted.bin").content == DATA[:100]


def test_missing_blob_does_not_create_the_target_file(blob_service: BlockBlobService, container: str,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "never.bin"
    with pytest.raises(AzureMissingResourceHttpError) as err:
        blob_service.get_blob_to_path(container, "nope.bin", str(target))
    assert err.value.status_code == 404
    assert "BlobNotFound" in str(err.value)
    assert not target.exists()
    with pytest.raises(AzureMissingResourceHttpError):
        blob_service.get_blob_properties(container, "nope.bin")
    assert blob_service.exists(container, "nope.bin") is False


def test_missing_container(blob_service: BlockBlobService) -> None:
    with pytest.raises(AzureMissingResourceHttpError) as err:
        blob_service.create_blob_from_bytes("missing" + uuid.uuid4().hex[:8], "x", b"x")
    assert "ContainerNotFound" in str(err.value)
    with pytest.raises(AzureMissingResourceHttpError):
        blob_service.list_blobs("missing" + uuid.uuid4().hex[:8])  # first page is fetched by the call
    assert blob_service.exists("missing" + uuid.uuid4().hex[:8], "x") is False


def test_ranges(blob_service: BlockBlobService, container: str) -> None:
    blob_service.create_blob_from_bytes(container, "r.bin", DATA)
    blob = blob_service.get_blob_to_bytes(container, "r.bin", start_range=2, end_range=5)
    assert blob.content == DATA[2:6]
    blob = blob_service.get_blob_to_bytes(container, "r.bin", start_range=1000)
    assert blob.content == DATA[1000:]


def test_progress_callbacks(blob_service: BlockBlobService, container: str) -> None:
    payload = DATA * 5000  # ~5 MB: more than one local chunk
    calls: List[Tuple[int, int]] = []
    blob_service.create_blob_from_bytes(container, "big.bin", payload,
                                        progress_callback=lambda cur, tot: calls.append((cur, tot)))
    assert calls and calls[-1] == (len(payload), len(payload))
    assert [c for c, _ in calls] == sorted(c for c, _ in calls)
    calls.clear()
    blob_service.get_blob_to_bytes(container, "big.bin", progress_callback=lambda cur, tot: calls.append((cur, tot)))
    assert calls and calls[-1] == (len(payload), len(payload))


def test_list_blobs_prefix_delimiter_and_paging(blob_service: BlockBlobService, container: str) -> None:
    names = ["a.txt", "dir/b.txt", "dir/c.txt", "dir/deep/d.txt", "e.txt"]
    for name in names:
        blob_service.create_blob_from_text(container, name, name)
    listed = list(blob_service.list_blobs(container))
    assert [b.name for b in listed] == names
    assert [b.properties.content_length for b in listed] == [len(n) for n in names]
    assert [b.name for b in blob_service.list_blobs(container, prefix="dir/")] == names[1:4]
    assert list(blob_service.list_blob_names(container, prefix="dir/d")) == ["dir/deep/d.txt"]

    top = list(blob_service.list_blobs(container, delimiter="/"))
    # Within a page, virtual directories come first (as the service and the 2.x SDK returned them).
    assert [(type(x).__name__, x.name) for x in top] == [("BlobPrefix", "dir/"), ("Blob", "a.txt"), ("Blob", "e.txt")]
    inner = list(blob_service.list_blobs(container, prefix="dir/", delimiter="/"))
    assert [x.name for x in inner] == ["dir/deep/", "dir/b.txt", "dir/c.txt"]
    assert isinstance(inner[0], BlobPrefix)

    first = blob_service.list_blobs(container, num_results=2)
    assert [b.name for b in first] == names[:2]
    assert first.next_marker
    rest = blob_service.list_blobs(container, marker=first.next_marker)
    assert [b.name for b in rest] == names[2:]


def test_delete_blob(blob_service: BlockBlobService, container: str) -> None:
    blob_service.create_blob_from_text(container, "gone/x.txt", "x")
    assert blob_service.delete_blob(container, "gone/x.txt") is None
    assert blob_service.exists(container, "gone/x.txt") is False
    with pytest.raises(AzureMissingResourceHttpError) as err:
        blob_service.delete_blob(container, "gone/x.txt")
    assert err.value.status_code == 404


def test_sas_url_downloads_until_expiry(blob_service: BlockBlobService, container: str) -> None:
    blob_service.create_blob_from_bytes(container, "dir/shared file.bin", DATA)
    expiry = datetime.now(timezone.utc) + timedelta(hours=1)
    sas = blob_service.generate_blob_shared_access_signature(container, "dir/shared file.bin",
                                                             permission=BlobPermissions.READ, expiry=expiry)
    assert "sig=" in sas and "se=" in sas and "sp=r" in sas
    url = blob_service.make_blob_url(container, "dir/shared file.bin", sas_token=sas)
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert response.content == DATA

    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    expired = blob_service.generate_blob_shared_access_signature(container, "dir/shared file.bin",
                                                                 permission=BlobPermissions.READ, expiry=past)
    assert requests.get(blob_service.make_blob_url(container, "dir/shared file.bin", sas_token=expired),
                        timeout=30).status_code == 403


def test_container_sas_and_plain_url(blob_service: BlockBlobService, container: str) -> None:
    sas = blob_service.generate_container_shared_access_signature(
        container, permission=ContainerPermissions.READ + ContainerPermissions.LIST,
        expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    assert "sp=rl" in sas and "sr=c" in sas
    blob_service.create_blob_from_text(container, "x.txt", "x")
    assert requests.get(blob_service.make_blob_url(container, "x.txt", sas_token=sas), timeout=30).text == "x"
    plain = blob_service.make_blob_url(container, "x.txt")
    assert plain.endswith(f"/{container}/x.txt")
    assert plain.startswith(blob_service.protocol + "://")


def test_account_sas_shape(blob_service: BlockBlobService) -> None:
    from batchai_compat.storage import AccountPermissions, ResourceTypes

    sas = blob_service.generate_account_shared_access_signature(
        ResourceTypes.OBJECT + ResourceTypes.CONTAINER, AccountPermissions.READ,
        datetime.now(timezone.utc) + timedelta(hours=1))
    assert "srt=co" in sas and "sp=r" in sas and "sig=" in sas
