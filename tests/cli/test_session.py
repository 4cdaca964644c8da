"""A recipe-style CLI session: a bash script, as a Batch AI recipe's ``cli-instructions.md`` writes it.

The script runs ``az ...`` through batchai_compat's az shim (``batchai az-shim install``) on the
local backend: resource group, storage account, file shares, a directory, the training script
uploaded with ``az storage file upload``, a blob container with the data, a workspace, a cluster
from ``cluster.json`` with the ``scripts`` share mounted, an experiment, a job from ``job.json`` with
an input directory, an output directory, job preparation and job-level mounts (file share and blob
container, with ``<AZURE_BATCHAI_STORAGE_ACCOUNT>`` placeholders and ``--storage-account-name``),
``job wait``, ``job file list -d stdouterr -o table``, ``job file stream``, a ``-o tsv --query``
extraction, the model read back with ``az storage file download``, deletes and ``az group delete -y``.

Every command is a real subprocess; the assertions are on what a user relies on: the job's stdout
contents, the rows of the file table, the query's value, and that the deletes leave nothing (no
group, no account, no storage directory, no running process of the home).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

import pytest

STORAGE = "recipestorage01"

#: The session, written as the recipes write theirs (comments are the recipes' section titles).
SESSION = r"""
set -eu

# Create a Resource Group
az group create -n batchai.recipes -l eastus > out/group.json

# Create a Storage Account
az storage account create -n "$STORAGE" --sku Standard_LRS -g batchai.recipes -l eastus > /dev/null

# Create Azure File Share and Deploy the Training Script
az storage share create -n scripts --account-name "$STORAGE"
az storage share create -n logs --account-name "$STORAGE"
az storage directory create -n demo -s scripts --account-name "$STORAGE"
az storage file upload -s scripts --source train.py --path demo --account-name "$STORAGE"

# Deploy the training data to a blob container
az storage container create -n data --account-name "$STORAGE"
az storage blob upload -c data -f numbers.txt -n input/numbers.txt --account-name "$STORAGE" > /dev/null

# Create a Batch AI Workspace and a cluster with the scripts share mounted
az batchai workspace create -g batchai.recipes -n recipe_workspace -l eastus > /dev/null
az batchai cluster create -n nc6 -g batchai.recipes -w recipe_workspace -f cluster.json \
    --storage-account-name "$STORAGE" -u recipeuser -p 'Recipe-Passw0rd' > /dev/null

# Submit the Job in an Experiment
az batchai experiment create -g batchai.recipes -w recipe_workspace -n recipe_experiment > /dev/null
az batchai job create -n train -c nc6 -g batchai.recipes -w recipe_workspace -e recipe_experiment \
    -f job.json --storage-account-name "$STORAGE" > /dev/null
az batchai job wait -n train -g batchai.recipes -w recipe_workspace -e recipe_experiment

# Monitor Job Execution
az batchai job file list -j train -g batchai.recipes -w recipe_workspace -e recipe_experiment \
    -d stdouterr -o table > out/files.txt
az batchai job file stream -j train -g batchai.recipes -w recipe_workspace -e recipe_experiment \
    -f stdout.txt > out/stream.txt
az batchai job show -n train -g batchai.recipes -w recipe_workspace -e recipe_experiment \
    -o tsv --query executionState > out/state.txt

# Inspect Generated Model Files
SEGMENT=$(az batchai job show -n train -g batchai.recipes -w recipe_workspace -e recipe_experiment \
    --query jobOutputDirectoryPathSegment -o tsv)
az storage file download -s logs -p "$SEGMENT/outputs/model.txt" --dest out/model.txt \
    --account-name "$STORAGE" > /dev/null

# Clean up
az batchai job delete -n train -g batchai.recipes -w recipe_workspace -e recipe_experiment -y
az batchai cluster delete -n nc6 -g batchai.recipes -w recipe_workspace -y
az storage share delete -n logs --account-name "$STORAGE" > out/share_delete.json
az group delete -n batchai.recipes -y
az group exists -n batchai.recipes > out/exists.txt
az storage account list > out/accounts.json
"""

TRAIN_PY = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--data")
parser.add_argument("--out")
args = parser.parse_args()
numbers = [int(line) for line in open(args.data) if line.strip()]
print("epoch 1: loss", 1.0 / len(numbers))
print("total", sum(numbers))
with open(args.out + "/model.txt", "w") as handle:
    handle.write("weights %d\\n" % sum(numbers))
"""

CLUSTER_JSON = {
    "$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/cluster.json",
    "properties": {
        "vmSize": "STANDARD_D1",
        "scaleSettings": {"manual": {"targetNodeCount": 1}},
        "nodeSetup": {
            "mountVolumes": {
                "azureFileShares": [{
                    "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/scripts",
                    "relativeMountPath": "scripts",
                }],
            },
        },
    },
}

JOB_JSON = {
    "$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/job.json",
    "properties": {
        "nodeCount": 1,
        "inputDirectories": [{"id": "SCRIPTS", "path": "$AZ_BATCHAI_MOUNT_ROOT/scripts/demo"}],
        "outputDirectories": [{"id": "MODEL", "pathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs"}],
        "stdOutErrPathPrefix": "$AZ_BATCHAI_JOB_MOUNT_ROOT/logs",
        "jobPreparation": {"commandLine": "echo preparing $AZ_BATCHAI_INPUT_SCRIPTS"},
        "customToolkitSettings": {
            "commandLine": "python $AZ_BATCHAI_INPUT_SCRIPTS/train.py "
                           "--data $AZ_BATCHAI_JOB_MOUNT_ROOT/data/input/numbers.txt --out $AZ_BATCHAI_OUTPUT_MODEL",
        },
        "mountVolumes": {
            "azureFileShares": [{
                "azureFileUrl": "https://<AZURE_BATCHAI_STORAGE_ACCOUNT>.file.core.windows.net/logs",
                "relativeMountPath": "logs",
            }],
            "azureBlobFileSystems": [{
                "accountName": "<AZURE_BATCHAI_STORAGE_ACCOUNT>",
                "containerName": "data",
                "relativeMountPath": "data",
            }],
        },
    },
}


#: The same session in the pre-workspace CLI's shape (API 2017-09-01-preview / 2018-03-01), as the recipes
#: were written before June 2018 (e.g. recipes/CNTK/CNTK-GPU-Python/cli-instructions.md at Azure/BatchAI
#: commit 4f3845d): `-l` on cluster and job create, `-r` for the cluster, `-c` for the job's config file,
#: `job stream-file` and `job list-files`. The storage commands of that recipe name no account: they use
#: the AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY variables, set here from `keys list` with a query.
OLD_SESSION = r"""
set -eu
az group create -n batchaitests -l eastus > /dev/null
az storage account create -n "$STORAGE" --sku Standard_LRS -l eastus -g batchaitests > /dev/null
export AZURE_STORAGE_ACCOUNT="$STORAGE"
export AZURE_STORAGE_KEY=$(az storage account keys list -n "$STORAGE" -g batchaitests --query "[0].value" -o tsv)
az storage share create --name batchaisample > /dev/null
az storage directory create --share-name batchaisample --name mnist_database > /dev/null
az storage file upload --share-name batchaisample --source Train-28x28_cntk_text.txt --path mnist_database
az storage directory create --share-name batchaisample --name cntk_samples > /dev/null
az storage file upload --share-name batchaisample --source ConvNet_MNIST.py --path cntk_samples
az batchai cluster create -l eastus -g batchaitests --storage-account-name "$STORAGE" -n nc6 -s Standard_NC6 \
    --min 1 --max 1 --afs-name batchaisample --afs-mount-path external -u "$USER" -p 'Recipe-Passw0rd' > /dev/null
az batchai job create -l eastus -g batchaitests -n cntk_python -r nc6 -c job.json > /dev/null
az batchai job stream-file -j cntk_python -g batchaitests -d stdouterr -n stdout.txt > out/stream.txt
az batchai job list-files -n cntk_python -g batchaitests -d MODEL -o table > out/models.txt
az batchai job show -n cntk_python -g batchaitests --query executionState -o tsv > out/state.txt
az batchai job delete -n cntk_python -g batchaitests -y
az batchai cluster delete -n nc6 -g batchaitests -y
az group delete -n batchaitests -y
az group exists -n batchaitests > out/exists.txt
"""

OLD_SCRIPT = """\
import sys
print("samples", open(sys.argv[1] + "/Train-28x28_cntk_text.txt").read().split())
with open(sys.argv[2] + "/ConvNet_MNIST.dnn", "w") as handle:
    handle.write("model")
"""

OLD_JOB_JSON = {
    "$schema": "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2017-09-01-preview/job.json",
    "properties": {
        "nodeCount": 1,
        "customToolkitSettings": {
            "commandLine": "python $AZ_BATCHAI_INPUT_SCRIPT/ConvNet_MNIST.py $AZ_BATCHAI_INPUT_DATASET "
                           "$AZ_BATCHAI_OUTPUT_MODEL",
        },
        "stdOutErrPathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/external",
        "inputDirectories": [{"id": "DATASET", "path": "$AZ_BATCHAI_MOUNT_ROOT/external/mnist_database"},
                             {"id": "SCRIPT", "path": "$AZ_BATCHAI_MOUNT_ROOT/external/cntk_samples"}],
        "outputDirectories": [{"id": "MODEL", "pathPrefix": "$AZ_BATCHAI_MOUNT_ROOT/external",
                               "pathSuffix": "Models"}],
    },
}


def _install_shim(bin_dir: Path, env: Dict[str, str]) -> None:
    """``batchai az-shim install -d BIN`` plus a ``python`` there (the job's command line says ``python``)."""
    subprocess.run([sys.executable, "-m", "batchai_compat.cli", "az-shim", "install", "-d", str(bin_dir)],
                   check=True, env=env, capture_output=True, timeout=120)
    python = bin_dir / "python"
    if not python.exists():
        python.symlink_to(sys.executable)


@pytest.mark.slow
def test_recipe_session_through_the_az_shim(tmp_path: Path, cli_env: Dict[str, str]) -> None:
    work = tmp_path / "recipe"
    (work / "out").mkdir(parents=True)
    (work / "train.py").write_text(TRAIN_PY, encoding="utf-8")
    (work / "numbers.txt").write_text("1\n2\n3\n4\n", encoding="utf-8")
    (work / "cluster.json").write_text(json.dumps(CLUSTER_JSON, indent=2), encoding="utf-8")
    (work / "job.json").write_text(json.dumps(JOB_JSON, indent=2), encoding="utf-8")
    (work / "session.sh").write_text(SESSION, encoding="utf-8")
    env = _session_env(tmp_path, cli_env)

    proc = _run_session(work, env)
    out = work / "out"
    assert proc.returncode == 0, f"session failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"

    # Storage commands printed az's booleans, in order (share x2, directory, container).
    created = [json.loads(chunk) for chunk in proc.stdout.replace("}\n{", "}\x00{").split("\x00")
               if chunk.strip().startswith("{")]
    assert created == [{"created": True}] * 4
    group = json.loads((out / "group.json").read_text())
    assert group["name"] == "batchai.recipes" and group["properties"]["provisioningState"] == "Succeeded"

    # The job ran the uploaded script on the mounted data; its stdout is what `job file stream` showed.
    stream = (out / "stream.txt").read_text()
    assert "epoch 1: loss 0.25" in stream and "total 10" in stream
    assert (out / "state.txt").read_text().strip() == "succeeded"
    assert (out / "model.txt").read_text() == "weights 10\n"

    # The stdouterr table: az's columns, one row per file (job preparation's files too).
    lines = (out / "files.txt").read_text().splitlines()
    assert lines[0].split() == ["Name", "Type", "Size", "Modified"]
    names = [line.split()[0] for line in lines[2:] if line.strip()]
    assert {"stdout.txt", "stderr.txt", "stdout-job_prep.txt", "stderr-job_prep.txt"} <= set(names)
    rows = {line.split()[0]: line.split() for line in lines[2:] if line.strip()}
    assert rows["stdout.txt"][1] == "file" and int(rows["stdout.txt"][2]) == len(stream.encode())

    # The deletes left nothing behind.
    assert json.loads((out / "share_delete.json").read_text()) == {"deleted": True}
    assert (out / "exists.txt").read_text().strip() == "false"
    assert json.loads((out / "accounts.json").read_text()) == []
    storage_root = Path(cli_env["BATCHAI_COMPAT_HOME"]) / "storage"
    assert not (storage_root / STORAGE).exists()
    assert _processes_of(Path(cli_env["BATCHAI_COMPAT_HOME"])) == []


@pytest.mark.slow
def test_pre_workspace_recipe_session_through_the_az_shim(tmp_path: Path, cli_env: Dict[str, str]) -> None:
    work = tmp_path / "recipe"
    (work / "out").mkdir(parents=True)
    (work / "ConvNet_MNIST.py").write_text(OLD_SCRIPT, encoding="utf-8")
    (work / "Train-28x28_cntk_text.txt").write_text("7 8 9\n", encoding="utf-8")
    (work / "job.json").write_text(json.dumps(OLD_JOB_JSON, indent=4), encoding="utf-8")
    (work / "session.sh").write_text(OLD_SESSION, encoding="utf-8")
    env = _session_env(tmp_path, cli_env)
    env["USER"] = "recipeuser"

    proc = _run_session(work, env)
    out = work / "out"
    assert proc.returncode == 0, f"session failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout == ""  # file upload prints nothing; everything else went to files or /dev/null
    assert (out / "stream.txt").read_text() == "samples ['7', '8', '9']\n"
    assert (out / "state.txt").read_text().strip() == "succeeded"
    lines = (out / "models.txt").read_text().splitlines()  # the 2017-09-01-preview CLI's columns
    assert lines[0].split() == ["Name", "Size", "URL"]
    assert [line.split()[:2] for line in lines[2:]] == [["ConvNet_MNIST.dnn", "5"]]
    url = lines[2].split()[2]
    assert url.startswith("http://127.0.0.1:") and "/outputs/Models/ConvNet_MNIST.dnn?" in url
    assert (out / "exists.txt").read_text().strip() == "false"
    assert _processes_of(Path(cli_env["BATCHAI_COMPAT_HOME"])) == []


def _run_session(work: Path, env: Dict[str, str]) -> subprocess.CompletedProcess:
    """``bash session.sh`` in ``work``; each command is traced to stderr as written (variables unexpanded,
    so no key is printed). A session still running after 8 minutes is killed with its process group and
    the test fails with what it printed (the trace shows the command that hung)."""
    trace = work / "trace.sh"
    trace.write_text("trap 'echo \"+ $BASH_COMMAND\" >&2' DEBUG\n", encoding="utf-8")
    proc = subprocess.Popen(["bash", "session.sh"], cwd=work, env=dict(env, BASH_ENV=str(trace)), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=480)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"the session did not finish in 8 minutes:\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _session_env(tmp_path: Path, cli_env: Dict[str, str]) -> Dict[str, str]:
    """The session's environment: the shim first on PATH, no storage variables, the account name."""
    env = dict(cli_env)
    for name in ("AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                 "AZURE_STORAGE_SAS_TOKEN", "BATCHAI_COMPAT_AZ_COMPANION"):
        env.pop(name, None)
    bin_dir = tmp_path / "bin"
    _install_shim(bin_dir, env)
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    env["STORAGE"] = STORAGE
    return env


def _processes_of(home: Path) -> list:
    """Processes still using the home (job supervisors, launchers...), waiting up to 60 s for them to end."""
    from batchai_compat.backends.local.__main__ import users

    deadline = time.monotonic() + 60
    while True:
        found = users(home)
        if found is None:  # no /proc: nothing to observe
            return []
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)
