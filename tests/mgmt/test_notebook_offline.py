"""A whole Batch AI notebook offline: the recipes' ``utilities`` package, a resource group, a storage
account whose key feeds ``FileService``, a job mounting its share, and clean-up by deleting the group.

Run twice, in fresh processes on a fresh ``BATCHAI_COMPAT_HOME``:

* **imports changed only**: the compat ``samples/utilities`` and the notebook with each import line
  rewritten as the migration guide's import table says (the test checks that nothing but import
  lines differs);
* **install() only**: the legacy ``samples/_legacy/utilities`` and the notebook exactly as written in
  2018, after ``batchai_compat.install()``.

Loopback proof: the runner wraps ``socket.getaddrinfo``, ``socket.create_connection`` and
``socket.socket.connect`` in the notebook's process and records every address; the test asserts that
each one is 127.0.0.1/localhost (a real one — the SAS download from the storage classes' loopback
server — is among them, so the wrapper demonstrably sees traffic). Job processes run under the local
backend's supervisors, separate processes that the wrapper does not see; they run only the job's
own command line here.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batchai_compat.resource import ResourceManagementClient

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SUB = "00000000-0000-0000-0000-000000000000"

pytestmark = [pytest.mark.spawns_processes]

NOTEBOOK = '''\
from __future__ import print_function

import os
import sys

import requests

import azure.mgmt.batchai as training
import azure.mgmt.batchai.models as models
import azure.storage.file.models
from azure.common.credentials import ServicePrincipalCredentials
from azure.mgmt.resource import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient
from azure.mgmt.storage.models import Kind, Sku, SkuName, StorageAccountCreateParameters
from azure.storage.file import FileService

sys.path.append('.')
import utilities as utils

cfg = utils.config.Configuration('configuration.json')
utils.config.create_resource_group(cfg)
client = utils.config.create_batchai_client(cfg)
credentials = ServicePrincipalCredentials(client_id=cfg.aad_client_id, secret=cfg.aad_secret_key,
                                          token_uri=cfg.aad_token_uri)

# A storage account for the notebook's data, and its key for the storage SDK
storage_client = StorageManagementClient(credentials, cfg.subscription_id)
account = storage_client.storage_accounts.create(
    cfg.resource_group, 'notebookstore',
    StorageAccountCreateParameters(sku=Sku(name=SkuName.standard_lrs), kind=Kind.storage,
                                   location=cfg.location)).result()
print('Storage account', account.name, 'succeeded:', account.provisioning_state == 'Succeeded')
storage_account_key = storage_client.storage_accounts.list_keys(cfg.resource_group, account.name).keys[0].value

file_service = FileService(account.name, storage_account_key)
file_service.create_share('scripts', fail_on_exist=False)
file_service.create_file_from_text('scripts', None, 'train.py', 'print("trained on " + open(__file__).name)\\n')
uploaded = file_service.get_file_to_text('scripts', None, 'train.py')
assert isinstance(uploaded, azure.storage.file.models.File), type(uploaded)
sas = file_service.generate_file_shared_access_signature('scripts', None, 'train.py', permission='r',
                                                         expiry='2099-01-01T00:00:00Z')
print('SAS download:', requests.get(file_service.make_file_url('scripts', None, 'train.py', sas_token=sas)).status_code)

_ = client.workspaces.create(cfg.resource_group, cfg.workspace, cfg.location).result()
cluster = client.clusters.create(cfg.resource_group, cfg.workspace, 'nc6', models.ClusterCreateParameters(
    vm_size='STANDARD_NC6',
    scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
    user_account_settings=models.UserAccountSettings(admin_user_name=cfg.admin,
                                                     admin_user_password=cfg.admin_password))).result()
experiment = client.experiments.create(cfg.resource_group, cfg.workspace, 'notebook_experiment').result()
job = client.jobs.create(cfg.resource_group, cfg.workspace, experiment.name, 'train', models.JobCreateParameters(
    cluster=models.ResourceId(id=cluster.id),
    node_count=1,
    mount_volumes=models.MountVolumes(azure_file_shares=[
        models.AzureFileShareReference(
            account_name=account.name,
            credentials=models.AzureStorageCredentialsInfo(account_key=storage_account_key),
            azure_file_url='https://{0}.file.core.windows.net/{1}'.format(account.name, 'scripts'),
            relative_mount_path='afs'),
        models.AzureFileShareReference(
            account_name=account.name,
            credentials=models.AzureStorageCredentialsInfo(account_key=storage_account_key),
            azure_file_url=account.primary_endpoints.file + 'scripts',
            relative_mount_path='afs2')]),
    std_out_err_path_prefix='$AZ_BATCHAI_JOB_MOUNT_ROOT/afs',
    custom_toolkit_settings=models.CustomToolkitSettings(
        command_line='python $AZ_BATCHAI_JOB_MOUNT_ROOT/afs/train.py && '
                     'python $AZ_BATCHAI_JOB_MOUNT_ROOT/afs2/train.py'))).result()
job = utils.job.wait_for_job_completion(client, cfg.resource_group, cfg.workspace, experiment.name, 'train', 'nc6')
for f in client.jobs.list_output_files(cfg.resource_group, cfg.workspace, experiment.name, 'train',
                                       models.JobsListOutputFilesOptions(outputdirectoryid='stdouterr')):
    if f.name == 'stdout.txt':
        print('stdout.txt:', requests.get(f.download_url).text.strip().replace('\\n', ' | '))

# Clean up: deleting the resource group deletes the workspace (cluster, job) and the storage account
resource_client = ResourceManagementClient(credentials, cfg.subscription_id)
resource_client.resource_groups.delete(cfg.resource_group).result()
print('Group exists after delete:', resource_client.resource_groups.check_existence(cfg.resource_group))
print('Workspaces left:', len(list(client.workspaces.list())))
print('Accounts left:', len(list(storage_client.storage_accounts.list())))
'''

# The migration guide's import table, as line rewrites (docs/migration.md).
REWRITES = {
    "import azure.mgmt.batchai as training": "import batchai_compat as training",
    "import azure.mgmt.batchai.models as models": "import batchai_compat.models as models",
    "import azure.storage.file.models": "from batchai_compat.legacy import azure",
    "from azure.common.credentials import ServicePrincipalCredentials":
        "from batchai_compat.credentials import ServicePrincipalCredentials",
    "from azure.mgmt.resource import ResourceManagementClient":
        "from batchai_compat.resource import ResourceManagementClient",
    "from azure.mgmt.storage import StorageManagementClient":
        "from batchai_compat.storage_mgmt import StorageManagementClient",
    "from azure.mgmt.storage.models import Kind, Sku, SkuName, StorageAccountCreateParameters":
        "from batchai_compat.storage_mgmt.models import Kind, Sku, SkuName, StorageAccountCreateParameters",
    "from azure.storage.file import FileService": "from batchai_compat.storage import FileService",
}

RUNNER = '''
import json, os, runpy, socket, sys
seen = []
_getaddrinfo, _create_connection, _connect = socket.getaddrinfo, socket.create_connection, socket.socket.connect
def getaddrinfo(host, *args, **kwargs):
    seen.append(["getaddrinfo", str(host)])
    return _getaddrinfo(host, *args, **kwargs)
def create_connection(address, *args, **kwargs):
    seen.append(["create_connection", str(address[0])])
    return _create_connection(address, *args, **kwargs)
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        seen.append(["connect", str(address[0])])
    return _connect(self, address)
socket.getaddrinfo, socket.create_connection, socket.socket.connect = getaddrinfo, create_connection, connect
try:
    if {install!r}:
        import batchai_compat
        batchai_compat.install()
    sys.argv = ["notebook.py"]
    runpy.run_path("notebook.py", run_name="__main__")
finally:
    with open("addresses.json", "w") as f:
        json.dump(seen, f)
'''
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _compat_notebook() -> str:
    lines = []
    for line in NOTEBOOK.splitlines(keepends=True):
        stripped = line.strip()
        lines.append(REWRITES[stripped] + "\n" if stripped in REWRITES else line)
    return "".join(lines)


def test_the_compat_notebook_differs_in_import_lines_only():
    def strip(text):
        tree = ast.parse(text)
        tree.body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        return ast.dump(tree)

    compat = _compat_notebook()
    assert strip(compat) == strip(NOTEBOOK)
    legacy_roots = ("azure.", "msrestazure")
    for node in ast.walk(ast.parse(compat)):
        if isinstance(node, ast.Import):
            assert not [a.name for a in node.names if a.name.startswith(legacy_roots)]
        elif isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith(legacy_roots)


def _configuration(path: Path) -> None:
    config = json.loads((SAMPLES / "custom_toolkit_jobprep" / "configuration.json").read_text())
    config.update({"resource_group": "notebook_rg", "workspace": "notebook_ws"})
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("variant", ["imports_changed", "install_only"])
def test_notebook_runs_offline_and_only_on_loopback(variant, tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    work = tmp_path / "nb"
    work.mkdir()
    utilities = SAMPLES / ("utilities" if variant == "imports_changed" else "_legacy/utilities")
    shutil.copytree(str(utilities), str(work / "utilities"), ignore=shutil.ignore_patterns("__pycache__"))
    (work / "notebook.py").write_text(_compat_notebook() if variant == "imports_changed" else NOTEBOOK)
    _configuration(work / "configuration.json")
    from tests.samples.conftest import sample_environment

    env = sample_environment(home)
    result = subprocess.run([sys.executable, "-c", RUNNER.format(install=variant == "install_only")], cwd=str(work),
                            env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Storage account notebookstore succeeded: True" in out
    assert "SAS download: 200" in out
    assert "Job state: succeeded ExitCode: 0" in out
    assert "stdout.txt: trained on " in out and out.count("train.py") >= 2  # both mounts, both URL forms
    assert "Group exists after delete: False" in out
    assert "Workspaces left: 0" in out and "Accounts left: 0" in out
    addresses = json.loads((work / "addresses.json").read_text())
    assert any(kind == "connect" for kind, _host in addresses), "the wrapper saw no connection at all"
    assert {host for _kind, host in addresses} <= LOOPBACK, addresses
    print(f"{variant}: {len(addresses)} socket calls recorded, all to {sorted({h for _k, h in addresses})}")
    # The group was created by utilities.config.create_resource_group, in this home.
    assert not (home / "storage" / "notebookstore").exists()
    assert ResourceManagementClient(object(), SUB, home=str(home)).resource_groups.check_existence("notebook_rg") \
        is False
