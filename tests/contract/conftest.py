"""The contract suite: Batch AI behaviours every backend must reproduce, through the public client.

Each test gets a ``client`` built on a fresh, empty ``BATCHAI_COMPAT_HOME``. The fixture is
parametrized by backend name; to run the suite against another backend, add a factory to
``BACKENDS`` (``name -> callable(home) -> Backend``). Tests that inspect local-only machinery
(process ids, the state database) request the ``local_backend`` fixture, which skips elsewhere.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict

import pytest

from batchai_compat import BatchAIManagementClient

from .helpers import RG, SUB, Ctx


def _local(home: Any) -> Any:
    from batchai_compat.backends.local import LocalBackend

    # delete_seconds: the short "deleting" window of every teardown (test_deleting.py widens it itself)
    return LocalBackend(home=home, leave_seconds=0.3, autoscale_idle_seconds=0.5, delete_seconds=0.1)


BACKENDS: Dict[str, Callable[[Any], Any]] = {"local": _local}


class _Credentials:
    """Any credentials object: the local backend never uses it."""

    def signed_session(self, session: Any = None) -> Any:  # pragma: no cover - never called locally
        return session


@pytest.fixture(params=sorted(BACKENDS))
def backend_name(request: Any) -> str:
    return request.param


@pytest.fixture
def home(tmp_path: Any, monkeypatch: Any) -> Any:
    path = tmp_path / "home"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(path))
    return path


@pytest.fixture
def client(backend_name: str, home: Any) -> Any:
    client = BatchAIManagementClient(_Credentials(), SUB, backend=BACKENDS[backend_name](home))
    yield client
    _delete_everything(client)
    client.close()
    # The download-URL server of this home stays up (an idle thread): _fileserver.stop_server() would
    # stop the servers of every home in this process, including other test modules' ones.


def _delete_everything(client: Any) -> None:
    """Kill whatever a test left running (deleting a workspace kills its jobs' processes)."""
    try:
        pollers = [client.workspaces.delete(RG, ws.name) for ws in client.workspaces.list_by_resource_group(RG)]
        for poller in pollers:
            poller.result(timeout=30)
    except Exception:  # pragma: no cover - best effort cleanup
        pass


@pytest.fixture
def ctx(client: Any, home: Any, backend_name: str) -> Ctx:
    """The client plus the standard workspace ``workspace`` and experiment ``experiment``."""
    context = Ctx(client, home, backend_name)
    context.setup_workspace()
    return context


@pytest.fixture
def local_backend(client: Any, backend_name: str) -> Any:
    if backend_name != "local":
        pytest.skip("inspects the local backend's processes and state")
    return client.backend


def pytest_collection_modifyitems(items: Any) -> None:
    for item in items:
        if "tests/contract" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.spawns_processes)
