"""The gateway's WSGI application: plain WSGI, no framework, usable in-process.

One request: request ids, authentication (``Authorization: Bearer``, compared in constant time),
the ``api-version`` check, routing (:mod:`._routes`), the body (size limit, JSON), the call into
the generation's in-process client, and the answer (plain, paged with ``nextLink``, or a
long-running operation with ``Azure-AsyncOperation``/``Location``/``Retry-After``). Errors are ARM
envelopes. See ``docs/gateway.md`` for the behaviour and its sources.
"""

from __future__ import annotations

import base64
import hmac
import json
import sys
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qsl, quote, unquote, urlencode

from msrest.exceptions import ClientException, ValidationError
from msrest.polling import PollingMethod
from msrestazure.azure_exceptions import CloudError

from batchai_compat.backends.base import Backend, OperationState, WorkspaceRef
from batchai_compat.backends.errors import BackendError
from batchai_compat.gateway import _arm, _lro, _routes
from batchai_compat.gateway._accesslog import AccessLog, safe_target
from batchai_compat.gateway._arm import ArmError, Headers
from batchai_compat.operations._arm import check_ref

_GENERATION_MODULES = {
    "2018-05-01": "batchai_compat",
    "2018-03-01": "batchai_compat.v2018_03_01",
    "2017-09-01-preview": "batchai_compat.v2017_09_01_preview",
}
_SKIPTOKEN = "$skiptoken="
_WWW_AUTHENTICATE = ('Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", '
                     'error_description="{}"')
_PATH_TARGETS = {"resource_group_name", "workspace_name", "experiment_name", "job_name", "cluster_name",
                 "file_server_name", "location", "self.config.subscription_id"}
_QUERY_TARGETS = {"max_results", "outputdirectoryid", "directory", "linkexpiryinminutes", "self.api_version"}


class _Credentials:
    """What the in-process clients get as credentials: the backends ignore it (the gateway authenticated)."""

    def signed_session(self, session: Any = None) -> Any:  # msrest's Authentication protocol
        return session


def _ignore_attach(credentials: Any, subscription_id: str) -> None:
    return None


class _Capture(PollingMethod):
    """A polling method that only keeps the first response (it carries the backend's ``Operation``)."""

    def __init__(self) -> None:
        self.response: Any = None

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Any) -> None:
        self.response = initial_response

    def run(self) -> None:
        return None

    def status(self) -> str:
        return "Succeeded"

    def finished(self) -> bool:
        return True

    def resource(self) -> Any:
        return None


class Response:
    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body: Optional[bytes] = None, headers: Optional[Headers] = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or []


_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
            411: "Length Required", 413: "Request Entity Too Large", 500: "Internal Server Error",
            501: "Not Implemented", 503: "Service Unavailable"}


class Gateway:
    """The WSGI callable. ``base_url`` is the gateway's own URL (``nextLink`` and operation URLs)."""

    def __init__(self, backend: Backend, token: str, base_url: str, *, access_log: Optional[AccessLog] = None,
                 max_body_bytes: int = 4 * 1024 * 1024, retry_after: int = 1, max_clients: int = 256) -> None:
        self.backend = backend
        # The backend's identity is the gateway's, attached once: ``None`` means the backend's own
        # configured authentication (the azureml backend: its ``auth`` option, else the Azure CLI login).
        # The in-process clients built per subscription carry placeholder credentials that must not
        # replace it, so their ``attach_client`` calls are made no-ops on this instance.
        backend.attach_client(None, "")
        backend.attach_client = _ignore_attach  # type: ignore[method-assign]
        self._token = token.encode("utf-8")
        self.base_url = base_url.rstrip("/")
        self.access_log = access_log or AccessLog(None)
        self.max_body_bytes = max_body_bytes
        self.retry_after = retry_after
        self.routes = _routes.build_routes()
        self._modules = _import_generations()
        self.operations = _lro.Registry()
        self._clients: "OrderedDict[Tuple[str, str], Any]" = OrderedDict()
        self._clients_lock = threading.Lock()
        self._max_clients = max_clients
        self.in_flight = 0
        self._in_flight_lock = threading.Lock()

    # ------------------------------------------------------------------------------------ WSGI
    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        client_request_id = environ.get("HTTP_X_MS_CLIENT_REQUEST_ID")
        correlation = environ.get("HTTP_X_MS_CORRELATION_REQUEST_ID") or request_id
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path, query = _target(environ)
        with self._in_flight_lock:
            self.in_flight += 1
        try:
            response = self._handle(environ, method, raw_path, query)
        except ArmError as exc:
            response = Response(exc.status, _arm.dumps(exc.body()), list(exc.headers))
        except Exception:  # noqa: BLE001 - an answer for every request; the traceback (no message) on stderr
            etype, _, tb = sys.exc_info()
            name = getattr(etype, "__name__", "?")
            sys.stderr.write(f"batchai-gateway: internal error {name}\n{''.join(traceback.format_tb(tb))}")
            response = Response(500, _arm.dumps(_arm.error_body(
                "InternalServerError",
                "The server encountered an internal error; the gateway's stderr has the trace.")))
        finally:
            with self._in_flight_lock:
                self.in_flight -= 1
        headers: Headers = [("x-ms-request-id", request_id), ("x-ms-correlation-request-id", correlation),
                            ("Cache-Control", "no-cache"), ("Pragma", "no-cache"), ("Expires", "-1")]
        if client_request_id:
            headers.append(("x-ms-client-request-id", _header_safe(client_request_id)))
        headers.extend(response.headers)
        body = response.body or b""
        if response.body is not None:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", headers)
        self.access_log.write(method, safe_target(raw_path, query), response.status, time.monotonic() - started,
                              request_id, client_request_id)
        return [body] if method != "HEAD" else [b""]

    # ---------------------------------------------------------------------------------- request
    def _handle(self, environ: Dict[str, Any], method: str, raw_path: str, query: str) -> Response:
        self._authenticate(environ.get("HTTP_AUTHORIZATION"))
        q = _query(query)
        version = q.get("api-version")
        segments = tuple(unquote(s, errors="replace") for s in raw_path.strip("/").split("/"))
        candidates = [(r, p) for r, p in ((r, _routes.match(segments, r.segments)) for r in self.routes)
                      if p is not None]
        if version is None:
            raise _arm.missing_api_version()
        if not candidates:
            raise self._no_route(segments, version)
        for_version = [(r, p) for r, p in candidates if version in r.versions]
        if not for_version:
            supported = sorted({v for r, _ in candidates for v in r.versions})
            if version not in _arm.API_VERSIONS and candidates[0][0].operation_id == "Operations_List":
                raise _arm.invalid_api_version(version)
            params = candidates[0][1]
            raise _arm.no_registered_provider(version, candidates[0][0].resource_type, supported,
                                              params.get("loc", "global"))
        chosen = [(r, p) for r, p in for_version if r.method == method
                  or (method == "GET" and r.method == "POST" and r.call.kind == "page" and "$skiptoken" in q)]
        if not chosen:
            raise ArmError(405, "HttpMethodNotAllowed",
                           f"The requested resource does not support http method '{method}'.",
                           headers=[("Allow", ", ".join(sorted({r.method for r, _ in for_version})))])
        route, params = chosen[0]
        body = self._read_body(environ)
        return self.dispatch(route, params, q, body, version, raw_path, query)

    def _authenticate(self, header: Optional[str]) -> None:
        if not header:
            raise _unauthorized("Authentication failed. The 'Authorization' header is missing.",
                                "The authentication failed because of missing 'Authorization' header.")
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise _unauthorized("Authentication failed. The 'Authorization' header is provided in an invalid format.",
                                "The authentication failed because of an invalid 'Authorization' header.")
        if not hmac.compare_digest(credential.strip().encode("utf-8", "surrogateescape"), self._token):
            raise _unauthorized("Authentication failed. The access token is invalid.",
                                "The access token is invalid.")

    def _no_route(self, segments: Tuple[str, ...], version: str) -> ArmError:
        lowered = [s.lower() for s in segments]
        if "microsoft.batchai" in lowered:
            if version not in _arm.API_VERSIONS:
                return _arm.invalid_api_version(version)
            return _arm.invalid_resource_type(_routes._resource_type(segments), version)
        return ArmError(404, "NotFound", "The requested path does not exist on this Batch AI gateway.")

    def _read_body(self, environ: Dict[str, Any]) -> Any:
        length_header = environ.get("CONTENT_LENGTH") or ""
        stream = environ.get("wsgi.input")
        if length_header:
            try:
                length = int(length_header)
            except ValueError:
                raise ArmError(400, "InvalidRequestContent", "The Content-Length header is invalid.") from None
            if length > self.max_body_bytes:
                raise _arm.too_large(self.max_body_bytes)
            data = stream.read(length) if (stream is not None and length > 0) else b""
        elif "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower() and stream is not None:
            data = stream.read(self.max_body_bytes + 1)
            if len(data) > self.max_body_bytes:
                raise _arm.too_large(self.max_body_bytes)
        else:
            data = b""
        if not data.strip():
            return None
        try:
            return json.loads(data.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise _arm.invalid_content(str(exc)) from None

    # --------------------------------------------------------------------------------- dispatch
    def client(self, version: str, subscription_id: str) -> Any:
        """The in-process client of ``version``'s generation for a subscription (cached, LRU)."""
        key = (version, subscription_id)
        with self._clients_lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        module = self._modules[version]
        client = module.BatchAIManagementClient(_Credentials(), subscription_id, self.base_url, backend=self.backend)
        with self._clients_lock:
            self._clients[key] = client
            while len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
        return client

    def dispatch(self, route: _routes.Route, params: Dict[str, str], q: Dict[str, str], body: Any, version: str,
                 raw_path: str, query: str) -> Response:
        if route.call.kind == "status":
            return self._operation_status(route.call.verb, params, version, raw_path)
        client = self.client(version, params.get("sub", "00000000-0000-0000-0000-000000000000"))
        with _service_errors(params):
            if route.call.kind == "plain":
                raw = route.call.run(client, params, q, body)
                return Response(200, raw.response.content or None)
            if route.call.kind == "page":
                return self._page(route.call.run(client, params, q, body), q, raw_path, query)
            return self._long_running(route, client, params, q, body, version, raw_path)

    def _page(self, paged: Any, q: Dict[str, str], raw_path: str, query: str) -> Response:
        token = q.get("$skiptoken")
        if token is not None:
            padded = token.strip() + "=" * (-len(token.strip()) % 4)
            try:
                base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
            except (ValueError, UnicodeError):
                raise ArmError(400, "InvalidQueryParameterValue",
                               "The value of the query parameter '$skiptoken' is invalid.") from None
            paged.next_link = _SKIPTOKEN + padded
        # The token is URL-safe base64 without its "=" padding: ms-rest-js drops a query parameter whose
        # value holds "=" when it parses a next link (an endless first page for @azure/arm-batchai).
        try:
            paged.advance_page()
        except ValueError:
            if token is None:
                raise
            raise ArmError(400, "InvalidContinuationToken", "The continuation token is not valid") from None
        page = dict(paged._response)  # msrest's Paged keeps the raw page body it deserialized
        link = page.get("nextLink")
        if link:
            index = link.find(_SKIPTOKEN)
            kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() != "$skiptoken"]
            page["nextLink"] = (f"{self.base_url}{raw_path}?{urlencode(kept, quote_via=quote)}&"
                                f"{_SKIPTOKEN}{link[index + len(_SKIPTOKEN):].rstrip('=')}")
        else:
            page.pop("nextLink", None)  # the service left the key out on the last page
        return Response(200, _arm.dumps(page))

    def _long_running(self, route: _routes.Route, client: Any, params: Dict[str, str], q: Dict[str, str],
                      body: Any, version: str, raw_path: str) -> Response:
        location = self._location(params)
        verb = route.call.verb
        finished = verb == "terminate" and self._job_finished(params, version, raw_path)
        capture = _Capture()
        route.call.run(client, params, q, body, capture)
        initial = capture.response
        operation = initial.batchai_operation
        if initial.status_code == 200 and initial.content:
            return Response(200, initial.content)
        if finished:
            # The service answered the termination of a job that had already finished with a plain 200
            # (and 202 plus an operation for a queued or running one): recorded, docs/gateway.md.
            return Response(200, None)
        operation_id = _lro.encode_id(verb, version, raw_path)
        self.operations.add(operation_id, operation, _lro.resource_id(params))
        base = f"{self.base_url}/subscriptions/{quote(params['sub'], safe='')}/providers/Microsoft.BatchAI/locations/" \
               f"{quote(location, safe='')}"
        suffix = f"{quote(operation_id, safe='')}?api-version={version}"
        return Response(202, None, [
            ("Azure-AsyncOperation", f"{base}/operationresults/{suffix}"),
            ("Location", f"{base}/operationstatuses/{suffix}"),
            ("Retry-After", str(self.retry_after)),
        ])

    def _job_finished(self, params: Dict[str, str], version: str, raw_path: str) -> bool:
        """Whether the job a terminate names had finished before the request (its GET, as a client would)."""
        job_path = raw_path.rsplit("/", 1)[0]
        segments = tuple(unquote(s) for s in job_path.strip("/").split("/"))
        for route in self.routes:
            found = _routes.match(segments, route.segments)
            if found is None or route.method != "GET" or version not in route.versions:
                continue
            try:
                job = json.loads(self.dispatch(route, found, {}, None, version, job_path, "").body or b"{}")
            except ArmError:
                return False  # the terminate reports the error
            return str((job.get("properties") or {}).get("executionState", "")).lower() in ("succeeded", "failed")
        return False

    def _location(self, params: Dict[str, str]) -> str:
        """The region in the operation URLs: the workspace's (the default one for old generations)."""
        if "rg" not in params:
            return "global"
        try:
            ref = WorkspaceRef(params["sub"], params["rg"], params.get("ws", "default"))
            check_ref(ref)  # the service checks first: the backend never sees a name the call would refuse
            return str(self.backend.get_workspace(ref).get("location") or "global")
        except Exception:  # noqa: BLE001 - a missing workspace is the operation's error to report, not ours
            return "global"

    def _operation_status(self, leaf: str, params: Dict[str, str], version: str, raw_path: str) -> Response:
        operation_id = params["opid"]
        entry = self.operations.get(operation_id)
        if entry is not None:
            state = entry.poll(_translated_poll)
            start, end, resource = entry.start, entry.end, entry.resource_id
        else:
            decoded = _lro.decode_id(operation_id)
            if decoded is None:
                raise ArmError(404, "OperationNotFound", f"The operation '{operation_id}' could not be found.")
            state, resource = self._derive(*decoded)
            start, end = None, None
        status = state.status
        body = _lro.status_body(self.base_url + raw_path, operation_id, status, start, end, state.error, resource)
        headers: Headers = []
        code = 200
        if not state.done:
            headers.append(("Retry-After", str(self.retry_after)))
            if leaf == "operationstatuses":
                code = 202
        return Response(code, _arm.dumps(body), headers)

    def _derive(self, verb: str, version: str, path: str) -> Tuple[OperationState, str]:
        """The state of an operation the registry does not know (a restarted gateway), from its resource."""
        segments = tuple(unquote(s) for s in path.strip("/").split("/"))
        if verb == "terminate":
            segments = segments[:-1]
        for route in self.routes:
            params = _routes.match(segments, route.segments)
            if params is None or route.method != "GET" or version not in route.versions or route.call.kind != "plain":
                continue
            return self._derive_from(route, params, verb, version, path), _lro.resource_id(params)
        raise ArmError(404, "OperationNotFound", "The operation could not be found.")

    def _derive_from(self, route: _routes.Route, params: Dict[str, str], verb: str, version: str,
                     path: str) -> OperationState:
        try:
            response = self.dispatch(route, params, {}, None, version, path, "")
        except ArmError as exc:
            if exc.status == 404 and verb == "delete":
                return OperationState("Succeeded")
            return OperationState("Failed", error={"code": exc.code, "message": exc.message})
        resource = json.loads(response.body or b"{}")
        props = resource.get("properties") or {}
        if verb == "delete":
            return OperationState("InProgress")
        if verb == "terminate":
            done = str(props.get("executionState", "")).lower() in ("succeeded", "failed")
            return OperationState("Succeeded" if done else "InProgress")
        state = str(props.get("provisioningState", "succeeded")).lower()
        if state == "failed":
            return OperationState("Failed", error={"code": "Failed", "message": "The operation failed."})
        return OperationState("Succeeded" if state == "succeeded" else "InProgress")


# ------------------------------------------------------------------------------------- helpers
def _import_generations() -> Dict[str, Any]:
    """The three client packages, imported once at start-up (never concurrently from request threads).

    ``batchai_compat.operations`` comes first: imported on its own, ``batchai_compat.v2018_03_01`` meets
    ``_generations`` half-initialised (a circular import reported to the lead)."""
    import importlib

    importlib.import_module("batchai_compat.operations")
    return {version: importlib.import_module(name) for version, name in _GENERATION_MODULES.items()}


def _target(environ: Dict[str, Any]) -> Tuple[str, str]:
    """The raw (still percent-encoded) path and query: names are split on ``/`` before decoding, so
    ``a%2Fb`` stays one (invalid) name instead of two path segments."""
    uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if uri:
        path, _, query = str(uri).partition("?")
        if "://" in path:  # absolute-form request target
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path or "/", query
    return quote(environ.get("PATH_INFO", "/")), environ.get("QUERY_STRING", "")


def _query(query: str) -> Dict[str, str]:
    """Query parameters by lower-cased name (ARM matched them case-insensitively); the first one wins."""
    out: Dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        out.setdefault(key.lower(), value)
    return out


def _header_safe(value: str) -> str:
    return "".join(c for c in value[:256] if c.isprintable())


def _unauthorized(message: str, description: str) -> ArmError:
    return ArmError(401, "AuthenticationFailed", message,
                    headers=[("WWW-Authenticate", _WWW_AUTHENTICATE.format(description))])


def _translated_poll(poll: Callable[[], OperationState]) -> OperationState:
    """A backend poll, its errors as a failed operation (the status resource reports them)."""
    try:
        return poll()
    except BackendError as exc:
        return OperationState("Failed", error={"code": exc.code, "message": exc.message})


class _service_errors:
    """The errors of a call, as the ARM envelope the service answered with."""

    def __init__(self, params: Dict[str, str]) -> None:
        self.params = params

    def __enter__(self) -> None:
        return None

    def __exit__(self, etype: Any, exc: Any, tb: Any) -> None:
        if exc is None or isinstance(exc, ArmError):
            return None
        if isinstance(exc, CloudError):
            cause = exc.__cause__
            if isinstance(cause, BackendError):
                raise ArmError(cause.status, cause.code, cause.message, cause.details) from None
            error = getattr(exc, "error", None)
            code = getattr(error, "error", None) or "Failed"
            raise ArmError(exc.status_code or 500, code, exc.message or str(exc)) from None
        if isinstance(exc, BackendError):
            raise ArmError(exc.status, exc.code, exc.message, exc.details) from None
        if isinstance(exc, ValidationError):
            target = getattr(exc, "target", "") or ""
            if target in _PATH_TARGETS:
                code = "InvalidSubscriptionId" if "subscription" in target else "InvalidResourceName"
                raise ArmError(400, code, str(exc)) from None
            if target in _QUERY_TARGETS:
                raise ArmError(400, "InvalidQueryParameterValue", str(exc)) from None
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: {exc}") from None
        if isinstance(exc, (ClientException, TypeError, ValueError, AttributeError)) and _is_body_error(exc):
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: {_short(exc)}") from None
        return None


def _short(exc: BaseException) -> str:
    """msrest's message without Python class paths (``<class 'batchai_compat...Job'>`` becomes ``Job``)."""
    import re

    text = str(exc).split("\n")[0]
    return re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", text)[:1000]


def _is_body_error(exc: BaseException) -> bool:
    """msrest's (de)serialization errors: a body whose values have the wrong types."""
    from msrest.exceptions import DeserializationError, SerializationError

    return isinstance(exc, (DeserializationError, SerializationError))


def _listify(values: Iterable[str]) -> List[str]:
    return list(values)
