"""batchai_compat.storage_mgmt on the local backend: storage accounts and their keys."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
from urllib.parse import urlsplit

import pytest
import requests
from msrest.polling import LROPoller
from msrestazure.azure_exceptions import CloudError

from batchai_compat.resource import ResourceManagementClient
from batchai_compat.storage import BlockBlobService, FileService
from batchai_compat.storage_mgmt import StorageManagementClient
from batchai_compat.storage_mgmt.models import (
    CheckNameAvailabilityResult,
    Kind,
    Reason,
    Sku,
    SkuName,
    StorageAccount,
    StorageAccountCreateParameters,
    StorageAccountUpdateParameters,
)

from .conftest import OTHER_SUB, SUB

PARAMS = StorageAccountCreateParameters(sku=Sku(name=SkuName.standard_lrs), kind=Kind.storage, location="East US")


@pytest.fixture
def accounts(home):
    ResourceManagementClient(object(), SUB).resource_groups.create_or_update("rg", {"location": "eastus"})
    ResourceManagementClient(object(), SUB).resource_groups.create_or_update("rg2", {"location": "eastus"})
    return StorageManagementClient(object(), SUB).storage_accounts


def _code(exc: CloudError) -> str:
    return exc.error.error


def test_create_is_a_poller_of_a_loopback_account(accounts):
    poller = accounts.create("rg", "notebookdata", PARAMS)
    assert isinstance(poller, LROPoller)
    account = poller.result()
    assert isinstance(account, StorageAccount)
    assert account.id == (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts"
                          "/notebookdata")
    assert (account.name, account.location, account.kind, account.sku.name) == (
        "notebookdata", "eastus", Kind.storage, SkuName.standard_lrs)
    assert account.provisioning_state == "Succeeded" and account.primary_location == "eastus"
    urls = [account.primary_endpoints.blob, account.primary_endpoints.file, account.primary_endpoints.queue,
            account.primary_endpoints.table]
    assert all(urlsplit(u).hostname == "127.0.0.1" and urlsplit(u).path == "/notebookdata/" for u in urls), urls
    assert accounts.get_properties("rg", "notebookdata").creation_time == account.creation_time
    assert accounts.create("rg", "second1", PARAMS, polling=False).result() is None  # the service's 202
    assert [a.name for a in accounts.list()] == ["notebookdata", "second1"]
    assert [a.name for a in accounts.list_by_resource_group("rg2")] == []


def test_keys_work_with_the_legacy_storage_classes(accounts, home):
    accounts.create("rg", "keyed", PARAMS).result()
    keys = accounts.list_keys("rg", "keyed").keys
    assert [k.key_name for k in keys] == ["key1", "key2"]
    assert all(len(base64.b64decode(k.value, validate=True)) == 64 for k in keys)
    assert keys[0].value != keys[1].value
    files = FileService("keyed", keys[0].value)
    assert files.mode == "local"
    files.create_share("scripts")
    files.create_file_from_text("scripts", None, "train.py", "print('hi')\n")
    blobs = BlockBlobService(account_name="keyed", account_key=keys[1].value)
    blobs.create_container("data")
    blobs.create_blob_from_text("data", "a/b.txt", "blob")
    assert (home / "storage" / "keyed" / "shares" / "scripts" / "train.py").read_text() == "print('hi')\n"
    # A SAS signed with the account key gives a loopback download URL that really serves the file.
    sas = files.generate_file_shared_access_signature("scripts", None, "train.py", permission="r",
                                                      expiry="2099-01-01T00:00:00Z")
    url = files.make_file_url("scripts", None, "train.py", sas_token=sas)
    assert urlsplit(url).hostname == "127.0.0.1"
    assert requests.get(url, timeout=10).text == "print('hi')\n"
    # Regenerating key1 changes key1 only.
    new = accounts.regenerate_key("rg", "keyed", "key1").keys
    assert new[0].value != keys[0].value and new[1].value == keys[1].value
    assert [k.value for k in accounts.list_keys("rg", "keyed").keys] == [new[0].value, new[1].value]
    with pytest.raises(CloudError) as err:
        accounts.regenerate_key("rg", "keyed", "key3")
    assert err.value.status_code == 400


def test_keys_are_secrets(accounts, home):
    accounts.create("rg", "secretive", PARAMS).result()
    key = accounts.list_keys("rg", "secretive").keys[0].value
    assert key not in str(accounts.get_properties("rg", "secretive").serialize(keep_readonly=True))
    assert stat.S_IMODE(os.stat(home / "state.db").st_mode) == 0o600
    body = sqlite3.connect(str(home / "state.db")).execute("SELECT body FROM arm_storage_accounts").fetchone()[0]
    assert key not in body


def test_names_and_errors_as_the_service_answered(accounts):
    with pytest.raises(CloudError) as err:
        accounts.create("missing", "abc", PARAMS)
    assert err.value.status_code == 404 and _code(err.value) == "ResourceGroupNotFound"
    with pytest.raises(CloudError) as err:
        accounts.create("rg", "With-Dash", PARAMS)
    assert err.value.status_code == 400 and _code(err.value) == "AccountNameInvalid"
    assert "must be between 3 and 24 characters in length and use numbers and lower-case letters only" in str(err.value)
    result = accounts.check_name_availability("With-Dash")
    assert isinstance(result, CheckNameAvailabilityResult)
    assert (result.name_available, result.reason) == (False, Reason.account_name_invalid)
    assert accounts.check_name_availability("fresh").name_available is True

    accounts.create("rg", "taken", PARAMS).result()
    result = accounts.check_name_availability("taken")
    assert (result.name_available, result.reason) == (False, Reason.already_exists)
    with pytest.raises(CloudError) as err:
        accounts.create("rg2", "taken", PARAMS)
    assert err.value.status_code == 409 and _code(err.value) == "StorageAccountAlreadyExists"
    ResourceManagementClient(object(), OTHER_SUB).resource_groups.create_or_update("rg", {"location": "eastus"})
    with pytest.raises(CloudError) as err:
        StorageManagementClient(object(), OTHER_SUB).storage_accounts.create("rg", "taken", PARAMS)
    assert err.value.status_code == 409 and _code(err.value) == "StorageAccountAlreadyTaken"
    with pytest.raises(CloudError) as err:
        accounts.create("rg", "taken", StorageAccountCreateParameters(sku=Sku(name="Standard_LRS"), kind="Storage",
                                                                      location="westus"))
    assert err.value.status_code == 409 and _code(err.value) == "InvalidResourceLocation"
    # The same PUT again updates the account (tags here), as on the service.
    again = accounts.create("rg", "taken", StorageAccountCreateParameters(
        sku=Sku(name="Standard_GRS"), kind="Storage", location="eastus", tags={"a": "b"})).result()
    assert again.tags == {"a": "b"} and again.sku.name == SkuName.standard_grs
    assert accounts.update("rg", "taken", StorageAccountUpdateParameters(tags={"c": "d"})).tags == {"c": "d"}

    for call in (lambda: accounts.get_properties("rg", "nosuch"), lambda: accounts.list_keys("rg", "nosuch")):
        with pytest.raises(CloudError) as err:
            call()
        assert err.value.status_code == 404 and _code(err.value) == "ResourceNotFound"
    with pytest.raises(CloudError) as err:
        accounts.get_properties("nosuchgroup", "taken")
    assert _code(err.value) == "ResourceGroupNotFound"


def test_delete_removes_the_account_and_its_data(accounts, home):
    accounts.create("rg", "gone", PARAMS).result()
    FileService("gone", accounts.list_keys("rg", "gone").keys[0].value).create_share("share1")
    assert (home / "storage" / "gone" / "shares" / "share1").is_dir()
    assert accounts.delete("rg", "gone") is None
    assert not (home / "storage" / "gone").exists()
    with pytest.raises(CloudError):
        accounts.get_properties("rg", "gone")
    assert accounts.delete("rg", "gone") is None  # the service's 204 for a missing account
    assert accounts.check_name_availability("gone").name_available is True
