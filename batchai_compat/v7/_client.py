"""``BatchAI``: the azure-mgmt-batchai 7.0.0 (track 2) client, on the 2.0.0 operation layer and its backends."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Union

from azure.core.polling import LROPoller, NoPolling, PollingMethod
from msrest import Deserializer, Serializer

from batchai_compat import models as _models_200
from batchai_compat._client import BatchAIManagementClient as _Client200
from batchai_compat._generations import GENERATIONS, check_model_generation
from batchai_compat._polling import body_of
from batchai_compat.backends.base import Backend
from batchai_compat.operations._arm import check_name, check_resource_group, check_subscription
from batchai_compat.v7 import models as _models
from batchai_compat.v7._core import BackendLROPolling, Resumed, azure_errors, item_paged, pipeline_response
from batchai_compat.v7._hints import track2_attribute_error

MODELS_PACKAGE = "batchai_compat.v7.models"
# A 7.0.0 model given to an older client (or the reverse) names both generations (``check_model_generation``).
GENERATIONS.setdefault(MODELS_PACKAGE, ("2018-05-01", "7.0.0", "batchai_compat.v7"))

# Keywords 7.0.0 handed to its azure-core HTTP pipeline (retry, logging, transport, headers, ...). There is no
# HTTP pipeline here: they are accepted and not used.
PIPELINE_KEYWORDS = frozenset({
    "logging_enable", "retry_total", "retry_connect", "retry_read", "retry_status", "retry_backoff_factor",
    "retry_backoff_max", "retry_mode", "user_agent", "user_agent_overwrite", "headers", "proxies", "transport",
    "per_call_policies", "per_retry_policies", "authentication_policy", "connection_timeout", "read_timeout",
    "connection_verify", "connection_cert", "credential_scopes", "http_logging_policy", "redirect_policy",
    "retry_policy", "custom_hook_policy", "logging_policy", "headers_policy", "user_agent_policy", "proxy_policy",
    "distributed_tracing_policy", "timeout", "error_map", "content_type",
})


class BatchAIConfiguration:
    """Configuration of :class:`BatchAI`, as in 7.0.0: ``credential``, ``subscription_id``,
    ``polling_interval`` (default 30, not used: the backend paces polls) and ``credential_scopes``."""

    def __init__(self, credential: Any, subscription_id: Any, **kwargs: Any) -> None:
        if credential is None:
            raise ValueError("Parameter 'credential' must not be None.")
        if subscription_id is None:
            raise ValueError("Parameter 'subscription_id' must not be None.")
        self.credential = credential
        self.subscription_id = subscription_id
        self.api_version = "2018-05-01"
        self.credential_scopes = kwargs.pop("credential_scopes", ["https://management.azure.com/.default"])
        self.polling_interval = kwargs.get("polling_interval", 30)


class _Group:
    """Base of the seven 7.0.0 operation groups: each wraps the 2.0.0 group of the same name."""

    models = _models
    _inner_name = ""

    def __init__(self, inner_client: Any, config: BatchAIConfiguration, serializer: Serializer,
                 deserializer: Deserializer) -> None:
        self._inner = getattr(inner_client, self._inner_name)
        self._config = config
        self._serialize = serializer
        self._deserialize = deserializer

    def __getattr__(self, name: str) -> Any:
        raise track2_attribute_error(self, name)

    # -- arguments
    def _body(self, parameters: Any, model_name: str) -> Any:
        """The wire body of ``parameters`` (a 7.0.0 model or a dict). 7.0.0 did no client-side validation;
        the 2.0.0 layer's (which is the service's rule) answers what is missing with ``HttpResponseError``."""
        check_model_generation(parameters, MODELS_PACKAGE)
        return self._serialize.body(parameters, model_name)  # ``None``: msrest's ValidationError, as in 7.0.0

    @staticmethod
    def _options(options: Any) -> Any:
        check_model_generation(options, MODELS_PACKAGE)
        return options.as_dict() if hasattr(options, "as_dict") else options

    @staticmethod
    def _require(path: List[Any]) -> None:
        """What 7.0.0 checked client-side in a path: nothing but ``None`` (msrest's ``ValueError``)."""
        if any(value is None for value in path):
            raise ValueError("No value for given attribute")

    def _check_path(self, path: List[Any]) -> None:
        """The service's answers to path values 7.0.0 sent unchecked (its client-side validation was off):
        ``InvalidSubscriptionId`` 400, ``ResourceGroupNotFound`` 404, ``InvalidResourceName`` 400 (see
        ``batchai_compat.operations._arm``), after :meth:`_require`."""
        self._require(path)
        with azure_errors():
            check_subscription(str(self._config.subscription_id))
            for index, value in enumerate(path):
                (check_resource_group if index == 0 else check_name)(str(value))

    # -- answers
    def _output(self, model_name: Optional[str], cls: Optional[Callable[..., Any]]) -> Callable[[Any], Any]:
        def convert(raw: Any) -> Any:
            body = body_of(raw.response) if raw is not None else None
            deserialized = self._deserialize(model_name, body) if model_name and body is not None else None
            if cls:
                return cls(pipeline_response(raw.response), deserialized, {})
            return deserialized

        return convert

    def _call(self, method: Callable[..., Any], args: List[Any], model_name: str, kwargs: Dict[str, Any],
              body: bool = False) -> Any:
        cls = _pop_common(kwargs)
        self._check_path(args[:-1] if body else args)  # ``update``: the last argument is the body
        with azure_errors():
            raw = method(*args, raw=True)
        return self._output(model_name, cls)(raw)

    def _lro(self, operation: str, method: Callable[..., Any], args: List[Any], path: List[str],
             model_name: Optional[str], kwargs: Dict[str, Any]) -> LROPoller:
        """``begin_*``: start now (errors surface at call time, as 7.0.0's initial request did) and return
        the genuine azure-core ``LROPoller``; ``continuation_token=`` resumes polling of the same resource."""
        cls = _pop_common(kwargs)
        polling: Union[bool, PollingMethod] = kwargs.pop("polling", True)
        kwargs.pop("polling_interval", None)
        token = kwargs.pop("continuation_token", None)
        callback = self._output(model_name, cls)
        if polling is True or type(polling).__name__ == "ARMPolling":
            method_: PollingMethod = BackendLROPolling(operation, path)
        elif polling is False:
            method_ = NoPolling()
        else:
            method_ = polling
        self._check_path(path)
        if token is not None:
            return LROPoller.from_continuation_token(polling_method=method_, continuation_token=token, client=self,
                                                     deserialization_callback=callback)
        with azure_errors():
            inner = method(*args, raw=True, polling=polling is not False)
        if polling is False:
            return LROPoller(self, inner.result(), callback, method_)
        return LROPoller(self, inner, callback, method_)

    def _create(self, path: List[Any], parameters: Any, model_name: str, kwargs: Dict[str, Any]) -> LROPoller:
        """``begin_create`` of a resource whose 2.0.0 ``create`` takes ``<model_name>CreateParameters``."""
        self._require(path)
        body = None if "continuation_token" in kwargs else self._body(parameters, model_name + "CreateParameters")
        return self._lro(f"{self._inner_name}.create", self._inner.create, path + [body], path, model_name, kwargs)

    def _resume(self, operation: str, path: List[str]) -> Resumed:
        group, _, kind = operation.partition(".")
        if group != self._inner_name or kind not in ("create", "delete", "terminate"):
            raise ValueError(f"continuation token of {operation!r} given to {type(self).__name__}")
        return Resumed(kind, lambda: self._inner.get(*path, raw=True))

    def _paged(self, paged: Any, list_model: str, kwargs: Dict[str, Any], path: Optional[List[Any]] = None) -> Any:
        cls = _pop_common(kwargs)
        return item_paged(paged, list_model, self._deserialize, cls, lambda: self._check_path(path or []))


def _pop_common(kwargs: Dict[str, Any]) -> Optional[Callable[..., Any]]:
    cls = kwargs.pop("cls", None)
    unknown = set(kwargs) - PIPELINE_KEYWORDS - {"polling", "polling_interval", "continuation_token"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    return cls


class Operations(_Group):
    """Operations operations. Do not instantiate directly; use ``client.operations``."""

    _inner_name = "operations"

    def list(self, **kwargs: Any) -> Any:
        """Lists available operations: ``ItemPaged[Operation]``."""
        return self._paged(self._inner.list(raw=False), "OperationListResult", kwargs)


class UsagesOperations(_Group):
    """UsagesOperations operations. Do not instantiate directly; use ``client.usages``."""

    _inner_name = "usages"

    def list(self, location: Any, **kwargs: Any) -> Any:
        """Gets the current usage information and limits for Batch AI resources in ``location``:
        ``ItemPaged[Usage]``. A ``None`` location raises msrest's ``ValueError`` at the first page, as 7.0.0's
        URL serializer did."""
        cls = _pop_common(kwargs)
        return item_paged(self._inner.list(location), "ListUsagesResult", self._deserialize, cls,
                          lambda: self._require([location]))


class WorkspacesOperations(_Group):
    """WorkspacesOperations operations. Do not instantiate directly; use ``client.workspaces``."""

    _inner_name = "workspaces"

    def list(self, workspaces_list_options: Any = None, **kwargs: Any) -> Any:
        """Gets a list of Workspaces of the subscription: ``ItemPaged[Workspace]``."""
        return self._paged(self._inner.list(self._options(workspaces_list_options)), "WorkspaceListResult", kwargs)

    def list_by_resource_group(self, resource_group_name: Any, workspaces_list_by_resource_group_options: Any = None,
                               **kwargs: Any) -> Any:
        """Gets a list of Workspaces within the resource group: ``ItemPaged[Workspace]``."""
        paged = self._inner.list_by_resource_group(resource_group_name,
                                                   self._options(workspaces_list_by_resource_group_options))
        return self._paged(paged, "WorkspaceListResult", kwargs, [resource_group_name])

    def begin_create(self, resource_group_name: Any, workspace_name: Any, parameters: Any, **kwargs: Any) -> LROPoller:
        """Creates a Workspace: ``LROPoller[Workspace]``."""
        path = [resource_group_name, workspace_name]
        self._require(path)
        body = None if "continuation_token" in kwargs else self._body(parameters, "WorkspaceCreateParameters")
        # 2.0.0 flattened the body into ``location, tags``.
        args = path + ([None, None] if body is None else [body.get("location"), body.get("tags")])
        return self._lro("workspaces.create", self._inner.create, args, path, "Workspace", kwargs)

    def update(self, resource_group_name: Any, workspace_name: Any, parameters: Any, **kwargs: Any) -> Any:
        """Updates the properties of an existing Workspace: ``Workspace``."""
        self._require([resource_group_name, workspace_name])
        body = self._body(parameters, "WorkspaceUpdateParameters")
        tags = None if body is None else body.get("tags")
        return self._call(self._inner.update, [resource_group_name, workspace_name, tags], "Workspace", kwargs,
                          body=True)

    def begin_delete(self, resource_group_name: Any, workspace_name: Any, **kwargs: Any) -> LROPoller:
        """Deletes a Workspace: ``LROPoller[None]``."""
        path = [resource_group_name, workspace_name]
        return self._lro("workspaces.delete", self._inner.delete, path, path, None, kwargs)

    def get(self, resource_group_name: Any, workspace_name: Any, **kwargs: Any) -> Any:
        """Gets information about a Workspace: ``Workspace``."""
        return self._call(self._inner.get, [resource_group_name, workspace_name], "Workspace", kwargs)


class ExperimentsOperations(_Group):
    """ExperimentsOperations operations. Do not instantiate directly; use ``client.experiments``."""

    _inner_name = "experiments"

    def list_by_workspace(self, resource_group_name: Any, workspace_name: Any,
                          experiments_list_by_workspace_options: Any = None, **kwargs: Any) -> Any:
        """Gets a list of Experiments within the Workspace: ``ItemPaged[Experiment]``."""
        paged = self._inner.list_by_workspace(resource_group_name, workspace_name,
                                              self._options(experiments_list_by_workspace_options))
        return self._paged(paged, "ExperimentListResult", kwargs, [resource_group_name, workspace_name])

    def begin_create(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                     **kwargs: Any) -> LROPoller:
        """Creates an Experiment: ``LROPoller[Experiment]``."""
        path = [resource_group_name, workspace_name, experiment_name]
        return self._lro("experiments.create", self._inner.create, path, path, "Experiment", kwargs)

    def begin_delete(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                     **kwargs: Any) -> LROPoller:
        """Deletes an Experiment: ``LROPoller[None]``."""
        path = [resource_group_name, workspace_name, experiment_name]
        return self._lro("experiments.delete", self._inner.delete, path, path, None, kwargs)

    def get(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, **kwargs: Any) -> Any:
        """Gets information about an Experiment: ``Experiment``."""
        return self._call(self._inner.get, [resource_group_name, workspace_name, experiment_name], "Experiment",
                          kwargs)


class JobsOperations(_Group):
    """JobsOperations operations. Do not instantiate directly; use ``client.jobs``."""

    _inner_name = "jobs"

    def list_by_experiment(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                           jobs_list_by_experiment_options: Any = None, **kwargs: Any) -> Any:
        """Gets a list of Jobs within the Experiment: ``ItemPaged[Job]``."""
        paged = self._inner.list_by_experiment(resource_group_name, workspace_name, experiment_name,
                                               self._options(jobs_list_by_experiment_options))
        return self._paged(paged, "JobListResult", kwargs, [resource_group_name, workspace_name, experiment_name])

    def begin_create(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                     parameters: Any, **kwargs: Any) -> LROPoller:
        """Creates a Job in the Experiment: ``LROPoller[Job]``."""
        return self._create([resource_group_name, workspace_name, experiment_name, job_name], parameters, "Job",
                            kwargs)

    def begin_delete(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                     **kwargs: Any) -> LROPoller:
        """Deletes a Job: ``LROPoller[None]``."""
        path = [resource_group_name, workspace_name, experiment_name, job_name]
        return self._lro("jobs.delete", self._inner.delete, path, path, None, kwargs)

    def get(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
            **kwargs: Any) -> Any:
        """Gets information about a Job: ``Job``."""
        return self._call(self._inner.get, [resource_group_name, workspace_name, experiment_name, job_name], "Job",
                          kwargs)

    def list_output_files(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                          jobs_list_output_files_options: Any, **kwargs: Any) -> Any:
        """Lists the directories and files of a Job's output directory: ``ItemPaged[File]``."""
        paged = self._inner.list_output_files(resource_group_name, workspace_name, experiment_name, job_name,
                                              self._options(jobs_list_output_files_options))
        return self._paged(paged, "FileListResult", kwargs,
                           [resource_group_name, workspace_name, experiment_name, job_name])

    def list_remote_login_information(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any,
                                      job_name: Any, **kwargs: Any) -> Any:
        """Gets the nodes used for the Job: ``ItemPaged[RemoteLoginInformation]``."""
        paged = self._inner.list_remote_login_information(resource_group_name, workspace_name, experiment_name,
                                                          job_name)
        return self._paged(paged, "RemoteLoginInformationListResult", kwargs,
                           [resource_group_name, workspace_name, experiment_name, job_name])

    def begin_terminate(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any, job_name: Any,
                        **kwargs: Any) -> LROPoller:
        """Terminates a Job: ``LROPoller[None]``."""
        path = [resource_group_name, workspace_name, experiment_name, job_name]
        return self._lro("jobs.terminate", self._inner.terminate, path, path, None, kwargs)


class FileServersOperations(_Group):
    """FileServersOperations operations (7.0.0 has only ``begin_create`` and ``list_by_workspace``)."""

    _inner_name = "file_servers"

    def begin_create(self, resource_group_name: Any, workspace_name: Any, file_server_name: Any, parameters: Any,
                     **kwargs: Any) -> LROPoller:
        """Creates a File Server: ``LROPoller[FileServer]``."""
        return self._create([resource_group_name, workspace_name, file_server_name], parameters, "FileServer", kwargs)

    def list_by_workspace(self, resource_group_name: Any, workspace_name: Any,
                          file_servers_list_by_workspace_options: Any = None, **kwargs: Any) -> Any:
        """Gets a list of File Servers within the Workspace: ``ItemPaged[FileServer]``."""
        paged = self._inner.list_by_workspace(resource_group_name, workspace_name,
                                              self._options(file_servers_list_by_workspace_options))
        return self._paged(paged, "FileServerListResult", kwargs, [resource_group_name, workspace_name])


class ClustersOperations(_Group):
    """ClustersOperations operations. Do not instantiate directly; use ``client.clusters``."""

    _inner_name = "clusters"

    def begin_create(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any, parameters: Any,
                     **kwargs: Any) -> LROPoller:
        """Creates a Cluster: ``LROPoller[Cluster]``."""
        return self._create([resource_group_name, workspace_name, cluster_name], parameters, "Cluster", kwargs)

    def update(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any, parameters: Any,
               **kwargs: Any) -> Any:
        """Updates the properties of a Cluster: ``Cluster``."""
        self._require([resource_group_name, workspace_name, cluster_name])
        body = self._body(parameters, "ClusterUpdateParameters")
        scale = None if body is None else (body.get("properties") or {}).get("scaleSettings")
        if isinstance(scale, dict):
            scale = _models_200.ScaleSettings.from_dict(scale)
        return self._call(self._inner.update, [resource_group_name, workspace_name, cluster_name, scale], "Cluster",
                          kwargs, body=True)

    def begin_delete(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any,
                     **kwargs: Any) -> LROPoller:
        """Deletes a Cluster: ``LROPoller[None]``."""
        path = [resource_group_name, workspace_name, cluster_name]
        return self._lro("clusters.delete", self._inner.delete, path, path, None, kwargs)

    def get(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any, **kwargs: Any) -> Any:
        """Gets information about a Cluster: ``Cluster``."""
        return self._call(self._inner.get, [resource_group_name, workspace_name, cluster_name], "Cluster", kwargs)

    def list_remote_login_information(self, resource_group_name: Any, workspace_name: Any, cluster_name: Any,
                                      **kwargs: Any) -> Any:
        """Gets the nodes of a Cluster: ``ItemPaged[RemoteLoginInformation]``."""
        paged = self._inner.list_remote_login_information(resource_group_name, workspace_name, cluster_name)
        return self._paged(paged, "RemoteLoginInformationListResult", kwargs,
                           [resource_group_name, workspace_name, cluster_name])

    def list_by_workspace(self, resource_group_name: Any, workspace_name: Any,
                          clusters_list_by_workspace_options: Any = None, **kwargs: Any) -> Any:
        """Gets a list of Clusters within the Workspace: ``ItemPaged[Cluster]``."""
        paged = self._inner.list_by_workspace(resource_group_name, workspace_name,
                                              self._options(clusters_list_by_workspace_options))
        return self._paged(paged, "ClusterListResult", kwargs, [resource_group_name, workspace_name])


class BatchAI:
    """The Azure BatchAI Management API (azure-mgmt-batchai 7.0.0's client), served by a batchai_compat backend.

    :param credential: Credential for Azure (any object for the local backend; the azureml backend gets it as
     2.0.0's ``credentials``).
    :param str subscription_id: The subscriptionID for the Azure user.
    :param str base_url: Service URL; appears in ``next_link`` values only.
    :keyword backend: ``"local"`` (default), ``"azureml"``, another registered name or a backend instance, as
     for :class:`batchai_compat.BatchAIManagementClient`; other keywords that are not azure-core pipeline
     keywords (:data:`PIPELINE_KEYWORDS`, accepted and not used) are backend options (``home=``).
    """

    def __init__(self, credential: Any, subscription_id: Any, base_url: Optional[str] = None, *,
                 backend: Union[str, Backend, None] = None, **kwargs: Any) -> None:
        if not base_url:
            base_url = "https://management.azure.com"
        options = {k: v for k, v in kwargs.items() if k not in PIPELINE_KEYWORDS and k != "polling_interval"}
        pipeline = {k: v for k, v in kwargs.items() if k not in options}
        self._config = BatchAIConfiguration(credential, subscription_id, **pipeline)
        self._inner = _Client200(credential, subscription_id, base_url, backend=backend, **options)
        client_models = {k: v for k, v in vars(_models).items() if isinstance(v, type)}
        self._serialize = Serializer(client_models)
        self._serialize.client_side_validation = False
        self._deserialize = Deserializer(client_models)
        groups = (self._inner, self._config, self._serialize, self._deserialize)
        self.operations, self.usages, self.workspaces, self.experiments, self.jobs, self.file_servers, \
            self.clusters = (cls(*groups) for cls in (Operations, UsagesOperations, WorkspacesOperations,
                                                      ExperimentsOperations, JobsOperations, FileServersOperations,
                                                      ClustersOperations))

    @property
    def backend(self) -> Backend:
        """The engine serving this client (read-only), shared with 2.0.0 clients on the same home."""
        return self._inner.backend

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> "BatchAI":
        return self

    def __exit__(self, *exc_details: Any) -> None:
        self.close()


#: The name the 2.0.0 client had; 7.0.0 itself exports only ``BatchAI``.
BatchAIManagementClient = BatchAI
