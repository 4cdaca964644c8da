"""The mode rule of docs/storage.md, constructor compatibility, and secrets kept out of reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchai_compat.storage import BlockBlobService, FileService

from .conftest import ACCOUNT, ACCOUNT_KEY, DEV_KEY

CS_PLAIN = (f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            "EndpointSuffix=core.windows.net")


@pytest.mark.parametrize(
    "kwargs, mode, endpoint",
    [
        ({"account_name": ACCOUNT, "account_key": ACCOUNT_KEY}, "local", f"https://{ACCOUNT}.blob.core.windows.net"),
        ({"account_name": ACCOUNT, "sas_token": "?sv=x&sig=y"}, "local", f"https://{ACCOUNT}.blob.core.windows.net"),
        ({"connection_string": CS_PLAIN}, "local", f"https://{ACCOUNT}.blob.core.windows.net"),
        ({"account_name": ACCOUNT, "account_key": ACCOUNT_KEY, "endpoint_suffix": "core.chinacloudapi.cn",
          "protocol": "http"}, "local", f"http://{ACCOUNT}.blob.core.chinacloudapi.cn"),
        ({"is_emulated": True}, "remote", "http://127.0.0.1:10000/devstoreaccount1"),
        ({"connection_string": "UseDevelopmentStorage=true"}, "remote", "http://127.0.0.1:10000/devstoreaccount1"),
        ({"connection_string": CS_PLAIN + ";BlobEndpoint=http://127.0.0.1:1234/acct"}, "remote",
         "http://127.0.0.1:1234/acct"),
        ({"account_name": ACCOUNT, "account_key": ACCOUNT_KEY, "custom_domain": "https://data.example.com"},
         "remote", "https://data.example.com"),
    ],
)
def test_blob_mode_rule(home: Path, no_network, kwargs: dict, mode: str, endpoint: str) -> None:  # type: ignore[no-untyped-def]
    service = BlockBlobService(**kwargs)
    assert service.mode == mode
    assert service._config.primary_endpoint == endpoint
    assert no_network.attempts == []  # constructing never connects, in either mode


def test_emulated_uses_the_development_account(home: Path, no_network) -> None:  # type: ignore[no-untyped-def]
    service = BlockBlobService(is_emulated=True)
    assert service.account_name == "devstoreaccount1"
    assert service.account_key == DEV_KEY
    assert service.is_emulated
    assert service.primary_endpoint == "127.0.0.1:10000/devstoreaccount1"


def test_file_mode_rule(home: Path, no_network) -> None:  # type: ignore[no-untyped-def]
    assert FileService(ACCOUNT, ACCOUNT_KEY).mode == "local"
    # A blob endpoint says nothing about files.
    assert FileService(connection_string=CS_PLAIN + ";BlobEndpoint=http://127.0.0.1:1/x").mode == "local"
    remote = FileService(connection_string=CS_PLAIN + ";FileEndpoint=http://127.0.0.1:1/x")
    assert remote.mode == "remote"
    assert remote.make_file_url("s", None, "f") == "http://127.0.0.1:1/x/s/f"
    assert no_network.attempts == []


def test_environment_and_keyword_override(home: Path, monkeypatch: pytest.MonkeyPatch, no_network) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BATCHAI_COMPAT_STORAGE", "remote")
    assert BlockBlobService(ACCOUNT, ACCOUNT_KEY).mode == "remote"
    assert FileService(ACCOUNT, ACCOUNT_KEY).mode == "remote"
    monkeypatch.setenv("BATCHAI_COMPAT_STORAGE", "local")
    assert BlockBlobService(is_emulated=True).mode == "local"
    assert BlockBlobService(is_emulated=True, mode="remote").mode == "remote"
    monkeypatch.setenv("BATCHAI_COMPAT_STORAGE", "auto")
    assert BlockBlobService(ACCOUNT, ACCOUNT_KEY).mode == "local"
    monkeypatch.setenv("BATCHAI_COMPAT_STORAGE", "cloud")
    with pytest.raises(ValueError, match="BATCHAI_COMPAT_STORAGE"):
        BlockBlobService(ACCOUNT, ACCOUNT_KEY)
    assert no_network.attempts == []


def test_missing_account_is_the_legacy_error(home: Path) -> None:
    with pytest.raises(ValueError, match="account name"):
        BlockBlobService()
    with pytest.raises(ValueError, match="account name"):
        FileService(sas_token="sv=1&sig=2")


def test_file_service_has_no_emulator(home: Path) -> None:
    with pytest.raises(ValueError, match="FileEndpoint"):
        FileService(connection_string="UseDevelopmentStorage=true")


def test_home_keyword(tmp_path: Path, home: Path) -> None:
    other = tmp_path / "elsewhere"
    service = BlockBlobService(ACCOUNT, ACCOUNT_KEY, home=other)
    service.create_container("data")
    assert (other / "storage" / ACCOUNT / "blobs" / "data").is_dir()
    assert not (home / "storage" / ACCOUNT / "blobs" / "data").exists()


@pytest.mark.parametrize("mode", ["local", "remote"])
def test_secrets_stay_out_of_repr(home: Path, mode: str) -> None:
    secret_sas = "sv=2018&sig=TOPSECRETSIG"
    for service in (BlockBlobService(ACCOUNT, ACCOUNT_KEY, mode=mode),
                    BlockBlobService(ACCOUNT, sas_token=secret_sas, mode=mode),
                    FileService(ACCOUNT, ACCOUNT_KEY, mode=mode)):
        text = repr(service) + repr(service._config)
        assert ACCOUNT_KEY not in text and "TOPSECRETSIG" not in text
        assert ACCOUNT in text
