"""``ServicePrincipalCredentials``: no network until a token is needed; azure-identity credentials accepted."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List
from urllib.parse import parse_qs

import pytest
import requests
from msrest.exceptions import AuthenticationError

from batchai_compat.credentials import (
    AccessToken,
    ServicePrincipalCredentials,
    TokenCredentialAuthentication,
    as_msrest_credentials,
    as_token_credential,
)

SECRET = "very-secret-client-secret"


class _TokenEndpoint:
    """A loopback Azure AD v1 token endpoint recording the forms it receives."""

    def __init__(self) -> None:
        self.forms: List[dict] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                outer.forms.append({"path": self.path, **form})
                if outer.status == 200:
                    answer = {"token_type": "Bearer", "expires_in": "3599",
                              "expires_on": str(int(time.time()) + 3599), "resource": form["resource"],
                              "access_token": f"token-{len(outer.forms)}-for-{form['resource']}"}
                else:
                    answer = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}
                data = json.dumps(answer).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/tenant-x/oauth2/token"


@pytest.fixture
def token_endpoint() -> Iterator[_TokenEndpoint]:
    endpoint = _TokenEndpoint()
    yield endpoint
    endpoint.httpd.shutdown()
    endpoint.httpd.server_close()


def test_construction_opens_no_socket(no_network) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    creds = ServicePrincipalCredentials(client_id="app-id", secret=SECRET, tenant="my-tenant")
    assert time.monotonic() - started < 1
    assert no_network.attempts == []
    assert creds.id == creds.client_id == "app-id"
    assert creds.token_uri == "https://login.microsoftonline.com/my-tenant/oauth2/token"
    assert creds.resource == "https://management.core.windows.net/"
    # Asking for a token is what touches the network (refused here, reported as msrest did).
    with pytest.raises(AuthenticationError):
        creds.signed_session()
    assert no_network.attempts


def test_china_and_cloud_environment(no_network) -> None:  # type: ignore[no-untyped-def]
    from msrestazure.azure_cloud import AZURE_US_GOV_CLOUD

    assert "chinacloudapi.cn" in ServicePrincipalCredentials("a", SECRET, tenant="t", china=True).token_uri
    gov = ServicePrincipalCredentials("a", SECRET, tenant="t", cloud_environment=AZURE_US_GOV_CLOUD)
    assert gov.token_uri.startswith(AZURE_US_GOV_CLOUD.endpoints.active_directory)
    assert no_network.attempts == []


def test_secret_not_in_repr() -> None:
    creds = ServicePrincipalCredentials("app-id", SECRET, tenant="t")
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    assert "app-id" in repr(creds)


def test_signed_session_and_get_token(token_endpoint: _TokenEndpoint) -> None:
    creds = ServicePrincipalCredentials("app-id", SECRET, tenant="tenant-x", token_uri=token_endpoint.url,
                                        resource="https://management.core.windows.net/")
    assert token_endpoint.forms == []
    session = creds.signed_session()
    assert isinstance(session, requests.Session)
    assert session.headers["Authorization"] == "Bearer token-1-for-https://management.core.windows.net/"
    assert token_endpoint.forms == [{"path": "/tenant-x/oauth2/token", "grant_type": "client_credentials",
                                     "client_id": "app-id", "client_secret": SECRET,
                                     "resource": "https://management.core.windows.net/"}]
    creds.signed_session()  # cached
    assert len(token_endpoint.forms) == 1
    assert creds.token["access_token"] == "token-1-for-https://management.core.windows.net/"

    token = creds.get_token("https://storage.azure.com/.default")
    assert isinstance(token, AccessToken)
    assert token.token == "token-2-for-https://storage.azure.com"
    assert token.expires_on > time.time()
    assert token_endpoint.forms[-1]["resource"] == "https://storage.azure.com"


def test_refused_secret_is_an_authentication_error(token_endpoint: _TokenEndpoint) -> None:
    token_endpoint.status = 401
    creds = ServicePrincipalCredentials("app-id", "wrong", token_uri=token_endpoint.url)
    with pytest.raises(AuthenticationError, match="Invalid client secret") as err:
        creds.get_token("https://management.azure.com/.default")
    assert "wrong" not in str(err.value)


class _IdentityLike:
    """Stands in for azure.identity.DefaultAzureCredential: only ``get_token``."""

    def __init__(self) -> None:
        self.scopes: List[tuple] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("identity-token", int(time.time()) + 600)


def test_identity_credentials_work_with_msrest_clients() -> None:
    identity = _IdentityLike()
    adapted = as_msrest_credentials(identity)
    assert isinstance(adapted, TokenCredentialAuthentication)
    assert adapted.signed_session().headers["Authorization"] == "Bearer identity-token"
    assert identity.scopes == [("https://management.azure.com/.default",)]
    assert as_token_credential(identity) is identity
    assert as_msrest_credentials(None) is None
    with pytest.raises(TypeError):
        as_msrest_credentials(object())


def test_msrest_credentials_work_with_azure_core_clients(token_endpoint: _TokenEndpoint) -> None:
    creds = ServicePrincipalCredentials("app-id", SECRET, token_uri=token_endpoint.url)
    assert as_msrest_credentials(creds) is creds
    assert as_token_credential(creds) is creds  # it speaks both protocols

    from msrest.authentication import BasicTokenAuthentication

    legacy = BasicTokenAuthentication({"access_token": "legacy-token"})
    token = as_token_credential(legacy).get_token("https://storage.azure.com/.default")
    assert token.token == "legacy-token"


def test_blob_service_accepts_token_credentials(home, no_network) -> None:  # type: ignore[no-untyped-def]
    from batchai_compat.storage import BlockBlobService

    service = BlockBlobService("acct", token_credential=_IdentityLike(), custom_domain="https://acct.example.com")
    assert service.mode == "remote"
    assert no_network.attempts == []
