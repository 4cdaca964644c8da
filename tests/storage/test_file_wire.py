"""Remote ``FileService``: the exact Azure Files REST requests the v12 client sends on our behalf.

There is no Azure Files emulator, so these assertions against the loopback recorder
(``fake_files.py``) are the remote file-share path's evidence; they follow the Azure Files REST
reference (Create Share, Create Directory, Create File + Put Range, Get File, Get File Properties,
List Directories and Files, Delete File/Directory/Share).
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import pytest

from batchai_compat.storage import AzureHttpError, FileService

from .conftest import ACCOUNT, ACCOUNT_KEY
from .fake_files import FakeFileShareServer, Recorded


@pytest.fixture
def recorder(fake_files: FakeFileShareServer, home) -> FakeFileShareServer:  # type: ignore[no-untyped-def]
    fake_files.clear()
    return fake_files


def _service(fake: FakeFileShareServer, **extra: str) -> FileService:
    parts = {"DefaultEndpointsProtocol": "http", "AccountName": ACCOUNT, "AccountKey": ACCOUNT_KEY,
             "FileEndpoint": fake.endpoint, **extra}
    return FileService(connection_string=";".join(f"{k}={v}" for k, v in parts.items() if v))


def _calls(fake: FakeFileShareServer) -> List[Tuple[str, str, Dict[str, str]]]:
    return [(r.method, r.path, r.query) for r in fake.requests]


def _assert_signed(request: Recorded) -> None:
    assert request.headers["authorization"].startswith(f"SharedKey {ACCOUNT}:")
    assert request.headers["x-ms-version"]
    assert request.headers["x-ms-date"].endswith("GMT")


def test_upload_download_list_delete_requests(recorder: FakeFileShareServer) -> None:
    service = _service(recorder)
    assert service.mode == "remote"
    service.create_share("afs", quota=5)
    service.create_directory("afs", "scripts", metadata={"purpose": "demo"})
    service.create_file_from_bytes("afs", "scripts", "train me.py", b"0123456789")
    assert service.get_file_to_bytes("afs", "scripts", "train me.py").content == b"0123456789"
    assert service.exists("afs", "scripts", "train me.py") is True
    assert [e.name for e in service.list_directories_and_files("afs", "scripts")] == ["train me.py"]
    service.delete_file("afs", "scripts", "train me.py")
    service.delete_directory("afs", "scripts")
    service.delete_share("afs")

    assert _calls(recorder) == [
        ("PUT", "/afs", {"restype": "share"}),
        ("PUT", "/afs/scripts", {"restype": "directory"}),
        ("PUT", "/afs/scripts/train me.py", {}),
        ("PUT", "/afs/scripts/train me.py", {"comp": "range"}),
        ("GET", "/afs/scripts/train me.py", {}),
        ("HEAD", "/afs/scripts/train me.py", {}),
        ("GET", "/afs/scripts", {"restype": "directory", "comp": "list"}),
        ("DELETE", "/afs/scripts/train me.py", {}),
        ("DELETE", "/afs/scripts", {"restype": "directory"}),
        ("DELETE", "/afs", {"restype": "share"}),
    ]
    for request in recorder.requests:
        _assert_signed(request)
    share, directory, create, put_range, get = recorder.requests[:5]
    assert share.headers["x-ms-share-quota"] == "5"
    assert directory.headers["x-ms-meta-purpose"] == "demo"
    assert create.headers["x-ms-type"] == "file"
    assert create.headers["x-ms-content-length"] == "10"
    assert create.body_size == 0
    assert put_range.headers["x-ms-write"] == "update"
    assert put_range.headers["x-ms-range"] == "bytes=0-9"
    assert put_range.body_size == 10
    assert get.headers["x-ms-range"].startswith("bytes=0-")


def test_ranged_download_request(recorder: FakeFileShareServer) -> None:
    service = _service(recorder)
    service.create_share("rng")
    service.create_file_from_text("rng", None, "f.txt", "abcdefghij")
    recorder.clear()
    assert service.get_file_to_text("rng", None, "f.txt", start_range=2, end_range=4).content == "cde"
    (request,) = recorder.requests
    assert (request.method, request.path) == ("GET", "/rng/f.txt")
    assert request.headers["x-ms-range"] == "bytes=2-4"
    service.delete_share("rng")


def test_content_settings_and_metadata_headers(recorder: FakeFileShareServer) -> None:
    from batchai_compat.storage import ContentSettings

    service = _service(recorder)
    service.create_share("hdr")
    recorder.clear()
    service.create_file_from_text("hdr", None, "page.html", "<p/>", metadata={"k": "v"},
                                  content_settings=ContentSettings(content_type="text/html"))
    create = recorder.requests[0]
    assert create.headers["x-ms-content-type"] == "text/html"
    assert create.headers["x-ms-meta-k"] == "v"
    service.delete_share("hdr")


def test_sas_credentials_go_in_the_query(recorder: FakeFileShareServer) -> None:
    service = _service(recorder, AccountKey="", SharedAccessSignature="sv=2018-03-28&sp=r&sig=abc%3D")
    with pytest.raises(AzureHttpError) as err:  # the fake only accepts SharedKey: a 403, mapped
        service.create_share("sasshare")
    assert err.value.status_code == 403
    assert "AuthenticationFailed" in str(err.value)
    (request,) = recorder.requests
    assert "authorization" not in request.headers
    assert request.query["sig"] == "abc="
    assert request.query["restype"] == "share"


def test_errors_map_to_legacy_exceptions(recorder: FakeFileShareServer) -> None:
    from batchai_compat.storage import AzureMissingResourceHttpError

    service = _service(recorder)
    with pytest.raises(AzureMissingResourceHttpError) as err:
        service.get_file_to_bytes("nosuchshare", None, "x")
    assert err.value.status_code == 404
    assert "ShareNotFound" in str(err.value)
