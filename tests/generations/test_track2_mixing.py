"""Mixing the 2.0.0 and the 7.0.0 (track 2) surfaces by mistake names the generation (issue 13, item 2).

The exception types are those the originals raised for the same call (2.0.0 in the main venv, 7.0.0 in
its oracle venv: neither had the other's operation names); the message gains the generation to use.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import azure.mgmt.batchai as original_2
import pytest

import batchai_compat
import batchai_compat.models as models_2

REPO = Path(__file__).resolve().parents[2]
ORACLE_7 = REPO / ".tools" / "oracles" / "7.0.0" / "bin" / "python"
SUB = "00000000-0000-0000-0000-000000000000"


@pytest.fixture()
def clients(tmp_path):
    from batchai_compat.v7 import BatchAI

    home = str(tmp_path / "home")
    return batchai_compat.BatchAIManagementClient(object(), SUB, home=home), BatchAI(object(), SUB, home=home)


def _original_7_has(group: str, name: str) -> bool:
    code = f"import azure.mgmt.batchai.operations as o; print(hasattr(o.{group}, {name!r}))"
    out = subprocess.run([str(ORACLE_7), "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() == "True"


@pytest.mark.parametrize("group,attr,name", [("JobsOperations", "jobs", "create"),
                                             ("JobsOperations", "jobs", "terminate"),
                                             ("ClustersOperations", "clusters", "delete"),
                                             ("WorkspacesOperations", "workspaces", "create")])
def test_a_2_0_0_operation_on_the_track2_client_names_begin_star(clients, group, attr, name):
    _, new = clients
    assert not _original_7_has(group, name)  # 7.0.0 raised AttributeError too
    with pytest.raises(AttributeError, match=rf"azure-mgmt-batchai 7\.0\.0 uses begin_{name}\(\)") as info:
        getattr(getattr(new, attr), name)
    assert "batchai_compat.BatchAIManagementClient" in str(info.value)


@pytest.mark.parametrize("attr,name", [("jobs", "begin_create"), ("jobs", "begin_terminate"),
                                       ("clusters", "begin_delete"), ("workspaces", "begin_create"),
                                       ("experiments", "begin_create"), ("file_servers", "begin_create")])
def test_a_track2_operation_on_the_2_0_0_client_names_batchai_compat_v7(clients, attr, name):
    old, _ = clients
    group_class = type(getattr(old, attr)).__name__
    assert not hasattr(getattr(original_2.operations, group_class), name)  # 2.0.0 raised AttributeError too
    with pytest.raises(AttributeError, match=r"azure-mgmt-batchai 7\.0\.0 \(track 2\).*batchai_compat\.v7"):
        getattr(getattr(old, attr), name)


def test_the_pre_workspace_hints_of_the_2_0_0_client_still_work(clients):
    old, new = clients
    with pytest.raises(AttributeError, match="0.2.0/1.0.x"):
        old.clusters.list()
    with pytest.raises(AttributeError) as info:
        old.clusters.no_such_operation  # noqa: B018 - the attribute access is the test
    assert str(info.value) == "'ClustersOperations' object has no attribute 'no_such_operation'"
    with pytest.raises(AttributeError, match="not an operation of this azure-mgmt-batchai 7.0.0 group"):
        new.clusters.list()


def test_models_of_the_other_generation_are_refused_naming_both(clients):
    from batchai_compat.v7 import models as models_7

    old, new = clients
    params_2 = models_2.ClusterCreateParameters(vm_size="STANDARD_D1",
                                                user_account_settings=models_2.UserAccountSettings(admin_user_name="u"))
    with pytest.raises(TypeError, match=r"batchai_compat\.models model.*2\.0\.0.*7\.0\.0"):
        new.clusters.begin_create("rg", "ws", "c", params_2)
    params_7 = models_7.ClusterCreateParameters(
        vm_size="STANDARD_D1", user_account_settings=models_7.UserAccountSettings(admin_user_name="u"))
    with pytest.raises(TypeError, match=r"batchai_compat\.v7\.models model.*7\.0\.0.*batchai_compat\.v7"):
        old.clusters.create("rg", "ws", "c", params_7)


def test_a_body_missing_what_the_service_requires_is_an_http_response_error(clients):
    from azure.core.exceptions import HttpResponseError

    from batchai_compat.v7 import models as models_7

    _, new = clients
    new.workspaces.begin_create("rg", "ws", models_7.WorkspaceCreateParameters(location="eastus")).result()
    with pytest.raises(HttpResponseError) as info:  # 7.0.0 sent it (no client-side validation)
        new.clusters.begin_create("rg", "ws", "c", models_7.ClusterCreateParameters(vm_size="STANDARD_D1"))
    assert (info.value.status_code, info.value.error.code) == (400, "BadRequest")
    assert "user_account_settings" in info.value.message
    assert [c.name for c in new.clusters.list_by_workspace("rg", "ws")] == []  # nothing was created


def test_pipeline_keywords_are_accepted_and_unknown_operation_keywords_refused(tmp_path):
    from batchai_compat.v7 import BatchAI, BatchAIManagementClient

    assert BatchAIManagementClient is BatchAI
    client = BatchAI(object(), SUB, home=str(tmp_path / "home"), logging_enable=True, retry_total=0,
                     polling_interval=1)
    assert client._config.polling_interval == 1
    assert list(client.workspaces.list(headers={"x-ms-test": "1"})) == []
    with pytest.raises(TypeError, match="no_such_keyword"):
        client.workspaces.get("rg", "ws", no_such_keyword=1)
    with pytest.raises(ValueError, match="credential"):
        BatchAI(None, SUB, home=str(tmp_path / "home"))


def test_import_batchai_compat_does_not_import_the_track2_client():
    code = ("import sys, batchai_compat, batchai_compat.v7; "
            "print(sorted(m for m in sys.modules if m.startswith(('batchai_compat.v7.', 'azure.mgmt.core'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # the client (and with it the hints) is imported on first use
