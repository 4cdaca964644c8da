"""ARM's envelopes: error bodies, the request-id headers and the api-version answers.

Every error the gateway sends is ``{"error": {"code", "message", "details"}}`` (``details`` only when
there are any), the envelope Azure Resource Manager used and that msrestazure's ``CloudError``,
azure-core's ``HttpResponseError`` and ms-rest-azure-js parse. Texts of ARM's own answers (API
version, authentication, request content) are those Azure Resource Manager sent; their public
sources are cited in ``docs/gateway.md``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

Headers = List[Tuple[str, str]]

#: The REST API versions served, oldest first.
API_VERSIONS = ("2017-09-01-preview", "2018-03-01", "2018-05-01")


class ArmError(Exception):
    """An answer the gateway itself gives (not the backend): status, ARM code, message."""

    def __init__(self, status: int, code: str, message: str, details: Optional[List[Dict[str, Any]]] = None,
                 headers: Optional[Headers] = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or []

    def body(self) -> Dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    error: Dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def missing_api_version() -> ArmError:
    return ArmError(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.")


def _listed(versions: Iterable[str]) -> str:
    return ", ".join(sorted(versions, reverse=True))


def invalid_api_version(version: str, supported: Iterable[str] = API_VERSIONS) -> ArmError:
    """ARM's answer for an api-version it does not serve at all (provider-level routes)."""
    return ArmError(400, "InvalidApiVersionParameter",
                    f"The api-version '{version}' is invalid. The supported versions are '{_listed(supported)}'.")


def no_registered_provider(version: str, resource_type: str, supported: Iterable[str], location: str) -> ArmError:
    """ARM's answer for a resource type that has no such api-version."""
    return ArmError(400, "NoRegisteredProviderFound",
                    f"No registered resource provider found for location '{location}' and API version '{version}' "
                    f"for type '{resource_type}'. The supported api-versions are '{_listed(supported)}'. "
                    f"The supported locations are '{location}'.")


def invalid_resource_type(resource_type: str, version: str) -> ArmError:
    return ArmError(404, "InvalidResourceType",
                    f"The resource type '{resource_type}' could not be found in the namespace 'Microsoft.BatchAI' "
                    f"for api version '{version}'.")


def invalid_content(detail: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: '{detail}'.")


def too_large(limit: int) -> ArmError:
    return ArmError(413, "RequestEntityTooLarge",
                    f"The request content size exceeds the maximum size of {limit} bytes.")
