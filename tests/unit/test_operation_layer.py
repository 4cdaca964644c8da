"""The operation layer: genuine msrest pollers and pages, CloudError translation, raw responses."""

from __future__ import annotations

import threading

import pytest
from msrest.pipeline import ClientRawResponse
from msrest.polling import LROPoller, PollingMethod
from msrestazure.azure_exceptions import CloudError

import batchai_compat
import batchai_compat.models as models
from batchai_compat.exceptions import BatchAICompatNotSupportedError

from .scripted_backend import ScriptedBackend


def client_for(backend):
    return batchai_compat.BatchAIManagementClient(object(), "sub", backend=backend)


def test_lro_returns_genuine_poller_that_waits_for_the_backend():
    backend = ScriptedBackend(polls=3)
    poller = client_for(backend).workspaces.create("rg", "ws", "eastus", tags={"a": "b"})
    assert isinstance(poller, LROPoller)
    called = threading.Event()
    poller.add_done_callback(lambda method: called.set())
    workspace = poller.result(timeout=10)
    assert isinstance(workspace, models.Workspace)
    assert workspace.name == "ws" and workspace.tags == {"a": "b"}
    assert poller.done() and called.wait(5)
    assert backend.poll_count == 4  # three "InProgress", then "Succeeded"


def test_polling_false_returns_the_initial_response_none_after_202():
    client = client_for(ScriptedBackend(polls=2))
    assert client.workspaces.create("rg", "ws", "eastus", polling=False).result() is None
    # an operation that answered 200 at once gives the model even without polling
    client = client_for(ScriptedBackend(polls=0))
    assert client.workspaces.create("rg", "ws", "eastus", polling=False).result().name == "ws"


def test_custom_polling_method_receives_an_http_like_initial_response():
    seen = {}

    class Recording(PollingMethod):
        def initialize(self, client, initial_response, deserialization_callback):
            seen["status"] = initial_response.status_code
            seen["operation"] = initial_response.batchai_operation
            self._callback = deserialization_callback
            self._response = initial_response

        def run(self):
            pass

        def status(self):
            return "succeeded"

        def finished(self):
            return True

        def resource(self):
            return self._callback(self._response)

    result = client_for(ScriptedBackend(polls=0)).workspaces.create("rg", "ws", "eastus", polling=Recording()).result()
    assert seen["status"] == 200 and result.name == "ws"


def test_failed_operation_raises_cloud_error_from_result():
    backend = ScriptedBackend(polls=1, fail_with={"code": "InternalError", "message": "boom"})
    backend.workspaces["rg/ws"] = {"id": "x", "name": "ws"}
    poller = client_for(backend).workspaces.delete("rg", "ws")
    with pytest.raises(CloudError) as err:
        poller.result(timeout=10)
    assert err.value.error.error == "InternalError" and err.value.message == "boom"


def test_not_found_is_a_genuine_cloud_error_at_call_time():
    client = client_for(ScriptedBackend())
    with pytest.raises(CloudError) as err:
        client.workspaces.get("rg", "missing")
    assert err.value.status_code == 404
    assert err.value.error.error == "WorkspaceNotFound"
    assert str(err.value) == "Azure Error: WorkspaceNotFound\nMessage: The specified workspace missing is not found"
    with pytest.raises(CloudError):  # LRO: the initial request fails synchronously, inside the call
        client.workspaces.delete("rg", "missing")


def test_not_supported_is_catchable_both_ways():
    client = client_for(ScriptedBackend())
    with pytest.raises(NotImplementedError):
        client.clusters.get("rg", "ws", "c")
    with pytest.raises(CloudError) as err:
        client.clusters.get("rg", "ws", "c")
    assert isinstance(err.value, BatchAICompatNotSupportedError) and err.value.status_code == 501


def test_paging_follows_next_links_with_max_results():
    client = client_for(ScriptedBackend(workspaces=7))
    pages = client.workspaces.list(models.WorkspacesListOptions(max_results=3))
    names = [w.name for w in pages]
    assert names == [f"ws{i:03d}" for i in range(7)]
    first = client.workspaces.list({"max_results": 3})  # dict options work too
    assert len(first.advance_page()) == 3 and first.next_link.startswith("https://management.azure.com/")
    assert len(first.advance_page()) == 3
    assert len(first.advance_page()) == 1 and first.next_link is None


def test_raw_responses():
    client = client_for(ScriptedBackend(workspaces=1))
    raw = client.workspaces.get("rg", "ws000", raw=True)
    assert isinstance(raw, ClientRawResponse) and raw.output.name == "ws000"
    assert raw.response.status_code == 200 and raw.response.json()["name"] == "ws000"
    poller = client.workspaces.create("rg", "new", "eastus", raw=True)
    assert isinstance(poller.result(), ClientRawResponse)


def test_usages_and_operations_lists():
    client = client_for(ScriptedBackend())
    usages = list(client.usages.list("northeurope"))
    assert usages and all(u.name is not None and u.unit for u in usages)
    operations = list(client.operations.list())
    assert {o.name for o in operations} >= {"Microsoft.BatchAI/workspaces/experiments/jobs/write"}
    assert all(o.display.provider == "Microsoft Batch AI" for o in operations)


def test_arm_polling_subclasses_from_legacy_code_poll_the_backend():
    """The Batch AI recipes passed ``CustomPolling(ARMPolling)`` to change the poll interval."""
    import time

    from msrestazure.polling.arm_polling import ARMPolling

    class CustomPolling(ARMPolling):
        def _delay(self):
            if self._response is None:
                return
            time.sleep(1)

    backend = ScriptedBackend(polls=2)
    workspace = client_for(backend).workspaces.create("rg", "ws", "eastus", polling=CustomPolling()).result(timeout=10)
    assert workspace.name == "ws" and backend.poll_count == 3
    assert (
        client_for(ScriptedBackend(workspaces=1))
        .workspaces.delete("rg", "ws000", polling=ARMPolling(timeout=1))
        .result()
        is None
    )
