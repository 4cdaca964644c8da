"""``FileService``: every test runs in local mode and in remote mode against the loopback fake
Azure Files endpoint (``fake_files.py``; there is no Azure Files emulator)."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List, Tuple

import pytest

from batchai_compat.storage import (
    AzureConflictHttpError,
    AzureMissingResourceHttpError,
    Directory,
    File,
    FilePermissions,
    FileService,
)

DATA = bytes(range(256)) * 3 + b"end"


def test_share_lifecycle(file_service: FileService) -> None:
    name = "s" + uuid.uuid4().hex[:12]
    assert file_service.exists(name) is False
    assert file_service.create_share(name) is True
    assert file_service.exists(name) is True
    assert file_service.create_share(name) is False
    with pytest.raises(AzureConflictHttpError) as conflict:
        file_service.create_share(name, fail_on_exist=True)
    assert conflict.value.status_code == 409
    assert file_service.get_share_properties(name).name == name
    assert file_service.delete_share(name) is True
    assert file_service.exists(name) is False
    assert file_service.delete_share(name) is False
    with pytest.raises(AzureMissingResourceHttpError) as missing:
        file_service.delete_share(name, fail_not_exist=True)
    assert missing.value.status_code == 404


def test_directories(file_service: FileService, share: str) -> None:
    assert file_service.create_directory(share, "scripts") is True
    assert file_service.create_directory(share, "scripts") is False
    with pytest.raises(AzureConflictHttpError):
        file_service.create_directory(share, "scripts", fail_on_exist=True)
    assert file_service.create_directory(share, "scripts/nested") is True
    assert file_service.exists(share, "scripts/nested") is True
    assert file_service.exists(share, "nothing") is False
    with pytest.raises(AzureMissingResourceHttpError) as err:
        file_service.create_directory(share, "no/parent")
    assert "ParentNotFound" in str(err.value)
    assert file_service.get_directory_properties(share, "scripts").name == "scripts"
    with pytest.raises(AzureConflictHttpError) as not_empty:
        file_service.delete_directory(share, "scripts")
    assert "DirectoryNotEmpty" in str(not_empty.value)
    assert file_service.delete_directory(share, "scripts/nested") is True
    assert file_service.delete_directory(share, "scripts/nested") is False
    with pytest.raises(AzureMissingResourceHttpError):
        file_service.delete_directory(share, "scripts/nested", fail_not_exist=True)


def test_file_round_trips(file_service: FileService, share: str, tmp_path: Path) -> None:
    file_service.create_directory(share, "data")
    file_service.create_file_from_bytes(share, "data", "blob.bin", DATA)
    got = file_service.get_file_to_bytes(share, "data", "blob.bin")
    assert isinstance(got, File)
    assert got.name == "blob.bin"
    assert got.content == DATA
    assert got.properties.content_length == len(DATA)

    file_service.create_file_from_text(share, None, "root.txt", "at the root ✓")
    assert file_service.get_file_to_text(share, None, "root.txt").content == "at the root ✓"
    assert file_service.get_file_to_text(share, "", "root.txt").content == "at the root ✓"

    source = tmp_path / "train.py"
    source.write_text("print('training')\n")
    file_service.create_file_from_path(share, "data", "train.py", str(source))
    target = tmp_path / "back.py"
    result = file_service.get_file_to_path(share, "data", "train.py", str(target))
    assert target.read_text() == "print('training')\n"
    assert result.properties.content_length == source.stat().st_size

    file_service.create_file_from_stream(share, "data", "streamed.bin", io.BytesIO(DATA), count=100)
    out = io.BytesIO()
    file_service.get_file_to_stream(share, "data", "streamed.bin", out)
    assert out.getvalue() == DATA[:100]

    file_service.create_file_from_bytes(share, "data", "slice.bin", DATA, index=5, count=10)
    assert file_service.get_file_to_bytes(share, "data", "slice.bin").content == DATA[5:15]
    props = file_service.get_file_properties(share, "data", "slice.bin")
    assert props.properties.content_length == 10
    assert file_service.exists(share, "data", "slice.bin") is True
    assert file_service.exists(share, "data", "nope.bin") is False


def test_ranges(file_service: FileService, share: str) -> None:
    file_service.create_file_from_bytes(share, None, "r.bin", DATA)
    assert file_service.get_file_to_bytes(share, None, "r.bin", start_range=3, end_range=9).content == DATA[3:10]
    assert file_service.get_file_to_bytes(share, None, "r.bin", start_range=700).content == DATA[700:]


def test_upload_needs_existing_directory(file_service: FileService, share: str) -> None:
    with pytest.raises(AzureMissingResourceHttpError) as err:
        file_service.create_file_from_text(share, "missing-dir", "x.txt", "x")
    assert err.value.status_code == 404


def test_listing(file_service: FileService, share: str) -> None:
    file_service.create_directory(share, "scripts")
    file_service.create_directory(share, "scripts/lib")
    file_service.create_file_from_text(share, "scripts", "train.py", "print(1)")
    file_service.create_file_from_text(share, "scripts", "eval.py", "print(22)")
    file_service.create_file_from_text(share, None, "README", "hello")
    top = list(file_service.list_directories_and_files(share))
    # The service does not promise an order between files and directories (v12 puts directories first).
    assert sorted((type(e).__name__, e.name) for e in top) == [("Directory", "scripts"), ("File", "README")]
    inner = {e.name: e for e in file_service.list_directories_and_files(share, "scripts")}
    assert set(inner) == {"lib", "train.py", "eval.py"}
    assert isinstance(inner["lib"], Directory)
    assert inner["train.py"].properties.content_length == len("print(1)")
    assert inner["eval.py"].properties.content_length == len("print(22)")
    only = [e.name for e in file_service.list_directories_and_files(share, "scripts", prefix="tr")]
    assert only == ["train.py"]
    with pytest.raises(AzureMissingResourceHttpError):
        file_service.list_directories_and_files(share, "not-there")


def test_delete_file(file_service: FileService, share: str) -> None:
    file_service.create_file_from_text(share, None, "x.txt", "x")
    assert file_service.delete_file(share, None, "x.txt") is None
    assert file_service.exists(share, None, "x.txt") is False
    with pytest.raises(AzureMissingResourceHttpError) as err:
        file_service.delete_file(share, None, "x.txt")
    assert err.value.status_code == 404
    with pytest.raises(AzureMissingResourceHttpError):
        file_service.get_file_to_bytes(share, None, "x.txt")


def test_progress_callback(file_service: FileService, share: str) -> None:
    calls: List[Tuple[int, int]] = []
    file_service.create_file_from_bytes(share, None, "p.bin", DATA, progress_callback=lambda c, t: calls.append((c, t)))
    assert calls and calls[-1] == (len(DATA), len(DATA))
    calls.clear()
    file_service.get_file_to_bytes(share, None, "p.bin", progress_callback=lambda c, t: calls.append((c, t)))
    assert calls and calls[-1] == (len(DATA), len(DATA))


def test_file_url_and_sas_shape(file_service: FileService, share: str) -> None:
    plain = file_service.make_file_url(share, "dir", "f.txt")
    assert plain.endswith(f"/{share}/dir/f.txt")
    assert file_service.make_file_url(share, None, "f.txt").endswith(f"/{share}/f.txt")
    sas = file_service.generate_file_shared_access_signature(
        share, "dir", "f.txt", permission=FilePermissions.READ, expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    assert "sp=r" in sas and "sr=f" in sas and "sig=" in sas
    share_sas = file_service.generate_share_shared_access_signature(
        share, permission="rl", expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    assert "sr=s" in share_sas
