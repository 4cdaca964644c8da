"""``batchai cluster ...`` end to end on the local backend (subprocesses, real state, 1-node clusters)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

PASSWORD = "Passw0rd!"
SCHEMAS = (
    "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2017-09-01-preview/cluster.json",
    "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-03-01/cluster.json",
    "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/cluster.json",
)


@pytest.fixture
def ws(run_json):
    """Workspace ``ws`` in resource group ``rg``."""
    run_json("workspace", "create", "-g", "rg", "-n", "ws", "-l", "eastus")
    return ["-g", "rg", "-w", "ws"]


def _storage_account(cli_env, name="mystorage"):
    """A local storage account (through the Python stand-in; the CLI's storage commands are tested elsewhere)."""
    from batchai_compat.resource import ResourceManagementClient
    from batchai_compat.storage_mgmt import StorageManagementClient

    sub = "00000000-0000-0000-0000-000000000000"
    ResourceManagementClient(object(), sub).resource_groups.create_or_update("storage-rg", {"location": "eastus"})
    client = StorageManagementClient(object(), sub)
    client.storage_accounts.create("storage-rg", name, {"sku": {"name": "Standard_LRS"}, "kind": "Storage",
                                                        "location": "eastus"}).result()
    return client.storage_accounts.list_keys("storage-rg", name).keys[0].value


def _write(tmp_path: Path, body, name="cluster.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_create_show_list_resize_autoscale_delete(run_cli, run_json, ws):
    created = run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-u", "alice",
                       "-p", PASSWORD)
    assert created["name"] == "c1" and created["vmSize"] == "STANDARD_D1"
    assert created["scaleSettings"]["manual"]["targetNodeCount"] == 1
    assert created["userAccountSettings"]["adminUserName"] == "alice"
    assert created["userAccountSettings"]["adminUserPassword"] is None  # secrets are never returned
    assert created["resourceGroup"] == "rg"
    assert created["id"].endswith("/resourceGroups/rg/providers/Microsoft.BatchAI/workspaces/ws/clusters/c1")

    code, out, err = run_cli("cluster", "show", *ws, "-n", "c1", "-o", "table")
    assert code == 0, err
    header, _, row = out.splitlines()[:3]
    assert header.split() == ["Name", "Resource", "Group", "Workspace", "VM", "Size", "State", "Idle", "Running",
                              "Preparing", "Leaving", "Unusable"]
    assert row.split()[:4] == ["c1", "rg", "ws", "STANDARD_D1"]
    assert run_json("cluster", "list", *ws, "--query", "[].name") == ["c1"]
    assert run_json("cluster", "show", "--ids", created["id"], "--query", "name") == "c1"
    code, _, err = run_cli("cluster", "list", "-w", "ws")
    assert code == 2 and "the following arguments are required: --resource-group/-g" in err

    resized = run_json("cluster", "resize", *ws, "-n", "c1", "-t", "0")
    assert resized["scaleSettings"]["manual"]["targetNodeCount"] == 0
    scaled = run_json("cluster", "auto-scale", *ws, "-n", "c1", "--min", "0", "--max", "2")
    assert scaled["scaleSettings"]["autoScale"]["minimumNodeCount"] == 0
    assert scaled["scaleSettings"]["autoScale"]["maximumNodeCount"] == 2

    code, out, err = run_cli("cluster", "delete", *ws, "-n", "c1")
    assert (code, out) == (1, "")
    assert "ERROR: Operation cancelled." in err
    code, out, err = run_cli("cluster", "delete", *ws, "-n", "c1", "-y")
    assert (code, out) == (0, ""), err
    code, _, err = run_cli("cluster", "show", *ws, "-n", "c1")
    assert code == 3 and err == "ERROR: The specified cluster c1 is not found\n"


def test_shorthand_options_image_priority_autoscale_and_default_key(run_json, ws, cli_env):
    key_path = Path(cli_env["HOME"]) / ".ssh" / "id_rsa.pub"
    created = run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "--generate-ssh-keys",
                       "-i", "UbuntuDSVM", "--vm-priority", "lowpriority", "--min", "0", "--max", "1")
    assert key_path.exists()
    assert oct(os.stat(key_path.with_suffix("")).st_mode & 0o777) == "0o600"
    settings = created["userAccountSettings"]
    assert settings["adminUserSshPublicKey"] == key_path.read_text()
    assert created["vmPriority"] == "lowpriority"
    image = created["virtualMachineConfiguration"]["imageReference"]
    assert (image["publisher"], image["offer"], image["sku"]) == ("microsoft-ads", "linux-data-science-vm-ubuntu",
                                                                  "linuxdsvmubuntu")
    assert created["scaleSettings"]["autoScale"] == {"initialNodeCount": 0, "maximumNodeCount": 1,
                                                     "minimumNodeCount": 0}
    # the default key (~/.ssh/id_rsa.pub) is used when neither password nor key is given
    again = run_json("cluster", "create", *ws, "-n", "c2", "-s", "STANDARD_D1", "-t", "1",
                     "-i", "Canonical:UbuntuServer:16.04-LTS:latest")
    assert again["userAccountSettings"]["adminUserSshPublicKey"] == key_path.read_text()
    assert again["virtualMachineConfiguration"]["imageReference"]["version"] == "latest"


@pytest.mark.parametrize("schema", SCHEMAS)
def test_config_file_envelope_of_each_api_version(run_json, ws, tmp_path, schema):
    path = _write(tmp_path, {"$schema": schema, "properties": {
        "vmSize": "STANDARD_D1", "scaleSettings": {"manual": {"targetNodeCount": 0}},
        "userAccountSettings": {"adminUserName": "demo", "adminUserPassword": PASSWORD}}})
    created = run_json("cluster", "create", *ws, "-n", "c1", "-f", path)
    assert created["vmSize"] == "STANDARD_D1"
    assert created["userAccountSettings"]["adminUserName"] == "demo"


def test_bare_config_file_and_options_win_over_the_file(run_json, ws, tmp_path):
    path = _write(tmp_path, {"vmSize": "STANDARD_D1", "scaleSettings": {"manual": {"targetNodeCount": 0}},
                             "userAccountSettings": {"adminUserName": "demo", "adminUserPassword": PASSWORD}})
    created = run_json("cluster", "create", *ws, "-n", "c1", "--config-file", path, "-s", "STANDARD_D2",
                       "-u", "bob")
    assert created["vmSize"] == "STANDARD_D2"
    assert created["userAccountSettings"]["adminUserName"] == "bob"


def test_afs_and_bfs_options_add_mounts_to_the_file_and_keys_are_looked_up(run_json, ws, tmp_path, cli_env):
    _storage_account(cli_env)
    path = _write(tmp_path, {"properties": {
        "vmSize": "STANDARD_D1", "scaleSettings": {"manual": {"targetNodeCount": 0}},
        "userAccountSettings": {"adminUserName": "demo", "adminUserPassword": PASSWORD},
        "nodeSetup": {"mountVolumes": {"azureFileShares": [{
            "accountName": "<AZURE_BATCHAI_STORAGE_ACCOUNT>", "relativeMountPath": "fromfile",
            "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/data",
            "credentials": {"accountKey": "<AZURE_BATCHAI_STORAGE_KEY>"}}]}}}})
    created = run_json("cluster", "create", *ws, "-n", "c1", "-f", path, "--storage-account-name", "mystorage",
                       "--afs-name", "logs", "--afs-mount-path", "logs", "--bfs-name", "models")
    volumes = created["nodeSetup"]["mountVolumes"]
    shares = {s["relativeMountPath"]: s for s in volumes["azureFileShares"]}
    assert set(shares) == {"fromfile", "logs"}
    assert shares["fromfile"]["azureFileUrl"] == "https://mystorage.file.core.windows.net/data"
    assert shares["logs"]["azureFileUrl"] == "https://mystorage.file.core.windows.net/logs"
    assert all(s["credentials"]["accountKey"] is None for s in shares.values())  # stripped on read
    (blob,) = volumes["azureBlobFileSystems"]
    assert (blob["accountName"], blob["containerName"], blob["relativeMountPath"]) == ("mystorage", "models", "bfs")


def test_storage_account_from_environment_variables(run_cli, ws, cli_env):
    key = _storage_account(cli_env, "envstorage")
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                             "--afs-name", "share", "--query", "nodeSetup.mountVolumes.azureFileShares[0].accountName",
                             env={"AZURE_BATCHAI_STORAGE_ACCOUNT": "envstorage", "AZURE_BATCHAI_STORAGE_KEY": key})
    assert code == 0, err
    assert json.loads(out) == "envstorage"
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c2", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                             "--afs-name", "share")
    assert code == 1
    assert err == ("ERROR: Please configure Azure Storage account name via AZURE_BATCHAI_STORAGE_ACCOUNT or provide "
                   "storage_account value in batchai section of your az configuration file.\n")


def test_auto_storage_setup_task_and_cluster_file_list(run_cli, run_json, ws):
    created = run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                       "--use-auto-storage", "--setup-task", "echo hello-from-setup",
                       "--setup-task-output", "$AZ_BATCHAI_MOUNT_ROOT/autoafs")
    volumes = created["nodeSetup"]["mountVolumes"]
    account = volumes["azureFileShares"][0]["accountName"]
    assert account.startswith("bai") and len(account) == 15
    assert volumes["azureFileShares"][0]["azureFileUrl"].endswith("/batchaishare")
    assert volumes["azureFileShares"][0]["relativeMountPath"] == "autoafs"
    assert volumes["azureBlobFileSystems"][0]["containerName"] == "batchaicontainer"
    assert volumes["azureBlobFileSystems"][0]["relativeMountPath"] == "autobfs"
    # a second cluster in the same location reuses the auto-storage account
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c2", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                             "--use-auto-storage", "--query", "nodeSetup.mountVolumes.azureFileShares[0].accountName")
    assert code == 0 and json.loads(out) == account
    assert f"Using existing {account} storage account as an auto-storage account" in err
    files = _wait_for_setup_files(run_json, ws)
    names = {f["name"] for f in files}
    assert any(n.startswith("stdout-") for n in names), names
    stdout = next(f for f in files if f["name"].startswith("stdout-"))
    assert stdout["is_directory"] is False and stdout["size"] == len("hello-from-setup\n")
    code, out, _ = run_cli("cluster", "file", "list", *ws, "-c", "c1", "-o", "table")
    assert code == 0 and out.splitlines()[0].split() == ["Name", "Is", "directory", "Size"]


def _wait_for_setup_files(run_json, ws):
    import time

    deadline = time.monotonic() + 90
    while True:
        files = run_json("cluster", "file", "list", *ws, "-c", "c1")
        if any(f["name"].startswith("stdout-") and f["size"] for f in files) or time.monotonic() > deadline:
            return files
        time.sleep(0.5)


def test_custom_image_and_subnet(run_json, ws):
    sub = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
    image, subnet = f"{sub}/Microsoft.Compute/images/myimage", f"{sub}/Microsoft.Network/virtualNetworks/v/subnets/s"
    created = run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                       "-i", "UbuntuLTS", "--custom-image", image, "--subnet", subnet)
    reference = created["virtualMachineConfiguration"]["imageReference"]
    assert (reference["publisher"], reference["virtualMachineImageId"]) == ("Canonical", image)
    assert created["subnet"]["id"] == subnet


def test_node_list_and_exec_on_a_local_node(run_cli, run_json, ws):
    run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD)
    nodes = run_json("cluster", "node", "list", *ws, "-c", "c1")
    assert len(nodes) == 1 and nodes[0]["ipAddress"].startswith("127.")
    code, out, err = run_cli("cluster", "node", "exec", *ws, "-c", "c1", "--exec",
                             'echo "mounts=$AZ_BATCHAI_MOUNT_ROOT"; exit 3')
    assert code == 3, err
    assert out.startswith("mounts=") and out.strip().endswith("/mounts")
    code, out, err = run_cli("cluster", "node", "exec", *ws, "-c", "c1", "-n", "nope", "--exec", "true")
    assert (code, err) == (1, "ERROR: Cannot find a node with id=nope\n")
    code, out, err = run_cli("cluster", "node", "exec", *ws, "-c", "c1", "-L", "8080:localhost:8080")
    assert code == 1 and "Port forwarding (-L/--address) is not needed on the local backend" in err


@pytest.mark.parametrize(("args", "message"), [
    (["-t", "1", "-p", PASSWORD], "Please provide VM size"),
    # as in 0.4.10, -t 0 alone is "no scale settings" (0 is falsy there): zero-node clusters need a file
    (["-s", "STANDARD_D1", "-t", "0", "-p", PASSWORD], "Please provide scale setting for the cluster via command "
                                                        "line or configuration file"),
    (["-s", "STANDARD_D1", "-p", PASSWORD], "Please provide scale setting for the cluster via command line or "
                                             "configuration file"),
    (["-s", "STANDARD_D1", "-t", "1"], "Please provide admin user password or ssh key."),
    (["-s", "STANDARD_D1", "-t", "1", "-k", "not-a-key"], "Incorrect ssh public key value."),
    (["-s", "STANDARD_D1", "--min", "1", "-p", PASSWORD],
     "You need to either provide both min and max node counts or not provide any of them"),
    (["-s", "STANDARD_D1", "--min", "2", "--max", "1", "-p", PASSWORD],
     "Maximum nodes count must be greater or equal to minimum nodes count"),
    (["-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD, "-i", "Windows"],
     'Unsupported image alias "Windows", supported aliases are UbuntuLTS, UbuntuDSVM'),
    (["-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD, "--setup-task", "true"],
     "--setup-task requires providing of --setup-task-output"),
    (["-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD, "--subnet", "subnet1"], "Ill-formed subnet resource id"),
    (["-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD, "--custom-image", "/subscriptions/x/resourceGroups/rg/"
      "providers/Microsoft.Compute/images/i"], "You need to specify --image argument with information about the "
                                               "custom image"),
    (["-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD, "-i", "a:b:c"],
     '--image must have format "publisher:offer:sku:version" or "publisher:offer:sku:"'),
])
def test_create_errors_leave_nothing_behind(run_cli_inproc, args, message):
    # in-process (the subprocess runner is exercised by every other test): these are the CLI's own checks
    ws = ["-g", "rg", "-w", "ws"]
    assert run_cli_inproc("workspace", "create", "-g", "rg", "-n", "ws", "-l", "eastus", "-o", "none")[0] == 0
    code, out, err = run_cli_inproc("cluster", "create", *ws, "-n", "c1", *args)
    assert (code, out, err) == (1, "", f"ERROR: {message}\n")
    assert run_cli_inproc("cluster", "list", *ws) == (0, "[]\n", "")


def test_file_errors_and_rejected_names(run_cli, run_json, ws, tmp_path):
    missing = str(tmp_path / "missing.json")
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c1", "-f", missing)
    assert (code, out, err) == (1, "", f"ERROR: [Errno 2] No such file or directory: '{missing}'\n")
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json", encoding="utf-8")
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c1", "-f", str(bad))
    assert (code, out, err) == (1, "", "ERROR: Expecting property name enclosed in double quotes: line 1 column 3 "
                                       "(char 2)\n")
    code, out, err = run_cli("cluster", "create", *ws, "-n", "bad name!", "-s", "STANDARD_D1", "-t", "1",
                             "-p", PASSWORD)
    assert code == 1 and out == ""
    assert err == "ERROR: validation error: Parameter 'cluster_name' must conform to the following pattern: " \
                  "'^[-\\\\w_]+$'.\n"
    run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD)
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD)
    assert (code, err) == (1, 'ERROR: "c1" already exists in "rg" resource group under ws resource group.\n')
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c2", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                             "--vm-priority", "cheap")
    assert code == 2 and "'cheap' is not a valid value for '--vm-priority'" in err
    assert run_json("cluster", "list", *ws, "--query", "[].name") == ["c1"]


def test_no_wait_create_and_delete(run_cli, run_json, ws):
    code, out, err = run_cli("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                             "--no-wait")
    assert (code, out) == (0, ""), err
    assert run_json("cluster", "show", *ws, "-n", "c1", "--query", "name") == "c1"
    code, out, err = run_cli("cluster", "delete", *ws, "-n", "c1", "-y", "--no-wait")
    assert (code, out) == (0, ""), err


def test_nfs_mount_by_name(run_json, ws):
    run_json("file-server", "create", *ws, "-n", "nfs1", "-s", "STANDARD_D1", "--disk-count", "1",
             "--disk-size", "10", "--storage-sku", "Standard_LRS", "-p", PASSWORD)
    created = run_json("cluster", "create", *ws, "-n", "c1", "-s", "STANDARD_D1", "-t", "1", "-p", PASSWORD,
                       "--nfs", "nfs1", "--nfs-mount-path", "shared")
    (mount,) = created["nodeSetup"]["mountVolumes"]["fileServers"]
    assert mount["relativeMountPath"] == "shared" and mount["mountOptions"] == "rw"
    assert mount["fileServer"]["id"].endswith("/workspaces/ws/fileServers/nfs1") or \
        mount["fileServer"]["id"].lower().endswith("/workspaces/ws/fileservers/nfs1")
