"""Run by tests/packaging/test_distribution.py with the interpreter of a fresh virtualenv into which only
the built wheel was installed: a one-node job end to end, from creation to a downloaded output file.

Prints one JSON line with what the test checks. Runs from a directory outside the checkout.
"""

import json
import os
import sys
import time
import urllib.request

import batchai_compat as training
import batchai_compat.models as models

home = os.environ["BATCHAI_COMPAT_HOME"] = sys.argv[1]
from batchai_compat.storage import FileService  # noqa: E402  (reads the home at construction)

FileService("acct", "a2V5").create_share("data")
client = training.BatchAIManagementClient(object(), "00000000-0000-0000-0000-000000000000", home=home)
client.workspaces.create("rg", "ws", models.WorkspaceCreateParameters(location="eastus")).result()
cluster = client.clusters.create("rg", "ws", "c1", models.ClusterCreateParameters(
    vm_size="STANDARD_NC6",
    scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
    user_account_settings=models.UserAccountSettings(admin_user_name="demo", admin_user_password="p@ss-w0rd"),
)).result()
client.experiments.create("rg", "ws", "exp").result()
job = client.jobs.create("rg", "ws", "exp", "job1", models.JobCreateParameters(
    cluster=models.ResourceId(id=cluster.id),
    node_count=1,
    mount_volumes=models.MountVolumes(azure_file_shares=[models.AzureFileShareReference(
        account_name="acct", azure_file_url="https://acct.file.core.windows.net/data", relative_mount_path="afs",
        credentials=models.AzureStorageCredentialsInfo(account_key="a2V5"))]),
    std_out_err_path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/afs",
    output_directories=[models.OutputDirectory(id="MODEL", path_prefix="$AZ_BATCHAI_JOB_MOUNT_ROOT/afs")],
    job_preparation=models.JobPreparation(command_line="echo prepared > $AZ_BATCHAI_JOB_TEMP/prep.txt"),
    custom_toolkit_settings=models.CustomToolkitSettings(
        command_line="cat $AZ_BATCHAI_JOB_TEMP/prep.txt && echo from-the-wheel > $AZ_BATCHAI_OUTPUT_MODEL/model.txt"),
)).result()
job = client.jobs.get("rg", "ws", "exp", "job1")
while job.execution_state not in ("succeeded", "failed"):
    time.sleep(0.2)
    job = client.jobs.get("rg", "ws", "exp", "job1")
files = {f.name: f for f in client.jobs.list_output_files(
    "rg", "ws", "exp", "job1", models.JobsListOutputFilesOptions(outputdirectoryid="MODEL"))}
stdouterr = {f.name: f for f in client.jobs.list_output_files(
    "rg", "ws", "exp", "job1", models.JobsListOutputFilesOptions(outputdirectoryid="stdouterr"))}
with urllib.request.urlopen(files["model.txt"].download_url, timeout=30) as response:
    model = response.read().decode()
with urllib.request.urlopen(stdouterr["stdout.txt"].download_url, timeout=30) as response:
    stdout = response.read().decode()
print(json.dumps({
    "package_file": training.__file__,
    "state": job.execution_state,
    "exit_code": job.execution_info.exit_code,
    "model": model,
    "stdout": stdout,
}))
