"""Credentials legacy Batch AI code builds, without the network call at construction.

``azure.common.credentials.ServicePrincipalCredentials`` (msrestazure) asked Azure AD for a token
inside its constructor, so merely building it failed offline and hung behind a dead proxy. The class
here takes the same arguments and asks only when a token is actually needed: ``signed_session()``
(what msrest clients call), ``get_token()`` (what azure-core / v12 storage clients call) or reading
``.token``. The local backend never asks, so local notebooks run with no network at all.

Anything with ``get_token`` (``azure.identity.DefaultAzureCredential`` and friends) is accepted
wherever credentials are taken; :func:`as_msrest_credentials` and :func:`as_token_credential`
convert between the two protocols.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, NamedTuple, Optional

import requests
from msrest.authentication import Authentication

__all__ = [
    "AccessToken",
    "ServicePrincipalCredentials",
    "TokenCredentialAuthentication",
    "as_msrest_credentials",
    "as_token_credential",
]

DEFAULT_SCOPE = "https://management.azure.com/.default"
_REFRESH_MARGIN = 300  # seconds before expiry at which a cached token is renewed


try:  # azure-core's own type when available, so isinstance checks elsewhere keep working
    from azure.core.credentials import AccessToken  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - azure-core is absent only in minimal installs

    class AccessToken(NamedTuple):  # type: ignore[no-redef]
        token: str
        expires_on: int


def _resource_of(scope: str) -> str:
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


class ServicePrincipalCredentials(Authentication):
    """Client-credentials (app id + secret) authentication against Azure AD, acquired lazily.

    Same constructor as msrestazure's: ``ServicePrincipalCredentials(client_id, secret, tenant=...,
    resource=..., cloud_environment=..., china=..., verify=..., proxies=..., timeout=...)``, plus
    ``token_uri=`` (a full token endpoint, e.g. a sovereign cloud's or a test server's).
    ``cache`` and ``auth_uri`` are accepted for compatibility and unused. Never prints its secret.
    """

    def __init__(self, client_id: str, secret: str, **kwargs: Any) -> None:
        super().__init__()
        self.id = client_id
        self.secret = secret
        self.tenant = kwargs.get("tenant", "common")
        cloud = kwargs.get("cloud_environment")
        if cloud is None:
            from msrestazure import azure_cloud

            cloud = azure_cloud.AZURE_CHINA_CLOUD if kwargs.get("china") else azure_cloud.AZURE_PUBLIC_CLOUD
        self.cloud_environment = cloud
        self.resource = kwargs.get("resource") or cloud.endpoints.active_directory_resource_id
        authority = kwargs.get("auth_uri") or cloud.endpoints.active_directory
        self.token_uri = kwargs.get("token_uri") or f"{authority.rstrip('/')}/{self.tenant}/oauth2/token"
        self.verify = kwargs.get("verify", True)
        self.proxies = kwargs.get("proxies")
        self.timeout = kwargs.get("timeout") or 30
        self._tokens: Dict[str, Dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def client_id(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"ServicePrincipalCredentials(client_id={self.id!r}, tenant={self.tenant!r}, resource={self.resource!r})"

    # -- the two protocols -------------------------------------------------------------------------
    @property
    def token(self) -> Dict[str, Any]:
        """The token dict for ``resource`` (``access_token``, ``token_type``, ``expires_on``...), as
        msrestazure exposed it; fetched on first read."""
        return self._token_for(self.resource)

    def set_token(self) -> None:
        """Force a new token for ``resource`` (msrestazure name)."""
        with self._lock:
            self._tokens.pop(self.resource, None)
        self._token_for(self.resource)

    def signed_session(self, session: Optional[requests.Session] = None) -> requests.Session:
        session = super().signed_session(session)
        token = self._token_for(self.resource)
        session.headers["Authorization"] = f"{token.get('token_type', 'Bearer')} {token['access_token']}"
        return session

    def get_token(self, *scopes: str, **kwargs: Any) -> "AccessToken":
        token = self._token_for(_resource_of(scopes[0]) if scopes else self.resource)
        return AccessToken(token["access_token"], int(token["expires_on"]))

    # -- acquisition -------------------------------------------------------------------------------
    def _token_for(self, resource: str) -> Dict[str, Any]:
        with self._lock:
            cached = self._tokens.get(resource)
            if cached and cached["expires_on"] - _REFRESH_MARGIN > time.time():
                return cached
            token = self._request(resource)
            self._tokens[resource] = token
            return token

    def _request(self, resource: str) -> Dict[str, Any]:
        form = {"grant_type": "client_credentials", "client_id": self.id, "client_secret": self.secret,
                "resource": resource}
        try:
            response = requests.post(self.token_uri, data=form, timeout=self.timeout, verify=self.verify,
                                     proxies=self.proxies)
        except requests.RequestException as exc:
            raise _auth_error(f"could not reach {self.token_uri}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or "access_token" not in body:
            detail = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
            raise _auth_error(f"Azure AD refused the service principal {self.id!r}: {detail}")
        now = time.time()
        expires_on = body.get("expires_on")
        body["expires_on"] = int(expires_on) if expires_on else int(now + int(body.get("expires_in", 3600)))
        body.setdefault("token_type", "Bearer")
        return body


def _auth_error(message: str) -> Exception:
    """msrest's ``AuthenticationError``, which is what callers of the original caught."""
    from msrest.exceptions import AuthenticationError

    return AuthenticationError(message)


class TokenCredentialAuthentication(Authentication):
    """An azure-identity style credential (``get_token``) made usable by msrest clients."""

    def __init__(self, credential: Any, scope: str = DEFAULT_SCOPE) -> None:
        super().__init__()
        self.credential = credential
        self.scope = scope

    def signed_session(self, session: Optional[requests.Session] = None) -> requests.Session:
        session = super().signed_session(session)
        session.headers["Authorization"] = f"Bearer {self.credential.get_token(self.scope).token}"
        return session

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self.credential.get_token(*(scopes or (self.scope,)), **kwargs)

    def __repr__(self) -> str:
        return f"TokenCredentialAuthentication({type(self.credential).__name__}, scope={self.scope!r})"


class _SessionTokenCredential:
    """An msrest-style credential (``signed_session``) made usable by azure-core clients."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        header = self.credentials.signed_session().headers.get("Authorization", "")
        token = header.split(" ", 1)[1] if " " in header else header
        expires = getattr(self.credentials, "token", {}) or {}
        return AccessToken(token, int(expires.get("expires_on") or time.time() + 300))


def as_msrest_credentials(credentials: Any, scope: str = DEFAULT_SCOPE) -> Any:
    """Credentials for an msrest ``ServiceClient``: msrest-style ones as they are, ``get_token`` ones
    wrapped. ``None`` stays ``None``."""
    if credentials is None or hasattr(credentials, "signed_session"):
        return credentials
    if hasattr(credentials, "get_token"):
        return TokenCredentialAuthentication(credentials, scope)
    raise TypeError(f"unsupported credentials {type(credentials).__name__}: expected an msrest Authentication "
                    "(signed_session) or an azure-identity credential (get_token)")


def as_token_credential(credentials: Any) -> Any:
    """Credentials for an azure-core client (``get_token``), from either protocol."""
    if credentials is None or hasattr(credentials, "get_token"):
        return credentials
    if hasattr(credentials, "signed_session"):
        return _SessionTokenCredential(credentials)
    raise TypeError(f"unsupported credentials {type(credentials).__name__}: expected get_token or signed_session")
