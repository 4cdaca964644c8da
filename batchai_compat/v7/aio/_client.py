"""``BatchAI`` of ``azure.mgmt.batchai.aio`` (azure-mgmt-batchai 7.0.0), over the synchronous 7.0.0 client.

Each async group holds the sync group of the same name (``batchai_compat.v7._client``) and runs its method
in a worker thread: one implementation of the checks, the error mapping and the backend calls serves
both clients. As in 7.0.0's ``aio`` package: ``get`` / ``update`` and ``begin_*`` are coroutines,
``begin_*`` returns an ``azure.core.polling.AsyncLROPoller``, lists are plain methods returning
``azure.core.async_paging.AsyncItemPaged`` (nothing runs before the first page).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from azure.core.async_paging import AsyncItemPaged
from azure.core.polling import AsyncLROPoller, AsyncNoPolling, AsyncPollingMethod

from batchai_compat.backends.base import Backend
from batchai_compat.v7 import _client as _sync
from batchai_compat.v7 import models as _models
from batchai_compat.v7._hints import track2_attribute_error
from batchai_compat.v7.aio._core import AsyncBackendPolling, async_item_paged, run_sync


def _sync_result(poller: Any) -> Any:
    """Deserialization callback of an ``AsyncNoPolling`` poller: the sync ``NoPolling`` poller's answer
    (already there: ``polling=False`` returns the initial response)."""
    return poller.result()


async def _refuse_none(*_: Any) -> Any:
    raise ValueError("No value for given attribute")


class _AsyncGroup:
    """Base of the seven async groups: each wraps the sync 7.0.0 group of the same name."""

    models = _models

    def __init__(self, sync_group: Any) -> None:
        self._sync = sync_group

    def __getattr__(self, name: str) -> Any:
        raise track2_attribute_error(self, name)

    async def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_sync(method, *args, **kwargs)

    async def _lro(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> AsyncLROPoller:
        """``begin_*``: start the operation in a worker thread (its errors are raised by this ``await``, as
        7.0.0's initial request's were) and wrap the sync poller in a genuine ``AsyncLROPoller``.

        ``polling``: ``True`` (or an ``AsyncARMPolling``, whose interval is not used: the backend paces
        polls) -> :class:`AsyncBackendPolling`; ``False`` -> ``AsyncNoPolling`` over the initial answer;
        another ``AsyncPollingMethod`` -> used as given, initialized with the sync ``LROPoller``."""
        polling = kwargs.pop("polling", True)
        if polling is False:
            sync_poller = await run_sync(method, *args, polling=False, **kwargs)
            return AsyncLROPoller(self, sync_poller, _sync_result, AsyncNoPolling())
        if polling is True or type(polling).__name__ == "AsyncARMPolling":
            polling_method: AsyncPollingMethod = AsyncBackendPolling()
        elif isinstance(polling, AsyncPollingMethod):
            polling_method = polling
        else:
            raise TypeError(f"polling must be a bool or an azure.core.polling.AsyncPollingMethod, not "
                            f"{type(polling).__name__}")
        sync_poller = await run_sync(method, *args, **kwargs)
        return AsyncLROPoller(self, sync_poller, _sync_result, polling_method)


class Operations(_AsyncGroup):
    """Operations operations (async). Do not instantiate directly; use ``client.operations``."""

    def list(self, **kwargs: Any) -> AsyncItemPaged:
        """Lists available operations: ``AsyncItemPaged[Operation]``."""
        return async_item_paged(self._sync.list(**kwargs))


class UsagesOperations(_AsyncGroup):
    """UsagesOperations operations (async). Do not instantiate directly; use ``client.usages``."""

    def list(self, location: Any, **kwargs: Any) -> AsyncItemPaged:
        """Gets the current usage information and limits for Batch AI resources in ``location``:
        ``AsyncItemPaged[Usage]``."""
        sync_paged = self._sync.list(location, **kwargs)
        if location is None:  # 7.0.0 refused it at the first page (msrest's ValueError), before any request
            return AsyncItemPaged(_refuse_none, _refuse_none)
        return async_item_paged(sync_paged)


class WorkspacesOperations(_AsyncGroup):
    """WorkspacesOperations operations (async). Do not instantiate directly; use ``client.workspaces``."""

    def list(self, workspaces_list_options: Any = None, **kwargs: Any) -> AsyncItemPaged:
        """Gets a list of Workspaces of the subscription: ``AsyncItemPaged[Workspace]``."""
        return async_item_paged(self._sync.list(workspaces_list_options, **kwargs))

    def list_by_resource_group(self, resource_group_name: Any, workspaces_list_by_resource_group_options: Any = None,
                               **kwargs: Any) -> AsyncItemPaged:
        """Gets a list of Workspaces within the resource group: ``AsyncItemPaged[Workspace]``."""
        return async_item_paged(self._sync.list_by_resource_group(
            resource_group_name, workspaces_list_by_resource_group_options, **kwargs))

    async def begin_create(self, resource_group_name: Any, workspace_name: Any, parameters: Any,
                           **kwargs: Any) -> AsyncLROPoller:
        """Creates a Workspace: ``AsyncLROPoller[Workspace]``."""
        return await self._lro(self._sync.begin_create, resource_group_name, workspace_name, parameters, **kwargs)

    async def update(self, resource_group_name: Any, workspace_name: Any, parameters: Any, **kwargs: Any) -> Any:
        """Updates the properties of an existing Workspace: ``Workspace``."""
        return await self._call(self._sync.update, resource_group_name, workspace_name, parameters, **kwargs)

    async def begin_delete(self, resource_group_name: Any, workspace_name: Any, **kwargs: Any) -> AsyncLROPoller:
        """Deletes a Workspace: ``AsyncLROPoller[None]``."""
        return await self._lro(self._sync.begin_delete, resource_group_name, workspace_name, **kwargs)

    async def get(self, resource_group_name: Any, workspace_name: Any, **kwargs: Any) -> Any:
        """Gets information about a Workspace: ``Workspace``."""
        return await self._call(self._sync.get, resource_group_name, workspace_name, **kwargs)


class ExperimentsOperations(_AsyncGroup):
    """ExperimentsOperations operations (async). Do not instantiate directly; use ``client.experiments``."""

    def list_by_workspace(self, resource_group_name: Any, workspace_name: Any,
                          experiments_list_by_workspace_options: Any = None, **kwargs: Any) -> AsyncItemPaged:
        """Gets a list of Experiments within the Workspace: ``AsyncItemPaged[Experiment]``."""
        return async_item_paged(self._sync.list_by_workspace(
            resource_group_name, workspace_name, experiments_list_by_workspace_options, **kwargs))

    async def begin_create(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                           **kwargs: Any) -> AsyncLROPoller:
        """Creates an Experiment: ``AsyncLROPoller[Experiment]``."""
        return await self._lro(self._sync.begin_create, resource_group_name, workspace_name, experiment_name,
                               **kwargs)

    async def begin_delete(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                           **kwargs: Any) -> AsyncLROPoller:
        """Deletes an Experiment: ``AsyncLROPoller[None]``."""
        return await self._lro(self._sync.begin_delete, resource_group_name, workspace_name, experiment_name,
                               **kwargs)

    async def get(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, **kwargs: Any) -> Any:
        """Gets information about an Experiment: ``Experiment``."""
        return await self._call(self._sync.get, resource_group_name, workspace_name, experiment_name, **kwargs)


class JobsOperations(_AsyncGroup):
    """JobsOperations operations (async). Do not instantiate directly; use ``client.jobs``."""

    def list_by_experiment(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                           jobs_list_by_experiment_options: Any = None, **kwargs: Any) -> AsyncItemPaged:
        """Gets a list of Jobs within the Experiment: ``AsyncItemPaged[Job]``."""
        return async_item_paged(self._sync.list_by_experiment(
            resource_group_name, workspace_name, experiment_name, jobs_list_by_experiment_options, **kwargs))

    async def begin_create(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                           parameters: Any, **kwargs: Any) -> AsyncLROPoller:
        """Creates a Job in the Experiment: ``AsyncLROPoller[Job]``."""
        return await self._lro(self._sync.begin_create, resource_group_name, workspace_name, experiment_name,
                               job_name, parameters, **kwargs)

    async def begin_delete(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                           **kwargs: Any) -> AsyncLROPoller:
        """Deletes a Job: ``AsyncLROPoller[None]``."""
        return await self._lro(self._sync.begin_delete, resource_group_name, workspace_name, experiment_name,
                               job_name, **kwargs)

    async def get(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                  **kwargs: Any) -> Any:
        """Gets information about a Job: ``Job``."""
        return await self._call(self._sync.get, resource_group_name, workspace_name, experiment_name, job_name,
                                **kwargs)

    def list_output_files(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                          jobs_list_output_files_options: Any, **kwargs: Any) -> AsyncItemPaged:
        """Lists the directories and files of a Job's output directory: ``AsyncItemPaged[File]``."""
        return async_item_paged(self._sync.list_output_files(
            resource_group_name, workspace_name, experiment_name, job_name, jobs_list_output_files_options, **kwargs))

    def list_remote_login_information(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                                      job_name: Any, **kwargs: Any) -> AsyncItemPaged:
        """Gets the nodes used for the Job: ``AsyncItemPaged[RemoteLoginInformation]``."""
        return async_item_paged(self._sync.list_remote_login_information(
            resource_group_name, workspace_name, experiment_name, job_name, **kwargs))

    async def begin_terminate(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                              job_name: Any, **kwargs: Any) -> AsyncLROPoller:
        """Terminates a Job: ``AsyncLROPoller[None]``."""
        return await self._lro(self._sync.begin_terminate, resource_group_name, workspace_name, experiment_name,
                               job_name, **kwargs)


class FileServersOperations(_AsyncGroup):
    """FileServersOperations operations (async; 7.0.0 has only ``begin_create`` and ``list_by_workspace``)."""

    async def begin_create(self, resource_group_name: Any, workspace_name: Any, file_server_name: Any,
                           parameters: Any, **kwargs: Any) -> AsyncLROPoller:
        """Creates a File Server: ``AsyncLROPoller[FileServer]``."""
        return await self._lro(self._sync.begin_create, resource_group_name, workspace_name, file_server_name,
                               parameters, **kwargs)

    def list_by_workspace(self, resource_group_name: Any, workspace_name: Any,
                          file_servers_list_by_workspace_options: Any = None, **kwargs: Any) -> AsyncItemPaged:
        """Gets a list of File Servers within the Workspace: ``AsyncItemPaged[FileServer]``."""
        return async_item_paged(self._sync.list_by_workspace(
            resource_group_name, workspace_name, file_servers_list_by_workspace_options, **kwargs))


class ClustersOperations(_AsyncGroup):
    """ClustersOperations operations (async). Do not instantiate directly; use ``client.clusters``."""

    async def begin_create(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any, parameters: Any,
                           **kwargs: Any) -> AsyncLROPoller:
        """Creates a Cluster: ``AsyncLROPoller[Cluster]``."""
        return await self._lro(self._sync.begin_create, resource_group_name, workspace_name, cluster_name,
                               parameters, **kwargs)

    async def update(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any, parameters: Any,
                     **kwargs: Any) -> Any:
        """Updates the properties of a Cluster: ``Cluster``."""
        return await self._call(self._sync.update, resource_group_name, workspace_name, cluster_name, parameters,
                                **kwargs)

    async def begin_delete(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any,
                           **kwargs: Any) -> AsyncLROPoller:
        """Deletes a Cluster: ``AsyncLROPoller[None]``."""
        return await self._lro(self._sync.begin_delete, resource_group_name, workspace_name, cluster_name, **kwargs)

    async def get(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any, **kwargs: Any) -> Any:
        """Gets information about a Cluster: ``Cluster``."""
        return await self._call(self._sync.get, resource_group_name, workspace_name, cluster_name, **kwargs)

    def list_remote_login_information(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any,
                                      **kwargs: Any) -> AsyncItemPaged:
        """Gets the nodes of a Cluster: ``AsyncItemPaged[RemoteLoginInformation]``."""
        return async_item_paged(self._sync.list_remote_login_information(
            resource_group_name, workspace_name, cluster_name, **kwargs))

    def list_by_workspace(self, resource_group_name: Any, workspace_name: Any,
                          clusters_list_by_workspace_options: Any = None, **kwargs: Any) -> AsyncItemPaged:
        """Gets a list of Clusters within the Workspace: ``AsyncItemPaged[Cluster]``."""
        return async_item_paged(self._sync.list_by_workspace(
            resource_group_name, workspace_name, clusters_list_by_workspace_options, **kwargs))


class BatchAI:
    """The Azure BatchAI Management API, async (``azure.mgmt.batchai.aio.BatchAI`` of 7.0.0), served by a
    batchai_compat backend through the sync :class:`batchai_compat.v7.BatchAI` it holds.

    ``async with BatchAI(credential, subscription_id) as client: ...``; the parameters and keywords are the
    sync client's (``backend=``, ``home=``, azure-core pipeline keywords accepted and not used). A sync
    client on the same backend home sees the same resources.
    """

    def __init__(self, credential: Any, subscription_id: Any, base_url: Optional[str] = None,
                 **kwargs: Any) -> None:
        self._client = _sync.BatchAI(credential, subscription_id, base_url, **kwargs)
        self._config = self._client._config
        self._serialize = self._client._serialize
        self._deserialize = self._client._deserialize
        self.operations = Operations(self._client.operations)
        self.usages = UsagesOperations(self._client.usages)
        self.workspaces = WorkspacesOperations(self._client.workspaces)
        self.experiments = ExperimentsOperations(self._client.experiments)
        self.jobs = JobsOperations(self._client.jobs)
        self.file_servers = FileServersOperations(self._client.file_servers)
        self.clusters = ClustersOperations(self._client.clusters)

    @property
    def backend(self) -> Backend:
        """The engine serving this client (read-only), shared with sync clients on the same home."""
        return self._client.backend

    async def close(self) -> None:
        await run_sync(self._client.close)

    async def __aenter__(self) -> "BatchAI":
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        await self.close()
