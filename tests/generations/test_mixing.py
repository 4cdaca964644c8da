"""Mixing client generations by mistake says which generation the call belongs to (issue 13, item 2).

The exception types are the ones the original SDKs raised for the same call (checked against the
originals: 2.0.0 in the main venv, 0.2.0 in its oracle venv), the message gains the generation.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import azure.mgmt.batchai as original_2
import pytest

import batchai_compat
import batchai_compat.models as models_2
import batchai_compat.v2017_09_01_preview as gen_0_2
import batchai_compat.v2018_03_01 as gen_1_0

REPO = Path(__file__).resolve().parents[2]
SUB = "00000000-0000-0000-0000-000000000000"
OLD_HINT = "azure-mgmt-batchai 0.2.0/1.0.x shape"


@pytest.fixture()
def clients(tmp_path):
    home = str(tmp_path / "home")
    return (batchai_compat.BatchAIManagementClient(object(), SUB, home=home),
            gen_0_2.BatchAIManagementClient(object(), SUB, home=home),
            gen_1_0.BatchAIManagementClient(object(), SUB, home=home))


def _old_cluster_params():
    m = gen_0_2.models
    return m.ClusterCreateParameters("eastus", "STANDARD_D1", m.UserAccountSettings("demoUser"))


def _new_cluster_params():
    return models_2.ClusterCreateParameters(vm_size="STANDARD_D1",
                                            user_account_settings=models_2.UserAccountSettings(admin_user_name="u"))


OLD_CALLS = {
    "clusters.create(rg, name, params)": lambda c, p: c.clusters.create("rg", "nc6", p),
    "clusters.delete(rg, name)": lambda c, p: c.clusters.delete("rg", "nc6"),
    "clusters.get(rg, name)": lambda c, p: c.clusters.get("rg", "nc6"),
    "jobs.create(rg, job, params)": lambda c, p: c.jobs.create("rg", "job", p),
    "jobs.list_output_files(rg, job, options)": lambda c, p: c.jobs.list_output_files("rg", "job",
                                                                                      {"outputdirectoryid": "x"}),
    "file_servers.create(rg, name, params)": lambda c, p: c.file_servers.create("rg", "nfs", p),
}


@pytest.mark.parametrize("call", sorted(OLD_CALLS))
def test_a_pre_workspace_call_on_the_2_0_0_client_names_its_generation(clients, call):
    new, _, _ = clients
    original = original_2.BatchAIManagementClient(object(), SUB, base_url="http://127.0.0.1:9")
    with pytest.raises(TypeError) as expected:
        OLD_CALLS[call](original, _old_cluster_params())
    with pytest.raises(TypeError) as raised:
        OLD_CALLS[call](new, _old_cluster_params())
    message = str(raised.value)
    assert message.startswith(str(expected.value)), (message, str(expected.value))  # Python's own words first
    assert OLD_HINT in message
    assert "batchai_compat.v2017_09_01_preview" in message and "batchai_compat.v2018_03_01" in message


@pytest.mark.parametrize("name", ["list", "list_by_resource_group"])
def test_operations_2_0_0_dropped_say_so(clients, name):
    new, _, _ = clients
    with pytest.raises(AttributeError, match=OLD_HINT):
        getattr(new.clusters, name)
    with pytest.raises(AttributeError) as plain:
        new.clusters.no_such_operation  # noqa: B018 - other names: the plain AttributeError
    assert OLD_HINT not in str(plain.value)


def test_models_of_another_generation_are_refused_naming_both(clients):
    new, old, one = clients
    with pytest.raises(TypeError, match=r"v2017_09_01_preview\.models model: the azure-mgmt-batchai 0\.2\.0"):
        new.clusters.create("rg", "default", "nc6", _old_cluster_params())
    with pytest.raises(TypeError, match=r"batchai_compat\.models model: the azure-mgmt-batchai 2\.0\.0 .*"
                                        r"this client is the 0\.2\.0"):
        old.clusters.create("rg", "nc6", _new_cluster_params())
    with pytest.raises(TypeError, match=r"this client is the 1\.0\.x"):
        one.clusters.create("rg", "nc6", _old_cluster_params())
    # nothing was created by the refused calls
    assert list(old.clusters.list_by_resource_group("rg")) == []


def _oracle_0_2_0(code: str) -> str:
    python = REPO / ".tools" / "oracles" / "0.2.0" / "bin" / "python"
    assert python.is_file(), "oracle azure-mgmt-batchai==0.2.0 missing: run `make oracles`"
    prelude = ("import azure.mgmt.batchai as b\n"
               f"c = b.BatchAIManagementClient(object(), {SUB!r}, base_url='http://127.0.0.1:9')\n"
               "try:\n    " + code + "\nexcept Exception as e:\n    print(type(e).__name__, e)\n")
    return subprocess.run([str(python), "-c", prelude], capture_output=True, text=True, timeout=120).stdout.strip()


def test_a_2_0_0_call_on_a_0_2_0_client_names_its_generation(clients):
    _, old, _ = clients
    expected = _oracle_0_2_0("c.clusters.get('rg', 'workspace', 'nc6')")
    with pytest.raises(Exception) as raised:
        old.clusters.get("rg", "workspace", "nc6")
    assert f"{type(raised.value).__name__} {raised.value}".startswith(expected), (expected, raised.value)
    assert "azure-mgmt-batchai 2.0.0 shape" in str(raised.value)
    with pytest.raises(AttributeError, match=r"client\.workspaces belongs to azure-mgmt-batchai 2\.0\.0"):
        old.workspaces  # noqa: B018
