"""The backend interface: what an engine behind ``BatchAIManagementClient`` must provide.

Audience: backend authors only. Users never call these methods; they use the operation groups.

The seam is the wire format. Every method takes and returns the JSON bodies that the Batch AI
REST API 2018-05-01 exchanged (camelCase keys, a ``properties`` envelope, ARM ids), exactly as in
``../specs/batchai-2018-05-01/examples``. The operation layer validates input with the models before a
backend sees it, and deserializes what a backend returns with the same models, so field fidelity
lives in one place.

Rules for implementations:

* Raise the errors of :mod:`batchai_compat.backends.errors` (``NotFound``, ``Conflict``,
  ``InvalidInput``, ``NotSupported``...). The operation layer turns them into the genuine
  ``msrestazure.azure_exceptions.CloudError`` in exactly one place.
* Never return secrets: ``secrets[].value``, mount ``credentials`` (returned as ``{}``), admin
  passwords and registry passwords are stripped from every body a backend returns.
* Long-running work returns an :class:`Operation`; the operation layer wraps it into an
  ``msrest.polling.LROPoller``. Return :func:`completed` when the work is already done.
* Lists return a :class:`Page`. ``continuation`` is an opaque token from a previous page's
  ``next_link``; ``max_results`` is the page size the caller asked for (1..1000).
"""

from __future__ import annotations

import abc
from collections import namedtuple
from typing import Any, Callable, Dict, List, Optional

Body = Dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Resource references (the path parameters of the REST API)
# --------------------------------------------------------------------------------------------------
# collections.namedtuple rather than typing.NamedTuple: cheaper to build at import time.
class WorkspaceRef(namedtuple("WorkspaceRef", "subscription_id resource_group workspace")):
    __slots__ = ()


class _InWorkspace:
    __slots__ = ()

    @property
    def workspace_ref(self) -> WorkspaceRef:
        return WorkspaceRef(self.subscription_id, self.resource_group, self.workspace)  # type: ignore[attr-defined]


class ExperimentRef(_InWorkspace, namedtuple("ExperimentRef", "subscription_id resource_group workspace experiment")):
    __slots__ = ()


class JobRef(_InWorkspace, namedtuple("JobRef", "subscription_id resource_group workspace experiment job")):
    __slots__ = ()

    @property
    def experiment_ref(self) -> ExperimentRef:
        return ExperimentRef(self.subscription_id, self.resource_group, self.workspace, self.experiment)


class ClusterRef(_InWorkspace, namedtuple("ClusterRef", "subscription_id resource_group workspace cluster")):
    __slots__ = ()


class FileServerRef(_InWorkspace, namedtuple("FileServerRef", "subscription_id resource_group workspace file_server")):
    __slots__ = ()


# --------------------------------------------------------------------------------------------------
# Pages and long-running operations
# --------------------------------------------------------------------------------------------------
# Plain classes rather than dataclasses: this module is imported by ``import batchai_compat``,
# and building dataclasses at import time costs several milliseconds.
class Page:
    """One page of a list: the REST ``{"value": [...], "nextLink": ...}`` body."""

    __slots__ = ("value", "next_link")

    def __init__(self, value: Optional[List[Body]] = None, next_link: Optional[str] = None) -> None:
        self.value: List[Body] = [] if value is None else value
        self.next_link = next_link

    def to_body(self) -> Body:
        return {"value": self.value, "nextLink": self.next_link}

    def __repr__(self) -> str:
        return f"Page({len(self.value)} items, next_link={self.next_link!r})"


class OperationState:
    """The state of a long-running operation, as ARM's ``Azure-AsyncOperation`` resource reports it.

    ``status`` is ``"InProgress"``, ``"Succeeded"`` or ``"Failed"``. ``resource`` is the final body
    (``None`` for delete and terminate); ``error`` is ``{"code", "message"}`` when failed.
    """

    __slots__ = ("status", "resource", "error")

    def __init__(self, status: str, resource: Optional[Body] = None, error: Optional[Body] = None) -> None:
        self.status = status
        self.resource = resource
        self.error = error

    def __repr__(self) -> str:
        return f"OperationState({self.status!r})"

    @property
    def done(self) -> bool:
        return self.status != "InProgress"


class Operation(abc.ABC):
    """A long-running operation started by a backend.

    ``initial`` is the body of the service's first response: the resource for a ``200``, ``None``
    for a ``202 Accepted`` with an empty body (which is what Batch AI answered for job, cluster and
    file-server creation and for every delete). ``poll()`` is called until it reports a terminal
    state; ``delay`` is the suggested pause between polls, in seconds.
    """

    initial: Optional[Body] = None
    delay: float = 0.05

    @abc.abstractmethod
    def poll(self) -> OperationState:
        """Return the current state (called repeatedly from the poller's thread)."""


class _Completed(Operation):
    def __init__(self, initial: Optional[Body], resource: Optional[Body]) -> None:
        self.initial = initial
        self._state = OperationState("Succeeded", resource)

    def poll(self) -> OperationState:
        return self._state


class _Polled(Operation):
    def __init__(self, initial: Optional[Body], poll: Callable[[], OperationState], delay: float) -> None:
        self.initial = initial
        self._poll = poll
        self.delay = delay

    def poll(self) -> OperationState:
        return self._poll()


def completed(resource: Optional[Body] = None, *, accepted: bool = False) -> Operation:
    """An operation that is already finished.

    ``accepted=True`` models a ``202`` whose body was empty (``initial`` is ``None``), so that
    ``polling=False`` returns ``None`` as the original SDK did; the final resource is still
    ``resource``.
    """
    return _Completed(None if accepted else resource, resource)


def polled(poll: Callable[[], OperationState], *, initial: Optional[Body] = None, delay: float = 0.05) -> Operation:
    """An operation whose state is found by calling ``poll()``."""
    return _Polled(initial, poll, delay)


# --------------------------------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------------------------------
class Backend(abc.ABC):
    """The primitives an engine implements. One method per Batch AI operation, named verb_noun.

    ``create_*`` bodies are what the SDK serialized (``JobCreateParameters`` etc.), already
    validated by the operation layer; missing parents are the backend's to report
    (``NotFound("WorkspaceNotFound", ...)``).
    """

    #: Registry name ("local", "azureml", ...), used in logs and error messages.
    name: str = "abstract"

    #: Deviations, keyed by operation (``"jobs.create"``) or toolkit (``"toolkit.tensor_flow"``):
    #: ``"partial: <why>"`` or ``"unsupported: <why>"``. Feeds docs/coverage.md; keep it true.
    notes: Dict[str, str] = {}

    # -- operations and usages -----------------------------------------------------------------
    def list_operations(self) -> List[Body]:
        """The ``Operation`` bodies of ``GET /providers/Microsoft.BatchAI/operations``."""
        from batchai_compat.backends._catalog import operation_catalog

        return operation_catalog()

    @abc.abstractmethod
    def list_usages(self, subscription_id: str, location: str) -> List[Body]:
        """``Usage`` bodies for a location."""

    # -- workspaces ----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_workspace(self, ref: WorkspaceRef, body: Body) -> Operation:
        """Create or update; ``body`` is ``{"location": ..., "tags": ...}``."""

    @abc.abstractmethod
    def get_workspace(self, ref: WorkspaceRef) -> Body: ...

    @abc.abstractmethod
    def update_workspace(self, ref: WorkspaceRef, body: Body) -> Body:
        """``body`` is ``{"tags": ...}``; synchronous."""

    @abc.abstractmethod
    def delete_workspace(self, ref: WorkspaceRef) -> Operation:
        """Delete the workspace and everything in it (clusters, file servers, experiments, jobs)."""

    @abc.abstractmethod
    def list_workspaces(
        self, subscription_id: str, resource_group: Optional[str], max_results: int, continuation: Optional[str]
    ) -> Page:
        """All workspaces of the subscription, or of one resource group."""

    # -- experiments ---------------------------------------------------------------------------
    @abc.abstractmethod
    def create_experiment(self, ref: ExperimentRef) -> Operation: ...

    @abc.abstractmethod
    def get_experiment(self, ref: ExperimentRef) -> Body: ...

    @abc.abstractmethod
    def delete_experiment(self, ref: ExperimentRef) -> Operation:
        """Delete the experiment and its jobs (running jobs are killed)."""

    @abc.abstractmethod
    def list_experiments(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page: ...

    # -- clusters ------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_cluster(self, ref: ClusterRef, body: Body) -> Operation: ...

    @abc.abstractmethod
    def get_cluster(self, ref: ClusterRef) -> Body: ...

    @abc.abstractmethod
    def update_cluster(self, ref: ClusterRef, body: Body) -> Body:
        """``body`` is ``{"properties": {"scaleSettings": ...}}``; synchronous."""

    @abc.abstractmethod
    def delete_cluster(self, ref: ClusterRef) -> Operation: ...

    @abc.abstractmethod
    def list_clusters(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page: ...

    @abc.abstractmethod
    def list_cluster_remote_login_information(self, ref: ClusterRef, continuation: Optional[str]) -> Page: ...

    # -- file servers --------------------------------------------------------------------------
    @abc.abstractmethod
    def create_file_server(self, ref: FileServerRef, body: Body) -> Operation: ...

    @abc.abstractmethod
    def get_file_server(self, ref: FileServerRef) -> Body: ...

    @abc.abstractmethod
    def delete_file_server(self, ref: FileServerRef) -> Operation: ...

    @abc.abstractmethod
    def list_file_servers(self, ref: WorkspaceRef, max_results: int, continuation: Optional[str]) -> Page: ...

    # -- jobs ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_job(self, ref: JobRef, body: Body) -> Operation:
        """Create a job; ``body`` is the serialized ``JobCreateParameters`` (secrets included)."""

    @abc.abstractmethod
    def get_job(self, ref: JobRef) -> Body: ...

    @abc.abstractmethod
    def delete_job(self, ref: JobRef) -> Operation: ...

    @abc.abstractmethod
    def terminate_job(self, ref: JobRef) -> Operation:
        """Terminate a queued or running job; a no-op for a finished one."""

    @abc.abstractmethod
    def list_jobs(self, ref: ExperimentRef, max_results: int, continuation: Optional[str]) -> Page: ...

    @abc.abstractmethod
    def list_output_files(
        self,
        ref: JobRef,
        output_directory_id: str,
        directory: str,
        link_expiry_minutes: int,
        max_results: int,
        continuation: Optional[str],
    ) -> Page:
        """``File`` bodies: immediate children of ``directory`` in the output directory, byte-sorted."""

    @abc.abstractmethod
    def list_job_remote_login_information(self, ref: JobRef, continuation: Optional[str]) -> Page: ...

    # -- lifecycle -----------------------------------------------------------------------------
    def attach_client(self, credentials: Any, subscription_id: str) -> None:
        """Called once by each client using this backend, with the client's credentials.

        The local backend ignores credentials; a cloud backend turns them into its own
        authentication. Must not make network calls (the first operation may).
        """

    def close(self) -> None:
        """Release resources (threads, servers, connections). Optional."""
