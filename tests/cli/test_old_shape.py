"""The pre-workspace CLI shape (azure-cli-batchai 0.1.x / 0.2.x) and the generation rule."""

from __future__ import annotations

import json

import pytest

PASSWORD = "Passw0rd!"
OLD_SCHEMA = "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2017-09-01-preview/cluster.json"


@pytest.fixture
def group(cli_env):
    """Resource group ``rg`` in ``eastus`` (the old CLI took the cluster location from it)."""
    from batchai_compat.resource import ResourceManagementClient

    ResourceManagementClient(object(), "00000000-0000-0000-0000-000000000000").resource_groups.create_or_update(
        "rg", {"location": "eastus"})
    return "rg"


@pytest.fixture
def cluster_json(tmp_path):
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"$schema": OLD_SCHEMA, "properties": {
        "vmSize": "STANDARD_D1", "scaleSettings": {"manual": {"targetNodeCount": 1}},
        "userAccountSettings": {"adminUserName": "demo", "adminUserPassword": PASSWORD}}}), encoding="utf-8")
    return str(path)


def test_old_cluster_commands_use_the_default_workspace(run_cli, run_json, group, cluster_json):
    created = run_json("cluster", "create", "-g", "rg", "-n", "c1", "-c", cluster_json)
    # the old shape: no workspace in the id, the location of the resource group
    assert created["id"] == ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
                             "Microsoft.BatchAI/clusters/c1")
    assert created["location"] == "eastus"
    # the same cluster, seen through the 2018-05-01 shape in workspace "default"
    assert run_json("cluster", "show", "-g", "rg", "-w", "default", "-n", "c1", "--query", "name") == "c1"
    assert run_json("cluster", "list", "--query", "[].name") == ["c1"]
    assert run_json("cluster", "list", "-g", "rg", "--query", "[].name") == ["c1"]
    code, out, err = run_cli("cluster", "list", "-o", "table")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["Name", "Resource", "Group", "VM", "Size", "State", "Idle", "Running",
                                           "Preparing", "Leaving", "Unusable"]
    code, out, err = run_cli("cluster", "list-nodes", "-g", "rg", "-n", "c1", "-o", "table")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["ID", "IP", "Port"]
    assert run_json("cluster", "list-files", "-g", "rg", "-n", "c1", "-e", "5") == []
    # an old-shape id selects the old shape
    assert run_json("cluster", "show", "--ids", created["id"], "--query", "id") == created["id"]
    resized = run_json("cluster", "resize", "-g", "rg", "-n", "c1", "-t", "0")
    assert resized["scaleSettings"]["manual"]["targetNodeCount"] == 0
    code, out, err = run_cli("cluster", "delete", "-g", "rg", "-n", "c1", "-y")
    assert (code, out) == (0, ""), err
    assert run_json("cluster", "list", "-g", "rg", "-w", "default") == []


def test_old_options_location_container_aliases(run_json, group, cli_env):
    from batchai_compat.storage_mgmt import StorageManagementClient

    client = StorageManagementClient(object(), "00000000-0000-0000-0000-000000000000")
    client.storage_accounts.create("rg", "oldstorage", {"sku": {"name": "Standard_LRS"}, "kind": "Storage",
                                                        "location": "eastus"}).result()
    created = run_json("cluster", "create", "-g", "rg", "-n", "c1", "-l", "westus", "-s", "STANDARD_D1",
                       "-t", "1", "-u", "demo", "-p", PASSWORD, "--storage-account-name", "oldstorage",
                       "--container-name", "data", "--container-mount-path", "cdata")
    assert "/workspaces/" not in created["id"]
    (blob,) = created["nodeSetup"]["mountVolumes"]["azureBlobFileSystems"]
    assert (blob["containerName"], blob["relativeMountPath"]) == ("data", "cdata")


def test_config_spelled_out_and_abbreviated(run_json, group, cluster_json):
    # the old CLIs' --config is 0.4.10's abbreviation of --config-file: the same file in both shapes
    old = run_json("cluster", "create", "-g", "rg", "-n", "c1", "--config", cluster_json)
    assert "/workspaces/" not in old["id"]
    run_json("workspace", "create", "-g", "rg", "-n", "ws")
    new = run_json("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c2", "--co", cluster_json)
    assert "/workspaces/ws/" in new["id"]
    # 0.2.x's --container-name does not make 0.4.10's --nfs-/--co abbreviations ambiguous
    new = run_json("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c3", "--conf", cluster_json,
                   "--vm-s", "STANDARD_D2")
    assert new["vmSize"] == "STANDARD_D2"


def test_old_option_with_explicit_workspace_is_an_error(run_cli, run_json, group, cluster_json):
    run_json("workspace", "create", "-g", "rg", "-n", "ws")
    code, out, err = run_cli("cluster", "create", "-g", "rg", "-w", "ws", "-n", "c1", "-c", cluster_json,
                             "-l", "eastus")
    assert (code, out) == (1, "")
    assert err == ("ERROR: --location/-l: option(s) of the pre-workspace CLI (API 2018-03-01) cannot be combined "
                   "with --workspace/-w; use the 2018-05-01 options (see 'batchai cluster create -h') or drop -w.\n")
    code, out, err = run_cli("cluster", "list-nodes", "-g", "rg", "-n", "c1", "-w", "ws")
    assert code == 2 and "unrecognized arguments: -w ws" in err
    assert run_json("cluster", "list", "-g", "rg", "-w", "ws") == []


def test_configured_workspace_selects_the_new_shape_unless_an_old_option_is_given(run_json, group, cluster_json,
                                                                                  az_defaults):
    run_json("workspace", "create", "-g", "rg", "-n", "ws")
    az_defaults(group="rg", workspace="ws")
    new = run_json("cluster", "create", "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD)
    assert "/workspaces/ws/clusters/c1" in new["id"]
    old = run_json("cluster", "create", "-n", "c2", "-c", cluster_json, "-l", "eastus")  # configured -w ignored
    assert old["id"].endswith("/resourceGroups/rg/providers/Microsoft.BatchAI/clusters/c2")
    assert run_json("cluster", "list", "--query", "[].name") == ["c1"]


def test_old_file_server_shape(run_cli, run_json, group):
    created = run_json("file-server", "create", "-g", "rg", "-n", "nfs1", "-s", "STANDARD_D1", "--disk-count", "1",
                       "--disk-size", "10", "--storage-sku", "Standard_LRS", "--admin-user-name", "demo",
                       "-p", PASSWORD)
    assert "/workspaces/" not in created["id"] and created["location"] == "eastus"
    assert run_json("file-server", "list", "--query", "[].name") == ["nfs1"]
    assert run_json("file-server", "show", "-g", "rg", "-w", "default", "-n", "nfs1", "--query", "name") == "nfs1"
    code, out, err = run_cli("file-server", "delete", "-g", "rg", "-n", "nfs1", "-y")
    assert (code, out) == (0, ""), err


def test_old_create_needs_an_existing_resource_group(run_cli, cluster_json):
    code, out, err = run_cli("cluster", "create", "-g", "nogroup", "-n", "c1", "-c", cluster_json)
    assert (code, out, err) == (1, "", "ERROR: Resource group 'nogroup' could not be found.\n")


def test_generation_rule_unit():
    from knack.validators import DefaultStr

    from batchai_compat.cli._core import NEW, OLD, CommandSpec, GenerationError, choose_generation

    both = CommandSpec("cluster create", "m#f", shape="both", workspace_arg="workspace_name", old_args=("config",))
    assert choose_generation(both, {"workspace_name": "ws"}) == NEW
    assert choose_generation(both, {"workspace_name": DefaultStr("ws")}) == NEW
    assert choose_generation(both, {"workspace_name": None}) == OLD
    assert choose_generation(both, {"workspace_name": DefaultStr("ws"), "config": "c.json"}) == OLD
    with pytest.raises(GenerationError):
        choose_generation(both, {"workspace_name": "ws", "config": "c.json"})
    old = CommandSpec("cluster list-nodes", "m#f", shape="old")
    assert choose_generation(old, {}) == OLD
    new = CommandSpec("experiment list", "m#f", workspace_arg="workspace_name")
    assert choose_generation(new, {"workspace_name": "ws"}) == NEW


def test_name_the_service_rejects(run_cli, run_json, group, cluster_json):
    # the 2018-03-01 SDK's name pattern lets '.' through; the default workspace holds 2018-05-01 resources
    code, out, err = run_cli("cluster", "create", "-g", "rg", "-n", "my.cluster", "-c", cluster_json)
    assert (code, out, err) == (1, "", "ERROR: The resource name 'my.cluster' is invalid.\n")
    assert run_json("cluster", "list", "-g", "rg") == []
