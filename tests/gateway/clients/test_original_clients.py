"""The original, unmodified Batch AI SDKs run a full scenario against the gateway, each in its own environment.

Per client, a subprocess runs one scenario script (scenario_v2.py, scenario_legacy.py, scenario_v7.py,
scenario.js) with the client's own interpreter: the package is imported exactly as its users imported it and
only configured (base URL, credentials, TLS verification for azure-core, its own polling knobs). The script
prints one line per step and exits non-zero on the first failure; this test shows that output and checks that
every step of the scenario ran.

The gateway's home is the local backend's home, so the storage the clusters mount (an Azure File share and a
blob container of the local storage emulation, ``docs/storage-layout.md``) is created there first, with
``batchai_compat.storage`` in local mode, as Batch AI users created theirs with the storage SDK before a
cluster mounted it (mounts: ``docs/service-behaviour.md`` §d.2).

A missing oracle is a failure that names the make target, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import pytest
import requests

from batchai_compat.storage import BlockBlobService, FileService

from . import _results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
ORACLES = ROOT / ".tools" / "oracles"
NODE_MODULES = ROOT / ".tools" / "node-oracles" / "node_modules"

SUB = "00000000-0000-0000-0000-000000000000"
LOCATION = "eastus"
ACCOUNT = "gwstorage"
ACCOUNT_KEY = "Z2F0ZXdheS1zY2VuYXJpby1rZXk="
SHARE = "gwshare"
CONTAINER = "gwcontainer"
API = "2018-05-01"
SCENARIO_TIMEOUT = 300.0  # the whole script; its own waits allow `timeout` (120 s) each

# The steps every scenario must have run (a script that silently skipped one would still print PASSED).
COMMON_STEPS = ["wrong token (401 AuthenticationFailed)", "operations.list", "clusters.create",
                "clusters.get (one idle node)", "jobs.create", "jobs.get (until succeeded)",
                "download result.txt (Range bytes=0-4)", "download prep.txt", "jobs.create (failing)",
                "jobs.get (until failed)", "jobs.create (long running)",
                "jobs.get (until running)", "jobs.terminate", "clusters.update (scale to 0)",
                "clusters.get (until 0 nodes)"]
WORKSPACE_STEPS = ["workspaces.create", "workspaces.get", "experiments.create"]


class Client(NamedTuple):
    name: str
    command: List[str]
    tls: bool
    make_target: str
    steps: List[str]


def _python(version: str) -> str:
    return str(ORACLES / version / "bin" / "python")


def _msrest_steps(workspaces: bool) -> List[str]:
    lists = ["jobs.list_output_files OUTPUTS (1 per page)", "jobs.list_output_files MODELS",
             "jobs.list_output_files stdouterr", "clusters.list_remote_login_information"]
    deletes = ["jobs.delete job1", "jobs.delete job2", "jobs.delete job3"]
    deletes += ["experiments.delete", "clusters.delete", "workspaces.delete"] if workspaces else ["clusters.delete"]
    return COMMON_STEPS + (WORKSPACE_STEPS if workspaces else []) + lists + deletes


CLIENTS = [
    Client("azure-mgmt-batchai 2.0.0", [sys.executable, str(HERE / "scenario_v2.py")], False, "install",
           _msrest_steps(True) + ["usages.list"]),
    Client("azure-mgmt-batchai 1.0.1", [_python("1.0.1"), str(HERE / "scenario_legacy.py")], False, "oracles",
           _msrest_steps(False) + ["usage.list"]),
    Client("azure-mgmt-batchai 0.2.0", [_python("0.2.0"), str(HERE / "scenario_legacy.py")], False, "oracles",
           _msrest_steps(False)),
    Client("azure-mgmt-batchai 7.0.0", [_python("7.0.0"), str(HERE / "scenario_v7.py")], True, "oracles",
           _msrest_steps(True) + ["usages.list"]),
    Client("@azure/arm-batchai 2.2.1", ["node", str(HERE / "scenario.js")], False, "gateway-client-oracles",
           COMMON_STEPS + WORKSPACE_STEPS + ["usages.list", "clusters.listRemoteLoginInformation",
                                             "jobs.listOutputFiles OUTPUTS (1 per page)",
                                             "jobs.listOutputFiles MODELS", "jobs.listOutputFiles stdouterr",
                                             "jobs.deleteMethod job1", "jobs.deleteMethod job2",
                                             "jobs.deleteMethod job3",
                                             "experiments.deleteMethod", "clusters.deleteMethod",
                                             "workspaces.deleteMethod"]),
]


def _check_installed(client: Client) -> None:
    """The client's environment exists (else a failure naming the make target that installs it)."""
    if client.command[0] == "node":
        present = (NODE_MODULES / "@azure" / "arm-batchai" / "package.json").is_file()
    else:
        present = Path(client.command[0]).exists()
        if present and client.make_target == "install":
            present = subprocess.run([client.command[0], "-c", "import azure.mgmt.batchai, msrest"],
                                     capture_output=True).returncode == 0
    if not present:
        pytest.fail(f"{client.name} is not installed: run `make {client.make_target}`")


def _create_storage(home: Path) -> None:
    """The share and the container the scenario's cluster mounts, in the gateway's (local backend's) home."""
    FileService(ACCOUNT, ACCOUNT_KEY, mode="local", home=home).create_share(SHARE, fail_on_exist=False)
    BlockBlobService(ACCOUNT, ACCOUNT_KEY, mode="local", home=home).create_container(CONTAINER, fail_on_exist=False)


def _cafile(gateway: Any) -> Optional[str]:
    for attribute in ("cafile", "ca_cert", "cert_path", "ca_path"):
        value = getattr(gateway, attribute, None)
        if value:
            return str(value)
    return None


_ACCESS = re.compile(r"\s(GET|PUT|POST|DELETE|PATCH)\s(\S+)\s(\d{3})\s")


def _wire(log_path: Path) -> Tuple[int, int, List[str]]:
    """From the gateway's access log: how many long-running operations were started (202 to a PUT, DELETE or
    POST), how many operation-status polls answered 200, and every request answered 5xx. The scenario passing
    proves nothing about LROs if every answer was synchronous; these counts show the client's own poller ran.
    The msrest clients retry 5xx answers on their own, so a server error can hide behind a passing scenario."""
    started = polls = 0
    errors: List[str] = []
    for match in _ACCESS.finditer(log_path.read_text(encoding="utf-8", errors="replace")):
        method, path, status = match.groups()
        if status.startswith("5"):
            errors.append(f"{method} {path.split('?')[0]} {status}")
        if status == "202" and method in ("PUT", "DELETE", "POST"):
            started += 1
        elif method == "GET" and status == "200" and ("/operationresults/" in path or "/operationstatuses/" in path):
            polls += 1
    return started, polls, errors


def _run(client: Client, gateway: Any, resource_group: str) -> subprocess.CompletedProcess:
    settings: Dict[str, Any] = {
        "url": gateway.url.rstrip("/"), "token": gateway.token, "subscription": SUB,
        "resource_group": resource_group, "location": LOCATION, "account": ACCOUNT, "account_key": ACCOUNT_KEY,
        "share": SHARE, "container": CONTAINER, "cafile": _cafile(gateway), "timeout": 120,
    }
    env = dict(os.environ, GATEWAY_SCENARIO=json.dumps(settings), PYTHONUNBUFFERED="1")
    env.pop("PYTHONPATH", None)  # the oracle sees its own site-packages only, never this checkout
    # The clients talk straight to the loopback gateway. A proxy left in the environment (tests/azureml's session
    # fixture points HTTP(S)_PROXY at its leak-recording proxy) would take the Node client's requests:
    # @azure/ms-rest-js 1.11 reads HTTPS_PROXY and ignores NO_PROXY (docs/gateway.md, "Clients").
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(key, None)
    if client.command[0] == "node":
        env["NODE_PATH"] = str(NODE_MODULES)
    return subprocess.run(client.command, cwd=str(HERE), env=env, capture_output=True, text=True,
                          timeout=SCENARIO_TIMEOUT)


def _cleanup(gateway: Any, resource_group: str) -> None:
    """After a failed scenario: delete the resource group's workspaces through the gateway (that kills their
    jobs, such as the scenario's ``sleep 600``) and wait for the deletes, so no job outlives the test."""
    verify: Any = str(gateway.ca_path) if getattr(gateway, "ca_path", None) else True
    base = f"{gateway.url}/subscriptions/{SUB}/resourceGroups/{resource_group}/providers/Microsoft.BatchAI/workspaces"
    listing = requests.get(base, params={"api-version": API}, headers=gateway.headers(), verify=verify, timeout=30)
    polls = []
    for workspace in listing.json().get("value", []) if listing.status_code == 200 else []:
        answer = requests.delete(f"{base}/{workspace['name']}", params={"api-version": API},
                                 headers=gateway.headers(), verify=verify, timeout=30)
        if answer.headers.get("Azure-AsyncOperation"):
            polls.append(answer.headers["Azure-AsyncOperation"])
    deadline = time.monotonic() + 60
    for url in polls:
        while time.monotonic() < deadline:
            status = requests.get(url, headers=gateway.headers(), verify=verify, timeout=30).json().get("status")
            if status not in ("InProgress", None):
                break
            time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.spawns_processes
@pytest.mark.parametrize("client", CLIENTS, ids=[c.name.split()[-1] if "mgmt" in c.name else "node" for c in CLIENTS])
def test_full_scenario(client: Client, request: Any) -> None:
    _check_installed(client)
    gateway = request.getfixturevalue("gateway_tls" if client.tls else "gateway")
    if client.tls:
        assert gateway.url.startswith("https://"), gateway.url
        assert _cafile(gateway), "the TLS gateway fixture names no CA certificate file"
    _create_storage(Path(gateway.home))
    resource_group = "rg-" + client.name.split()[-1].replace(".", "-")
    started = time.monotonic()
    result: Optional[subprocess.CompletedProcess] = None
    try:
        result = _run(client, gateway, resource_group)
    finally:
        seconds = time.monotonic() - started
        if result is None or result.returncode != 0:  # a timeout or a failed step may leave jobs running
            _cleanup(gateway, resource_group)
    output = result.stdout + ("\n--- stderr ---\n" + result.stderr if result.stderr.strip() else "")
    print(f"== {client.name} against {gateway.url} ({seconds:.1f} s)\n{output}")
    ran = [line.split(" ok ")[0][len("step "):] for line in result.stdout.splitlines()
           if line.startswith("step ") and " ok " in line]
    started_lros, polls, server_errors = _wire(Path(gateway.log_path))
    print(f"{started_lros} long-running operations started (202), {polls} operation-status polls")
    _results.record(client.name, result.returncode == 0, ran, seconds, started_lros, polls)
    assert result.returncode == 0, f"{client.name} scenario failed (exit {result.returncode}):\n{output}"
    assert any(line.startswith(f"PASSED {client.name}") for line in result.stdout.splitlines()), output
    missing = [step for step in client.steps if step not in ran]
    assert not missing, f"{client.name}: steps not run: {missing}\n{output}"
    # Job and cluster creation, terminating a running job and every delete were long-running on the service
    # (202, docs/service-behaviour.md §a.3 "How the live service answered"): at least 9 in each scenario
    # (a cluster and three jobs created, one terminated, all deleted), each polled by the client's own poller.
    assert started_lros >= 9, f"{client.name}: only {started_lros} long-running operations answered 202"
    assert polls >= started_lros, f"{client.name}: {started_lros} operations started, only {polls} polls"
    assert not server_errors, f"{client.name}: the gateway answered 5xx: {server_errors}"
