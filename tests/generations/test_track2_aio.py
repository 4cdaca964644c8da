"""A 7.0.0 ``azure.mgmt.batchai.aio`` script runs end to end on the local backend (``batchai_compat.v7.aio``).

Written as 7.0.0 async code is: ``async with BatchAI(credential, subscription_id) as client``, ``await
client.jobs.begin_create(...)`` returning an azure-core ``AsyncLROPoller``, ``await poller.result()``, ``async
for`` over ``AsyncItemPaged``, ``azure.core.exceptions`` errors. Each test drives its coroutine with
``asyncio.run`` (no pytest plugin). Jobs are real processes of the local backend; waits are generous.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.spawns_processes]

REPO = Path(__file__).resolve().parents[2]
SUB = "00000000-0000-0000-0000-000000000000"
RG = "aio_rg"
ACCOUNT, KEY = "aiostorage", "c2VjcmV0LWtleQ=="
JOB_TIMEOUT = 120.0


async def _wait_job(client, exp, name, ws="ws", timeout=JOB_TIMEOUT):
    """Poll (with ``await``) until the job has finished; returns it either way (the caller asserts)."""
    deadline = time.monotonic() + timeout
    while True:
        job = await client.jobs.get(RG, ws, exp, name)
        if job.execution_state in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.1)


def _cluster_params(models, share=False):
    node_setup = None
    if share:
        afs = models.AzureFileShareReference(
            account_name=ACCOUNT, azure_file_url=f"https://{ACCOUNT}.file.core.windows.net/share",
            credentials=models.AzureStorageCredentialsInfo(account_key=KEY), relative_mount_path="afs")
        node_setup = models.NodeSetup(mount_volumes=models.MountVolumes(azure_file_shares=[afs]))
    return models.ClusterCreateParameters(
        vm_size="STANDARD_NC6",
        user_account_settings=models.UserAccountSettings(admin_user_name="demoUser", admin_user_password="Pa$$w0rd"),
        scale_settings=models.ScaleSettings(manual=models.ManualScaleSettings(target_node_count=1)),
        node_setup=node_setup)


def _job_params(models, cluster_id, command):
    return models.JobCreateParameters(
        cluster=models.ResourceId(id=cluster_id), node_count=1,
        std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs",
        output_directories=[models.OutputDirectory(id="MODEL", path_prefix="$AZ_BATCHAI_MOUNT_ROOT/afs")],
        custom_toolkit_settings=models.CustomToolkitSettings(command_line=command))


async def _setup(client, models, share=True):
    await (await client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus"))).result()
    cluster = await (await client.clusters.begin_create(RG, "ws", "nc6", _cluster_params(models, share))).result()
    await (await client.experiments.begin_create(RG, "ws", "exp")).result()
    return cluster


def test_an_async_script_runs_end_to_end(tmp_path, monkeypatch):
    from azure.core.async_paging import AsyncItemPaged
    from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
    from azure.core.polling import AsyncLROPoller

    from batchai_compat.storage import FileService
    from batchai_compat.v7 import models
    from batchai_compat.v7.aio import BatchAI

    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))
    FileService(ACCOUNT, KEY).create_share("share")

    async def scenario():
        async with BatchAI(credential=object(), subscription_id=SUB) as client:
            poller = await client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus"))
            assert isinstance(poller, AsyncLROPoller)
            workspace = await poller.result()
            assert isinstance(workspace, models.Workspace) and workspace.location == "eastus"
            assert poller.done() and poller.status() == "Succeeded"

            cluster_poller = await client.clusters.begin_create(RG, "ws", "nc6", _cluster_params(models, share=True))
            cluster = await cluster_poller  # an AsyncLROPoller is awaitable: its result
            assert isinstance(cluster, models.Cluster) and cluster.vm_size == "STANDARD_NC6"
            assert (await client.clusters.get(RG, "ws", "nc6")).id == cluster.id
            experiment = await (await client.experiments.begin_create(RG, "ws", "exp")).result()
            assert isinstance(experiment, models.Experiment)

            command = 'mkdir -p "$AZ_BATCHAI_OUTPUT_MODEL" && echo hello from aio > "$AZ_BATCHAI_OUTPUT_MODEL/m.txt"'
            params = _job_params(models, cluster.id, command)
            created = await (await client.jobs.begin_create(RG, "ws", "exp", "job1", params)).result()
            assert isinstance(created, models.Job) and created.name == "job1"
            job = await _wait_job(client, "exp", "job1")
            assert job.execution_state == "succeeded", job.execution_info

            files = client.jobs.list_output_files(RG, "ws", "exp", "job1",
                                                  models.JobsListOutputFilesOptions(outputdirectoryid="MODEL"))
            assert isinstance(files, AsyncItemPaged)
            by_name = {f.name: f async for f in files}
            assert isinstance(by_name["m.txt"], models.File)
            content = await asyncio.get_running_loop().run_in_executor(
                None, lambda: requests.get(by_name["m.txt"].download_url, timeout=30).content)
            assert content == b"hello from aio\n"

            # Pages and continuation tokens of AsyncItemPaged (two jobs, one per page).
            await (await client.jobs.begin_create(RG, "ws", "exp", "job2", params)).result()
            options = models.JobsListByExperimentOptions(max_results=1)
            pages = client.jobs.list_by_experiment(RG, "ws", "exp", options).by_page()
            first = [j.name async for j in await pages.__anext__()]
            token = pages.continuation_token
            assert first == ["job1"] and token
            resumed = client.jobs.list_by_experiment(RG, "ws", "exp", options).by_page(continuation_token=token)
            assert [j.name async for j in await resumed.__anext__()] == ["job2"]

            # The service's answers, as the sync client's azure-core exceptions.
            with pytest.raises(ResourceNotFoundError) as missing:
                await client.jobs.get(RG, "ws", "exp", "nope")
            assert missing.value.status_code == 404 and missing.value.error.code == "JobNotFound"
            with pytest.raises(ResourceExistsError):
                await client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="westus"))
            with pytest.raises(HttpResponseError) as bad_name:
                await client.clusters.get(RG, "ws", "a.b")
            assert (bad_name.value.status_code, bad_name.value.error.code) == (400, "InvalidResourceName")
            listing = client.clusters.list_by_workspace(RG, "missing-ws")  # nothing runs before the first page
            with pytest.raises(ResourceNotFoundError):
                async for _ in listing:
                    pass

            # Deletes: pollers whose result is None; afterwards the resources are gone.
            delete = await client.jobs.begin_delete(RG, "ws", "exp", "job1")
            assert await delete.result() is None and delete.status() == "Succeeded"
            with pytest.raises(ResourceNotFoundError):
                await client.jobs.get(RG, "ws", "exp", "job1")
            assert [j.name async for j in client.jobs.list_by_experiment(RG, "ws", "exp")] == ["job2"]
            await (await client.jobs.begin_delete(RG, "ws", "exp", "job2")).wait()
            await (await client.experiments.begin_delete(RG, "ws", "exp")).result()
            await (await client.clusters.begin_delete(RG, "ws", "nc6")).result()
            assert [c async for c in client.clusters.list_by_workspace(RG, "ws")] == []
            await (await client.workspaces.begin_delete(RG, "ws")).result()
            with pytest.raises(ResourceNotFoundError):
                await client.workspaces.get(RG, "ws")

    asyncio.run(scenario())


def test_two_job_creates_run_concurrently_with_gather(tmp_path, monkeypatch):
    from batchai_compat.storage import FileService
    from batchai_compat.v7 import models
    from batchai_compat.v7.aio import BatchAI

    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "home"))
    FileService(ACCOUNT, KEY).create_share("share")

    async def scenario():
        async with BatchAI(object(), SUB) as client:
            cluster = await _setup(client, models)
            pollers = await asyncio.gather(*(
                client.jobs.begin_create(RG, "ws", "exp", name, _job_params(models, cluster.id, f"echo {name}"))
                for name in ("left", "right")))
            created = await asyncio.gather(*(p.result() for p in pollers))
            assert sorted(j.name for j in created) == ["left", "right"]
            finished = await asyncio.gather(*(_wait_job(client, "exp", n) for n in ("left", "right")))
            assert [j.execution_state for j in finished] == ["succeeded", "succeeded"], \
                [j.execution_info for j in finished]
            assert sorted([j.name async for j in client.jobs.list_by_experiment(RG, "ws", "exp")]) == ["left", "right"]

            # Terminating a running job: an AsyncLROPoller whose result is None.
            await (await client.jobs.begin_create(RG, "ws", "exp", "long",
                                                  _job_params(models, cluster.id, "sleep 300"))).result()
            terminate = await client.jobs.begin_terminate(RG, "ws", "exp", "long")
            assert await terminate.result() is None
            assert (await client.jobs.get(RG, "ws", "exp", "long")).execution_state in ("succeeded", "failed")

    asyncio.run(scenario())


def test_the_sync_and_async_clients_on_one_home_see_the_same_resources(tmp_path):
    from azure.core.polling import AsyncNoPolling

    from batchai_compat.v7 import BatchAI as SyncBatchAI
    from batchai_compat.v7 import models
    from batchai_compat.v7.aio import BatchAI

    home = str(tmp_path / "home")
    sync = SyncBatchAI(object(), SUB, home=home)
    sync.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus")).result()
    token = sync.experiments.begin_create(RG, "ws", "from-sync").continuation_token()

    async def scenario():
        async with BatchAI(object(), SUB, home=home) as client:
            assert (await client.workspaces.get(RG, "ws")).location == "eastus"
            # A token of the sync client resumes in the async client (and the reverse, below).
            resumed = await client.experiments.begin_create(RG, "ws", "from-sync", continuation_token=token)
            assert (await resumed.result()).name == "from-sync"
            await (await client.clusters.begin_create(RG, "ws", "c7", _cluster_params(models))).result()
            deleting = await client.experiments.begin_delete(RG, "ws", "from-sync")
            no_poll = await client.experiments.begin_create(RG, "ws", "quick", polling=False)
            assert isinstance(no_poll.polling_method(), AsyncNoPolling)
            assert (await no_poll.result()).name == "quick"
            seen = await client.workspaces.get(RG, "ws", cls=lambda response, obj, headers: (response, obj))
            assert seen[0].http_response.status_code == 200 and seen[1].name == "ws"
            return deleting.continuation_token()

    delete_token = asyncio.run(scenario())
    assert sync.clusters.get(RG, "ws", "c7").vm_size == "STANDARD_NC6"
    assert sync.experiments.begin_delete(RG, "ws", "from-sync", continuation_token=delete_token).result() is None
    assert sorted(e.name for e in sync.experiments.list_by_workspace(RG, "ws")) == ["quick"]


def test_a_polling_method_of_the_caller_is_used_and_gets_the_sync_poller(tmp_path):
    from azure.core.polling import AsyncPollingMethod, LROPoller

    from batchai_compat.v7 import models
    from batchai_compat.v7.aio import BatchAI

    class Mine(AsyncPollingMethod):
        """A caller's polling strategy: waits for the sync poller in a worker thread."""

        def initialize(self, client, initial_response, deserialization_callback):
            self.initial = initial_response

        async def run(self):
            await asyncio.get_running_loop().run_in_executor(None, self.initial.wait)

        def status(self):
            return self.initial.status()

        def finished(self):
            return self.initial.done()

        def resource(self):
            return self.initial.result()

    async def scenario():
        async with BatchAI(object(), SUB, home=str(tmp_path / "home")) as client:
            mine = Mine()
            poller = await client.workspaces.begin_create(RG, "ws", models.WorkspaceCreateParameters(location="eastus"),
                                                          polling=mine)
            assert poller.polling_method() is mine and isinstance(mine.initial, LROPoller)
            assert (await poller.result()).name == "ws"
            with pytest.raises(TypeError, match="AsyncPollingMethod"):
                await client.workspaces.begin_delete(RG, "ws", polling="yes")

    asyncio.run(scenario())


def test_unknown_keywords_and_wrong_generation_models_are_refused_as_by_the_sync_client(tmp_path):
    import batchai_compat.models as models_2
    from batchai_compat.v7.aio import BatchAI

    async def scenario():
        async with BatchAI(object(), SUB, home=str(tmp_path / "home"), logging_enable=True) as client:
            with pytest.raises(TypeError, match="no_such_keyword"):
                await client.workspaces.get(RG, "ws", no_such_keyword=1)
            with pytest.raises(TypeError, match="7.0.0"):
                await client.workspaces.begin_create(RG, "ws", models_2.WorkspaceCreateParameters(location="eastus"))
            with pytest.raises(AttributeError, match="begin_create"):
                client.workspaces.create  # noqa: B018 - the 2.0.0 name names the 7.0.0 one

    asyncio.run(scenario())


def test_import_cost():
    code = ("import sys, batchai_compat; heavy = lambda: sorted(m for m in sys.modules if m.startswith('azureml') "
            "or m.startswith('batchai_compat.v7.aio')); print(heavy()); import batchai_compat.v7.aio; print(heavy()); "
            "from batchai_compat.v7.aio import BatchAI; print([m for m in heavy() if m.startswith('azureml')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[]", "['batchai_compat.v7.aio']", "[]"]
