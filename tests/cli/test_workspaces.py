"""``batchai workspace``, ``experiment``, ``file-server`` and ``list-usages`` end to end."""

from __future__ import annotations

import json

PASSWORD = "Passw0rd!"


def _group(name="rg", location="westeurope"):
    from batchai_compat.resource import ResourceManagementClient

    ResourceManagementClient(object(), "00000000-0000-0000-0000-000000000000").resource_groups.create_or_update(
        name, {"location": location})


def test_workspace_lifecycle_and_location_from_the_resource_group(run_cli, run_json):
    _group()
    created = run_json("workspace", "create", "-g", "rg", "-n", "ws")
    assert created["location"] == "westeurope" and created["type"] == "Microsoft.BatchAI/workspaces"
    run_json("workspace", "create", "-g", "other", "-n", "ws2", "-l", "eastus")
    assert run_json("workspace", "list", "--query", "[].name") == ["ws", "ws2"]
    assert run_json("workspace", "list", "-g", "other", "--query", "[].name") == ["ws2"]
    code, out, err = run_cli("workspace", "show", "-g", "rg", "-n", "ws", "-o", "table")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["Name", "Resource", "Group", "Location", "State"]
    code, out, err = run_cli("workspace", "delete", "-g", "other", "-n", "ws2", "-y")
    assert (code, out) == (0, ""), err
    assert run_json("workspace", "list", "--query", "[].name") == ["ws"]


def test_workspace_create_without_location_needs_the_group(run_cli, run_json):
    code, out, err = run_cli("workspace", "create", "-g", "nogroup", "-n", "ws")
    assert (code, out, err) == (1, "", "ERROR: Resource group 'nogroup' could not be found.\n")
    assert run_json("workspace", "list") == []


def test_workspace_name_rejected_by_the_service(run_cli, run_json):
    code, out, err = run_cli("workspace", "create", "-g", "rg", "-n", "x" * 65, "-l", "eastus")
    assert code == 1 and out == ""
    assert err.startswith("ERROR: validation error: Parameter 'workspace_name' ")
    assert run_json("workspace", "list") == []


def test_experiment_lifecycle(run_cli, run_json, az_defaults):
    run_json("workspace", "create", "-g", "rg", "-n", "ws", "-l", "eastus")
    created = run_json("experiment", "create", "-g", "rg", "-w", "ws", "-n", "exp1")
    assert created["id"].endswith("/workspaces/ws/experiments/exp1")
    code, out, err = run_cli("experiment", "list", "-g", "rg", "-w", "ws", "-o", "table")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Resource", "Group", "Workspace", "State"]
    assert lines[2].split() == ["exp1", "rg", "ws", "succeeded"]
    code, out, err = run_cli("experiment", "list", "-g", "rg")
    assert code == 2 and "the following arguments are required: --workspace/-w" in err
    az_defaults(group="rg", workspace="ws")
    assert run_json("experiment", "show", "-n", "exp1", "--query", "name") == "exp1"
    code, out, err = run_cli("experiment", "delete", "-n", "exp1", "--yes")
    assert (code, out) == (0, ""), err
    code, out, err = run_cli("experiment", "show", "-n", "exp1")
    assert code == 3 and err == "ERROR: The specified experiment exp1 is not found\n"


def test_file_server_lifecycle_and_checks(run_cli, run_json, tmp_path):
    run_json("workspace", "create", "-g", "rg", "-n", "ws", "-l", "eastus")
    ws = ["-g", "rg", "-w", "ws"]
    for args, message in (
        ([], "Please provide disk size in Gb."),
        (["--disk-size", "10"], "Please provide number of data disks (at least one disk is required)."),
        (["--disk-size", "10", "--disk-count", "1"], "Please provide storage account type (storage sku)."),
        (["--disk-size", "10", "--disk-count", "1", "--storage-sku", "Premium_LRS"], "Please provide VM size."),
    ):
        code, out, err = run_cli("file-server", "create", *ws, "-n", "nfs", "-p", PASSWORD, *args)
        assert (code, out, err) == (1, "", f"ERROR: {message}\n")
    config = tmp_path / "nfs.json"
    config.write_text(json.dumps({"properties": {
        "vmSize": "STANDARD_D1",
        "dataDisks": {"diskSizeInGB": 10, "diskCount": 2, "storageAccountType": "Standard_LRS"},
        "sshConfiguration": {"userAccountSettings": {"adminUserName": "demo", "adminUserPassword": PASSWORD}}}}))
    created = run_json("file-server", "create", *ws, "-n", "nfs", "-f", str(config), "--disk-count", "1",
                       "--caching-type", "readonly")
    assert created["dataDisks"]["diskCount"] == 1 and created["dataDisks"]["cachingType"] == "readonly"
    assert created["sshConfiguration"]["userAccountSettings"]["adminUserPassword"] is None
    code, out, err = run_cli("file-server", "list", *ws, "-o", "table")
    assert code == 0, err
    header = out.splitlines()[0].split()
    assert header[:5] == ["Name", "Resource", "Group", "Size", "Disks"]
    assert "Mount" in header
    code, out, err = run_cli("file-server", "show", *ws, "-n", "nfs", "-o", "tsv",
                             "--query", "mountSettings.mountPoint")
    assert code == 0 and out.strip().startswith("/")
    code, out, err = run_cli("file-server", "create", *ws, "-n", "nfs2", "-f", str(config), "--storage-sku", "Gold")
    assert code == 2 and "'Gold' is not a valid value for '--storage-sku'" in err
    code, out, err = run_cli("file-server", "delete", *ws, "-n", "nfs", "-y")
    assert (code, out) == (0, ""), err
    assert run_json("file-server", "list", *ws) == []


def test_file_server_defaults_of_0_4_10(run_json, az_defaults):
    run_json("workspace", "create", "-g", "rg", "-n", "ws", "-l", "eastus")
    az_defaults(default_workspace_resource_group="rg", default_workspace_name="ws")
    created = run_json("file-server", "create", "-n", "nfs", "-s", "STANDARD_D1", "--disk-count", "1",
                       "--disk-size", "10", "--storage-sku", "Standard_LRS", "-p", PASSWORD, "--no-wait")
    assert created is None
    # show/delete/list took -g from [defaults] group in 0.4.10, not from default_workspace_resource_group
    assert run_json("file-server", "list", "-g", "rg", "-w", "ws", "--query", "[].name") == ["nfs"]


def test_list_usages(run_cli, az_defaults):
    code, out, err = run_cli("list-usages", "-l", "eastus", "-o", "table")
    assert (code, err) == (0, "")
    assert out.splitlines()[0].split() == ["Value", "Usage", "Limit"]
    assert out.splitlines()[2].split() == ["Clusters", "0", "20"]
    az_defaults(location="eastus")
    code, out, err = run_cli("list-usages", "--only-show-errors", "--query", "[0].name.value")
    assert code == 0 and err == "" and json.loads(out)
    code, out, err = run_cli("--help")
    assert "list-usages" in out  # listed, as in 0.4.10 (its group, not the command, was deprecated)
