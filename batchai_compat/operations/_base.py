"""Shared machinery of the operation groups: validation, pollers, pages, raw responses.

Every public method of an operation group validates its arguments with msrest's serializer in
the same order and with the same constraints as azure-mgmt-batchai 2.0.0 (path parameters in URL
order, then the subscription id, then query parameters, then the body), so the same
``msrest.exceptions.ValidationError`` is raised at the same moment: at call time for plain and
long-running operations, at the first iteration for paged ones.

Names reach the backend as the serializer put them in the URL: ``str(value)`` (so
``workspaces.create(600, ...)`` addresses resource group ``"600"``, as 2.0.0 did), and the backend is
wrapped in :class:`~batchai_compat.operations._arm.ServiceChecks`, which answers names that pass the
SDK's patterns but that the service refused, with the service's ``CloudError``.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from msrest.paging import Paged
from msrest.pipeline import ClientRawResponse
from msrest.polling import LROPoller, NoPolling

from batchai_compat import models
from batchai_compat._errors import translate_errors
from batchai_compat._polling import BackendPolling, body_of, initial_response, make_response
from batchai_compat.backends.base import Backend, Body, ExperimentRef, Operation, Page, WorkspaceRef
from batchai_compat.operations._arm import ServiceChecks

# Constraints the 2018-05-01 API put on path parameters.
RESOURCE_GROUP = {"pattern": r"^[-\w\._]+$"}
NAME = {"max_length": 64, "min_length": 1, "pattern": r"^[-\w_]+$"}
LOCATION = {"pattern": r"^[-\w\._]+$"}
MAX_RESULTS = {"maximum": 1000, "minimum": 1}
LINK_EXPIRY = {"maximum": 600, "minimum": 5}

PathParam = Tuple[str, Any, Dict[str, Any]]

_SKIPTOKEN = "$skiptoken="


class OperationGroup:
    """Base of the seven operation groups. Do not instantiate directly; use the client."""

    models = models
    models_package = "batchai_compat.models"  # the generation whose models this group takes

    def __init__(self, client: Any, config: Any, serializer: Any, deserializer: Any, backend: Backend) -> None:
        self._client = client
        self._serialize = serializer
        self._deserialize = deserializer
        self.api_version = "2018-05-01"
        self.config = config
        self._backend: Any = ServiceChecks(backend)

    # -- validation ----------------------------------------------------------------------------
    def _validate_path(self, *params: PathParam, subscription_first: bool = False) -> List[str]:
        """Validate path parameters in URL order, as the original serializer calls did; returns
        their values as the URL carried them (``str()`` of the value, unquoted)."""
        values = []
        if subscription_first:
            self._validate_subscription()
        for name, value, constraints in params:
            values.append(self._serialize.url(name, value, "str", skip_quote=True, **constraints))
        if not subscription_first:
            self._validate_subscription()
        return values

    def _subscription(self) -> str:
        """The subscription id as the URL carried it (validated by the caller's ``_validate_path``)."""
        return str(self._serialize.url("self.config.subscription_id", self.config.subscription_id, "str",
                                       skip_quote=True))

    def _workspace_ref(self, resource_group_name: Any, workspace_name: Any) -> WorkspaceRef:
        rg, ws = self._validate_path(
            ("resource_group_name", resource_group_name, RESOURCE_GROUP), ("workspace_name", workspace_name, NAME)
        )
        return WorkspaceRef(self._subscription(), rg, ws)

    def _experiment_ref(self, resource_group_name: Any, workspace_name: Any, experiment_name: Any) -> ExperimentRef:
        rg, ws, exp = self._validate_path(
            ("resource_group_name", resource_group_name, RESOURCE_GROUP),
            ("workspace_name", workspace_name, NAME),
            ("experiment_name", experiment_name, NAME),
        )
        return ExperimentRef(self._subscription(), rg, ws, exp)

    def _validate_subscription(self) -> None:
        self._serialize.url("self.config.subscription_id", self.config.subscription_id, "str")

    def _validate_query(self, name: str, value: Any, data_type: str, **constraints: Any) -> str:
        """Validate a query parameter; returns its value as the URL carried it (unquoted)."""
        return str(self._serialize.query(name, value, data_type, skip_quote=True, **constraints))

    def _serialize_body(self, parameters: Any, model_name: str) -> Body:
        """Validate and serialize a body; dicts (snake_case or camelCase) are accepted like models.

        A model of another client generation (``batchai_compat.v2017_09_01_preview.models``...) raises
        ``TypeError`` naming both generations (:func:`batchai_compat._generations.check_model_generation`)."""
        from batchai_compat._generations import check_model_generation

        check_model_generation(parameters, self.models_package)
        body: Body = self._serialize.body(parameters, model_name)
        return body

    @staticmethod
    def _options(options: Any, model: Type[Any]) -> Any:
        """Accept a dict wherever an options model is expected."""
        if isinstance(options, dict):
            return model.from_dict(options)
        return options

    # -- plain operations ----------------------------------------------------------------------
    def _call(self, fetch: Callable[[], Optional[Body]], model_name: Optional[str], raw: bool) -> Any:
        with translate_errors():
            body = fetch()
        deserialized = self._deserialize(model_name, body) if model_name and body is not None else None
        if raw:
            return ClientRawResponse(deserialized, make_response(200, body))
        return deserialized

    # -- long-running operations ---------------------------------------------------------------
    def _long_running(
        self,
        start: Callable[[], Operation],
        model_name: Optional[str],
        raw: bool,
        polling: Any,
    ) -> LROPoller:
        """Start the operation now (errors surface at call time) and return the genuine poller.

        ``polling=True`` polls the backend, ``polling=False`` returns the deserialized initial
        response (``None`` after a 202, as the service answered for job/cluster/file-server
        creation), any other value is used as the ``PollingMethod``. An ``ARMPolling`` instance
        (legacy code subclassed it to change the poll interval) polls the backend too: there is
        no ``Azure-AsyncOperation`` URL for it to follow.
        """
        with translate_errors():
            operation = start()
        response = initial_response(operation)

        def get_long_running_output(result: Any) -> Any:
            body = body_of(result)
            deserialized = self._deserialize(model_name, body) if model_name and body is not None else None
            if raw:
                return ClientRawResponse(deserialized, result)
            return deserialized

        if polling is True or _is_arm_polling(polling):
            method: Any = BackendPolling()
        elif polling is False:
            method = NoPolling()
        else:
            method = polling
        return LROPoller(self._client, response, get_long_running_output, method)

    # -- paged operations ----------------------------------------------------------------------
    def _list_children(
        self,
        make_parent: Callable[[], Any],
        options: Any,
        options_model: Type[Any],
        paged_class: Type[Paged],
        list_fn: Callable[[Any, int, Optional[str]], Page],
        raw: bool,
    ) -> Paged:
        """A ``list_by_*`` operation whose options carry ``max_results`` (sent as ``maxresults``)."""
        options = self._options(options, options_model)
        max_results = None if options is None else options.max_results
        parent: Dict[str, Any] = {}

        def validate() -> None:
            parent["ref"] = make_parent()
            if max_results is not None:
                self._validate_query("max_results", max_results, "int", **MAX_RESULTS)

        def fetch(token: Optional[str]) -> Page:
            return list_fn(parent["ref"], max_results or 1000, token)

        return self._paged(paged_class, validate, fetch, raw)

    def _paged(
        self,
        paged_class: Type[Paged],
        validate: Callable[[], None],
        fetch: Callable[[Optional[str]], Page],
        raw: bool,
    ) -> Paged:
        """A lazy ``*Paged`` iterator: nothing is validated or fetched before the first ``next()``."""
        base = self.config.base_url.rstrip("/")
        validated: List[bool] = []

        def internal_paging(next_link: Optional[str] = None, raw: bool = False) -> Body:
            # A listing resumed from a next link (the track-2 client's ``by_page(continuation_token=...)``)
            # is validated on its first call too: the link carries the backend's token, not the parent.
            if not validated:
                validate()
                validated.append(True)
            token = _token_from_link(next_link) if next_link else None
            with translate_errors():
                page = fetch(token)
            link = _link_from_token(base, page.next_link) if page.next_link else None
            return {"value": page.value, "nextLink": link}

        if raw:
            return paged_class(internal_paging, self._deserialize.dependencies, {})
        return paged_class(internal_paging, self._deserialize.dependencies)


def _is_arm_polling(polling: Any) -> bool:
    from msrestazure.polling.arm_polling import ARMPolling

    return isinstance(polling, ARMPolling)


def _link_from_token(base: str, token: str) -> str:
    """A ``nextLink`` that looks like the service's, carrying the backend's opaque token."""
    encoded = base64.urlsafe_b64encode(token.encode("utf-8")).decode("ascii")
    return f"{base}/batchai-compat/page?api-version=2018-05-01&{_SKIPTOKEN}{encoded}"


def _token_from_link(link: str) -> str:
    index = link.find(_SKIPTOKEN)
    if index < 0:
        raise ValueError(f"not a batchai_compat next link: {link!r}")
    return base64.urlsafe_b64decode(link[index + len(_SKIPTOKEN) :].encode("ascii")).decode("utf-8")
