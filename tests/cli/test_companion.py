"""``batchai group ...`` / ``batchai storage ...``: options, output shapes, messages and exit codes of az.

Reference: azure-cli-resource 2.1.0 and azure-cli-storage 2.2.0 (``commands.py``, ``_params.py``,
``_format.py``, ``_transformers.py``, ``_validators.py``, ``operations/*.py``), azure-cli-core 2.0.42
(show commands exit 3 on a 404). Most tests run the CLI in-process (``run_cli_inproc``) for speed;
the ones about stdin, secrets in logs and the az shim run real subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

import pytest

Result = Tuple[int, str, str]
ACCOUNT = "companionacct1"

_STORAGE_ENV = ("AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                "AZURE_STORAGE_SAS_TOKEN", "BATCHAI_COMPAT_AZ_COMPANION", "BATCHAI_COMPAT_STORAGE")


@pytest.fixture(autouse=True)
def _no_storage_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _STORAGE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(run_cli: Callable[..., Result]) -> Callable[..., Result]:
    """A real subprocess: stderr (knack's ERROR/WARNING lines) and exit codes exactly as a shell sees them."""
    return run_cli


@pytest.fixture
def ok(run_cli_inproc: Callable[..., Result]) -> Callable[..., Any]:
    """Run a command that must succeed (in-process, for speed); returns its parsed JSON (None: no output)."""

    def _run(*args: str, **kwargs: Any) -> Any:
        code, out, err = run_cli_inproc(*args, **kwargs)
        assert code == 0, f"batchai {' '.join(args)} exited {code}: {err}"
        return json.loads(out) if out.strip() else None

    return _run


@pytest.fixture
def account(ok: Callable[..., Any]) -> str:
    """A resource group ``rg`` (westus2) with storage account ``companionacct1``."""
    ok("group", "create", "-n", "rg", "-l", "westus2")
    ok("storage", "account", "create", "-n", ACCOUNT, "-g", "rg", "--sku", "Standard_LRS")
    return ACCOUNT


# -- az group ------------------------------------------------------------------------------------


def test_group_lifecycle(ok: Callable[..., Any], cli: Callable[..., Result]) -> None:
    group = ok("group", "create", "--name", "rg1", "--location", "eastus", "--tags", "team=ml", "solo")
    assert group["id"] == "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1"
    assert (group["name"], group["location"], group["tags"]) == ("rg1", "eastus", {"team": "ml", "solo": ""})
    assert group["properties"] == {"provisioningState": "Succeeded"}
    # azure-cli printed the ResourceGroup model's fields only (no resourceGroup: its id is too short).
    assert sorted(group) == ["id", "location", "managedBy", "name", "properties", "tags"]
    assert ok("group", "show", "-g", "rg1")["location"] == "eastus"
    assert ok("group", "exists", "-n", "rg1") is True
    assert ok("group", "exists", "-n", "other") is False
    assert [g["name"] for g in ok("group", "list", "--tag", "team=ml")] == ["rg1"]
    code, out, _ = cli("group", "list", "-o", "table")
    assert code == 0
    assert out.splitlines()[0].split() == ["Name", "Location", "Status"]
    assert out.splitlines()[2].split() == ["rg1", "eastus", "Succeeded"]
    assert ok("group", "delete", "-n", "rg1", "--yes") is None
    assert ok("group", "exists", "-n", "rg1") is False


def test_group_show_missing_exits_3_like_azure_cli(cli: Callable[..., Result]) -> None:
    code, out, err = cli("group", "show", "-n", "nope")
    assert (code, out) == (3, "")
    assert err.strip() == "ERROR: Resource group 'nope' could not be found."


def test_group_create_needs_a_location(cli: Callable[..., Result]) -> None:
    code, _, err = cli("group", "create", "-n", "rg1")
    assert code == 2
    assert "--location/-l" in err and "required" in err


def test_group_delete_without_yes_asks_and_a_script_without_tty_is_refused(run_cli: Callable[..., Result],
                                                                            ok: Callable[..., Any]) -> None:
    ok("group", "create", "-n", "rg1", "-l", "eastus")
    code, out, err = run_cli("group", "delete", "-n", "rg1")  # stdin is not a terminal
    assert code == 1 and out == ""
    assert ok("group", "exists", "-n", "rg1") is True


def test_configured_default_group(ok: Callable[..., Any], az_defaults: Callable[..., Path]) -> None:
    ok("group", "create", "-n", "rgdef", "-l", "eastus")
    az_defaults(group="rgdef")
    assert ok("group", "show")["name"] == "rgdef"


# -- az storage account --------------------------------------------------------------------------


def test_account_create_defaults_as_azure_cli(ok: Callable[..., Any]) -> None:
    ok("group", "create", "-n", "rg", "-l", "westus2")
    created = ok("storage", "account", "create", "-n", "defaultsacct", "-g", "rg")
    # azure-cli-storage 2.2.0: --sku defaults to Standard_RAGRS, --kind to Storage, -l to the group's.
    assert (created["sku"]["name"], created["kind"], created["location"]) == ("Standard_RAGRS", "Storage", "westus2")
    assert created["resourceGroup"] == "rg" and created["provisioningState"] == "Succeeded"
    assert created["primaryEndpoints"]["file"].startswith("http://127.0.0.1:")


def test_account_show_list_keys_and_connection_string(ok: Callable[..., Any], account: str) -> None:
    shown = ok("storage", "account", "show", "-n", account)  # -g found by name, as az did
    assert shown["name"] == account and shown["resourceGroup"] == "rg"
    assert [a["name"] for a in ok("storage", "account", "list", "-g", "rg")] == [account]
    keys = ok("storage", "account", "keys", "list", "-n", account)
    assert [(k["keyName"], k["permissions"]) for k in keys] == [("key1", "Full"), ("key2", "Full")]
    assert all(len(k["value"]) == 88 for k in keys)
    renewed = ok("storage", "account", "keys", "renew", "-n", account, "-g", "rg", "--key", "secondary")
    assert renewed[0]["value"] == keys[0]["value"] and renewed[1]["value"] != keys[1]["value"]
    conn = ok("storage", "account", "show-connection-string", "-n", account, "--key", "secondary")
    assert conn == {"connectionString": "DefaultEndpointsProtocol=https;EndpointSuffix=core.windows.net;"
                                        f"AccountName={account};AccountKey={renewed[1]['value']}"}
    custom = ok("storage", "account", "show-connection-string", "-n", account, "--protocol", "http",
                "--blob-endpoint", "http://127.0.0.1:10000/x")
    assert custom["connectionString"].startswith("DefaultEndpointsProtocol=http;")
    assert custom["connectionString"].endswith(";BlobEndpoint=http://127.0.0.1:10000/x")


def test_account_show_and_delete(ok: Callable[..., Any], cli: Callable[..., Result], account: str) -> None:
    code, _, err = cli("storage", "account", "show", "-n", "missingacct")
    assert (code, err.strip()) == (1, "ERROR: Storage account 'missingacct' not found.")
    code, _, err = cli("storage", "account", "show", "-n", "missingacct", "-g", "rg")
    assert code == 3 and err.startswith("ERROR: ")
    home = Path(os.environ["BATCHAI_COMPAT_HOME"])
    assert (home / "storage" / account).is_dir()
    assert ok("storage", "account", "delete", "-n", account, "-y") is None
    assert ok("storage", "account", "list") == []
    assert not (home / "storage" / account).exists()


def test_account_name_taken_and_invalid(ok: Callable[..., Any], cli: Callable[..., Result], account: str) -> None:
    ok("group", "create", "-n", "rg2", "-l", "eastus")
    code, _, err = cli("storage", "account", "create", "-n", account, "-g", "rg2")
    assert (code, err.strip()) == (1, f"ERROR: The storage account named {account} already exists under the "
                                      "subscription.")
    code, _, err = cli("storage", "account", "create", "-n", "Bad_Name", "-g", "rg2")
    assert code == 1 and err.startswith("ERROR: ") and "Bad_Name" in err
    code, _, err = cli("storage", "account", "create", "-n", "okname22", "-g", "rg2", "--sku", "Cheap")
    assert code == 2 and "'Cheap' is not a valid value for '--sku'" in err


def test_secrets_are_printed_only_by_keys_and_connection_string(run_cli: Callable[..., Result],
                                                                ok: Callable[..., Any], account: str) -> None:
    key = ok("storage", "account", "keys", "list", "-n", account)[0]["value"]
    for args in (("storage", "account", "show", "-n", account), ("storage", "account", "list"),
                 ("storage", "account", "create", "-n", account, "-g", "rg", "--sku", "Standard_LRS")):
        code, out, err = run_cli(*args, "--debug")
        assert code == 0
        assert key not in out and key not in err
    # The data-plane commands look the key up (no --account-key): it is never logged, even with --debug.
    code, out, err = run_cli("storage", "share", "create", "-n", "secret", "--account-name", account, "--debug")
    assert code == 0 and json.loads(out) == {"created": True}
    assert key not in out and key not in err


# -- az storage share / directory / file ---------------------------------------------------------


def test_share_directory_file_commands(ok: Callable[..., Any], cli: Callable[..., Result], account: str,
                                       tmp_path: Path) -> None:
    acct = ("--account-name", account)
    assert ok("storage", "share", "create", "-n", "scripts", *acct) == {"created": True}
    assert ok("storage", "share", "create", "-n", "scripts", *acct) == {"created": False}
    assert ok("storage", "share", "exists", "-n", "scripts", *acct) == {"exists": True}
    assert ok("storage", "directory", "create", "-n", "cntk", "-s", "scripts", *acct) == {"created": True}
    assert ok("storage", "directory", "exists", "-n", "cntk", "-s", "scripts", *acct) == {"exists": True}
    source = tmp_path / "ConvNet_MNIST.py"
    source.write_text("print('train')\n", encoding="utf-8")
    # --path without a '.' in its last segment is the directory; the file keeps the source's name.
    assert ok("storage", "file", "upload", "-s", "scripts", "--source", str(source), "--path", "cntk", *acct) is None
    assert ok("storage", "file", "upload", "-s", "scripts", "--source", str(source), "-p", "cntk/renamed.py",
              *acct) is None
    assert ok("storage", "file", "upload", "-s", "scripts", "--source", str(source), *acct) is None
    home = Path(os.environ["BATCHAI_COMPAT_HOME"])
    # The very directory the local backend mounts for https://<account>.file.core.windows.net/scripts.
    assert (home / "storage" / account / "shares" / "scripts" / "cntk" / "ConvNet_MNIST.py").read_text() == \
        "print('train')\n"
    assert ok("storage", "file", "exists", "-s", "scripts", "-p", "cntk/renamed.py", *acct) == {"exists": True}
    listed = ok("storage", "file", "list", "-s", "scripts", *acct)
    assert [(i["name"], i["type"]) for i in listed] == [("ConvNet_MNIST.py", "file"), ("cntk", "dir")]
    assert "content" not in listed[0] and listed[0]["properties"]["contentLength"] == 15
    assert [i["name"] for i in ok("storage", "file", "list", "-s", "scripts", "--exclude-dir", *acct)] == \
        ["ConvNet_MNIST.py"]
    code, out, _ = cli("storage", "file", "list", "-s", "scripts", "-p", "cntk", "-o", "table", *acct)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Content", "Length", "Type", "Last", "Modified"]
    assert [line.split()[:3] for line in lines[2:]] == [["ConvNet_MNIST.py", "15", "file"],
                                                        ["renamed.py", "15", "file"]]
    dest = tmp_path / "down"
    dest.mkdir()
    downloaded = ok("storage", "file", "download", "-s", "scripts", "-p", "cntk/renamed.py", "--dest", str(dest),
                    *acct)
    assert downloaded["name"] == "renamed.py" and downloaded["content"] is None
    assert (dest / "renamed.py").read_text() == "print('train')\n"
    assert ok("storage", "file", "delete", "-s", "scripts", "-p", "cntk/renamed.py", *acct) == {"deleted": None}
    code, out, err = cli("storage", "file", "delete", "-s", "scripts", "-p", "cntk/renamed.py", *acct)
    assert (code, out) == (1, "")
    assert err.strip() == "ERROR: The specified resource does not exist. ErrorCode: ResourceNotFound"
    code, out, _ = cli("storage", "share", "list", "-o", "table", *acct)
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["scripts"]
    assert out.splitlines()[0].split() == ["Name", "Quota", "Last", "Modified"]
    assert ok("storage", "share", "delete", "-n", "scripts", *acct) == {"deleted": True}
    assert ok("storage", "share", "exists", "-n", "scripts", *acct) == {"exists": False}


def test_directory_needs_its_parent_and_upload_needs_its_source(cli: Callable[..., Result], ok: Callable[..., Any],
                                                                account: str) -> None:
    acct = ("--account-name", account)
    ok("storage", "share", "create", "-n", "logs", *acct)
    code, _, err = cli("storage", "directory", "create", "-n", "a/b", "-s", "logs", *acct)
    assert code == 1 and "ErrorCode: ParentNotFound" in err
    code, _, err = cli("storage", "file", "upload", "-s", "logs", "--source", "missing.py", *acct)
    assert (code, err.strip()) == (1, "ERROR: [Errno 2] No such file or directory: 'missing.py'")
    code, _, err = cli("storage", "directory", "create", "-n", "x", "-s", "nosuchshare", *acct)
    assert code == 1 and "ErrorCode: ShareNotFound" in err


# -- credentials ---------------------------------------------------------------------------------


def test_credentials_from_options_environment_and_connection_string(ok: Callable[..., Any],
                                                                    cli: Callable[..., Result],
                                                                    account: str) -> None:
    code, out, err = cli("storage", "share", "create", "-n", "nocreds")
    assert (code, out) == (1, "")
    assert err.startswith("ERROR: \nNo credentials specified to access storage service.")
    assert "(3) account name and SAS token" in err
    code, _, err = cli("storage", "share", "create", "-n", "x", "--account-name", "unknownacct")
    assert (code, err.strip()) == (1, "ERROR: Storage account 'unknownacct' not found.")
    # With a key no look-up is made (as az: a key of another subscription's account works).
    assert ok("storage", "share", "create", "-n", "withkey", "--account-name", account, "--account-key", "a2V5") == \
        {"created": True}
    assert ok("storage", "share", "exists", "-n", "withkey", env={"AZURE_STORAGE_ACCOUNT": account}) == \
        {"exists": True}
    conn = ok("storage", "account", "show-connection-string", "-n", account)["connectionString"]
    assert ok("storage", "share", "exists", "-n", "withkey", env={"AZURE_STORAGE_CONNECTION_STRING": conn}) == \
        {"exists": True}
    code, _, err = cli("storage", "share", "exists", "-n", "withkey", "--connection-string", "AccountName=x")
    assert code == 1 and "Connection-string is malformed." in err


# -- az storage container / blob -----------------------------------------------------------------


def test_container_and_blob_commands(ok: Callable[..., Any], cli: Callable[..., Result], account: str,
                                     tmp_path: Path) -> None:
    acct = ("--account-name", account)
    assert ok("storage", "container", "create", "-n", "data", *acct) == {"created": True}
    assert ok("storage", "container", "create", "--name", "data", *acct) == {"created": False}
    assert ok("storage", "container", "exists", "-n", "data", *acct) == {"exists": True}
    code, out, _ = cli("storage", "container", "exists", "-n", "data", "-o", "table", *acct)
    assert out.split() == ["Exists", "--------", "True"]
    model = tmp_path / "inception_v3.ckpt"
    model.write_bytes(b"\x00weights")
    uploaded = ok("storage", "blob", "upload", "--container-name", "data", "--file", str(model),
                  "--name", "pretained_models/inception_v3.ckpt", *acct)
    assert set(uploaded) >= {"etag", "lastModified"}
    samples = tmp_path / "samples"
    (samples / "cats").mkdir(parents=True)
    (samples / "cats" / "1.jpg").write_bytes(b"jpg")
    (samples / "readme.txt").write_text("x", encoding="utf-8")
    batch = ok("storage", "blob", "upload-batch", "--destination", "data", "--source", str(samples),
               "--destination-path", "unlabeled_images", *acct)
    assert [(b["Blob"], b["Type"]) for b in batch] == [
        (f"https://{account}.blob.core.windows.net/data/unlabeled_images/cats/1.jpg", "image/jpeg"),
        (f"https://{account}.blob.core.windows.net/data/unlabeled_images/readme.txt", "text/plain")]
    home = Path(os.environ["BATCHAI_COMPAT_HOME"])
    assert (home / "storage" / account / "blobs" / "data" / "unlabeled_images" / "cats" / "1.jpg").read_bytes() == \
        b"jpg"
    # The Batch-Scoring recipe's spelling: --destination data/unlabeled_images; --pattern; --dryrun uploads nothing.
    dry = ok("storage", "blob", "upload-batch", "--destination", "data/other", "--source", str(samples),
             "--pattern", "cats/*", "--dryrun", *acct)
    assert [(b["Blob"], b["Last Modified"]) for b in dry] == [
        (f"https://{account}.blob.core.windows.net/data/other/cats/1.jpg", None)]
    assert not (home / "storage" / account / "blobs" / "data" / "other").exists()
    names = [b["name"] for b in ok("storage", "blob", "list", "-c", "data", *acct)]
    assert names == ["pretained_models/inception_v3.ckpt", "unlabeled_images/cats/1.jpg",
                     "unlabeled_images/readme.txt"]
    code, out, _ = cli("storage", "blob", "list", "-c", "data", "--prefix", "pretained", "-o", "table", *acct)
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Blob", "Type", "Blob", "Tier", "Length", "Content", "Type", "Last",
                                "Modified", "Snapshot"]
    assert lines[2].split()[:3] == ["pretained_models/inception_v3.ckpt", "BlockBlob", "8"]
    target = tmp_path / "back.ckpt"
    downloaded = ok("storage", "blob", "download", "-c", "data", "-n", "pretained_models/inception_v3.ckpt",
                    "-f", str(target), *acct)
    assert downloaded["name"] == "pretained_models/inception_v3.ckpt"
    assert target.read_bytes() == b"\x00weights"
    assert ok("storage", "blob", "exists", "-c", "data", "-n", "unlabeled_images/readme.txt", *acct) == \
        {"exists": True}
    assert ok("storage", "blob", "delete", "-c", "data", "-n", "unlabeled_images/readme.txt", *acct) == \
        {"deleted": None}
    assert ok("storage", "blob", "exists", "-c", "data", "-n", "unlabeled_images/readme.txt", *acct) == \
        {"exists": False}
    code, _, err = cli("storage", "blob", "download", "-c", "data", "-n", "nope", "-f", str(target), *acct)
    assert code == 1 and err.strip().endswith("ErrorCode: BlobNotFound")
    code, _, err = cli("storage", "blob", "upload", "-c", "data", "-f", str(model), "-n", "disk.vhd", "--type",
                       "page", *acct)
    assert code == 1 and "only block blobs" in err
    code, out, _ = cli("storage", "container", "list", "-o", "table", *acct)
    assert out.splitlines()[0].split() == ["Name", "Lease", "Status", "Last", "Modified"]
    assert ok("storage", "container", "delete", "-n", "data", *acct) == {"deleted": True}
    assert ok("storage", "container", "list", *acct) == []
    assert not (home / "storage" / account / "blobs" / "data").exists()


def test_container_name_rules(cli: Callable[..., Result], account: str) -> None:
    code, out, err = cli("storage", "container", "create", "-n", "c", "--account-name", account)
    assert (code, out) == (1, "")
    assert err.strip() == "ERROR: The specified container name 'c' is not valid. ErrorCode: InvalidResourceName"


# -- the az shim ---------------------------------------------------------------------------------


def _fake_az(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    fake = directory / "az"
    fake.write_text('#!/bin/sh\necho "real az: $*"\nexit 7\n', encoding="utf-8")
    fake.chmod(0o755)
    return fake


def _shim(tmp_path: Path, env: Dict[str, str]) -> Path:
    bin_dir = tmp_path / "shim"
    proc = subprocess.run([sys.executable, "-m", "batchai_compat.cli", "az-shim", "install", "-d", str(bin_dir)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == str(bin_dir / "az")
    return bin_dir


def _az(env: Dict[str, str], path: str, *args: str) -> subprocess.CompletedProcess:
    full = dict(env, PATH=path)
    return subprocess.run(["az", *args], env=full, capture_output=True, text=True, timeout=120)


def test_az_shim_routes_batchai_and_companions_and_forwards_the_rest(tmp_path: Path,
                                                                     cli_env: Dict[str, str]) -> None:
    env = {k: v for k, v in cli_env.items() if k not in _STORAGE_ENV}
    shim = _shim(tmp_path, env)
    # The machine's PATH without any directory holding a real `az`: the no-az case is always observed.
    base = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d and not os.access(os.path.join(d, "az"), os.X_OK))
    alone = f"{shim}{os.pathsep}{base}"
    proc = _az(env, alone, "group", "create", "-n", "rg", "-l", "eastus")
    assert proc.returncode == 0 and json.loads(proc.stdout)["name"] == "rg"
    proc = _az(env, alone, "batchai", "workspace", "create", "-g", "rg", "-n", "ws")
    assert proc.returncode == 0 and json.loads(proc.stdout)["name"] == "ws"
    proc = _az(env, alone, "login")
    assert proc.returncode == 127
    assert "'login' is not provided by batchai_compat's az shim" in proc.stderr

    real = _fake_az(tmp_path / "real")
    both = f"{shim}{os.pathsep}{real.parent}{os.pathsep}{base}"
    proc = _az(env, both, "login", "--use-device-code")
    assert (proc.returncode, proc.stdout) == (7, "real az: login --use-device-code\n")
    assert _az(env, both, "group", "exists", "-n", "rg").stdout.strip() == "true"  # local backend: ours
    on_aml = dict(env, BATCHAI_COMPAT_BACKEND="azureml")
    proc = _az(on_aml, both, "storage", "account", "list")
    assert (proc.returncode, proc.stdout) == (7, "real az: storage account list\n")
    # Forced to ours on the Azure ML backend: the local resource-group client refuses, loudly.
    proc = _az(dict(on_aml, BATCHAI_COMPAT_AZ_COMPANION="compat"), both, "group", "exists", "-n", "rg")
    assert proc.returncode == 1 and proc.stdout == "" and "ERROR: " in proc.stderr
    proc = _az(dict(env, BATCHAI_COMPAT_AZ_COMPANION="az"), both, "group", "exists", "-n", "rg")
    assert proc.stdout == "real az: group exists -n rg\n"
    # `az batchai` is always ours, whatever the routing of the companions.
    proc = _az(dict(env, BATCHAI_COMPAT_AZ_COMPANION="az"), both, "batchai", "workspace", "show", "-g", "rg",
               "-n", "ws", "--query", "name", "-o", "tsv")
    assert (proc.returncode, proc.stdout) == (0, "ws\n")
    # Global options before the command word: their values are not taken for the word.
    proc = _az(env, both, "-o", "tsv", "--query", "name", "batchai", "workspace", "show", "-g", "rg", "-n", "ws")
    assert (proc.returncode, proc.stdout) == (0, "ws\n")
    proc = _az(dict(env, BATCHAI_COMPAT_AZ_COMPANION="sometimes"), both, "group", "list")
    assert proc.returncode == 2 and "BATCHAI_COMPAT_AZ_COMPANION" in proc.stderr


def test_az_shim_never_calls_itself_and_never_overwrites_a_real_az(tmp_path: Path) -> None:
    from batchai_compat.cli import az_shim

    first = az_shim.install(str(tmp_path / "a"))
    second = az_shim.install(str(tmp_path / "b"))
    assert first.read_text().startswith("#!/bin/sh\n" + az_shim.MARKER)
    assert os.access(first, os.X_OK)
    assert az_shim.find_real_az(os.pathsep.join([str(first.parent), str(second.parent)])) is None
    real = _fake_az(tmp_path / "real")
    found = az_shim.find_real_az(os.pathsep.join([str(first.parent), str(second.parent), str(real.parent)]))
    assert found == str(real)
    with pytest.raises(FileExistsError):
        az_shim.install(str(real.parent))
    assert az_shim.install(str(first.parent)) == first  # re-installing a shim is fine
    assert "exec '/opt/py 3/bin/python' -m batchai_compat.cli.az_shim --az \"$@\"" in \
        az_shim.script_text("/opt/py 3/bin/python")
