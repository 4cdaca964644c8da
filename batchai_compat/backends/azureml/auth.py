"""Client credentials → azureml-core authentication.

Resolved on first use (never when the client is constructed), in this order:

1. the ``auth=`` backend option: an ``azureml.core.authentication.AbstractAuthentication`` used as is
   (tests pass the emulator's fake authentication this way);
2. a service principal (``batchai_compat.credentials.ServicePrincipalCredentials`` or msrestazure's /
   ``azure.common.credentials.ServicePrincipalCredentials``: attributes ``id`` (or ``client_id``),
   ``secret``, and the tenant as ``tenant`` / ``tenant_id`` or, in msrestazure's class (which takes it as
   the ``tenant=`` keyword), ``_tenant``) → ``ServicePrincipalAuthentication``;
3. an azure-identity style credential (any other object with ``get_token(*scopes)``) → a
   ``TokenAuthentication`` adapter asking it for ARM / Azure ML tokens;
4. no credentials (``None``) → ``AzureCliAuthentication`` when the Azure CLI is logged in, else
   ``InteractiveLoginAuthentication`` (a browser / device-code login), which is what
   ``Workspace.from_config()`` does.

Credentials that were given but cannot be used (a service principal without a tenant or with msrestazure's
default ``common``, which a client-credentials login refuses; ``UserPassCredentials``; an unknown object)
raise :class:`CredentialsNotUsable` naming what was given and what is accepted: never a fallback to another
identity, and never an interactive login that would wait forever on a headless machine.

Secrets are only handed to azureml; nothing here logs them.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from batchai_compat.backends import errors

logger = logging.getLogger("batchai_compat.azureml")

DEFAULT_CLOUD = "AzureCloud"
ACCEPTED = ("accepted: a service principal (batchai_compat.credentials.ServicePrincipalCredentials, or msrestazure's / "
            "azure.common.credentials.ServicePrincipalCredentials(client_id, secret, tenant=<tenant id>)), an "
            "azure-identity credential (anything with get_token()), None for the Azure CLI login, or the auth= "
            "option with an azureml AbstractAuthentication")


class CredentialsNotUsable(errors.BackendError):
    """The client's credentials cannot authenticate to Azure ML (nothing else is tried)."""

    status = 401


def describe(credentials: Any, explicit_auth: Any = None) -> str:
    """What kind of authentication will be used (for log messages; never includes secrets)."""
    if explicit_auth is not None:
        return f"the auth= option ({type(explicit_auth).__name__})"
    if _service_principal_fields(credentials) is not None:
        return "a service principal"
    if _has_get_token(credentials):
        return f"a token credential ({type(credentials).__name__})"
    if credentials is None:
        return "the Azure CLI login or an interactive login"
    return f"unusable credentials ({type(credentials).__name__})"


def _has_get_token(credentials: Any) -> bool:
    return callable(getattr(credentials, "get_token", None))


def _tenant_of(credentials: Any) -> Any:
    for name in ("tenant", "tenant_id", "_tenant"):  # _tenant: msrestazure's AADMixin._configure keeps it there
        value = getattr(credentials, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _looks_like_service_principal(credentials: Any) -> bool:
    client_id = getattr(credentials, "client_id", None) or getattr(credentials, "id", None)
    return isinstance(client_id, str) and bool(client_id) and isinstance(getattr(credentials, "secret", None), str)


def _service_principal_fields(credentials: Any) -> Optional[tuple]:
    client_id = getattr(credentials, "client_id", None) or getattr(credentials, "id", None)
    secret = getattr(credentials, "secret", None)
    tenant = _tenant_of(credentials)
    if isinstance(client_id, str) and isinstance(secret, str) and isinstance(tenant, str) and client_id and secret \
            and tenant.lower() not in ("common", "organizations", "consumers"):
        return str(tenant), str(client_id), str(secret)
    return None


def _unusable(credentials: Any) -> CredentialsNotUsable:
    kind = f"{type(credentials).__module__}.{type(credentials).__name__}"
    if _looks_like_service_principal(credentials):
        tenant = _tenant_of(credentials)
        problem = "no tenant" if tenant is None else f"tenant {tenant!r}, which a service principal login refuses"
        return CredentialsNotUsable("InvalidCredentials",
                                    f"the azureml backend cannot use the client's credentials: a service principal "
                                    f"({kind}) with {problem}; pass the directory's tenant id (tenant=...). "
                                    + ACCEPTED)
    return CredentialsNotUsable("InvalidCredentials", f"the azureml backend cannot use the client's credentials "
                                                      f"({kind}); " + ACCEPTED)


def build_auth(credentials: Any, explicit_auth: Any = None, cloud: str = DEFAULT_CLOUD) -> Any:
    """The azureml authentication object for ``credentials`` (imports azureml)."""
    if explicit_auth is not None:
        return explicit_auth
    fields = _service_principal_fields(credentials)
    if fields is not None:
        from azureml.core.authentication import ServicePrincipalAuthentication

        tenant, client_id, secret = fields
        return ServicePrincipalAuthentication(tenant_id=tenant, service_principal_id=client_id,
                                              service_principal_password=secret, cloud=cloud)
    if _has_get_token(credentials):
        return token_credential_auth(credentials, cloud)
    if credentials is not None:  # given but unusable: never fall back to another identity or a login prompt
        raise _unusable(credentials)
    return _default_login(cloud)


def _default_login(cloud: str) -> Any:
    from azureml.core.authentication import AzureCliAuthentication, InteractiveLoginAuthentication

    try:
        auth = AzureCliAuthentication(cloud=cloud)
        auth.get_authentication_header()
        logger.info("batchai_compat azureml backend: using the Azure CLI login")
        return auth
    except Exception:  # no CLI / not logged in: fall back to an interactive login, like from_config
        logger.info("batchai_compat azureml backend: no Azure CLI login, starting an interactive login")
        return InteractiveLoginAuthentication(cloud=cloud)


def token_credential_auth(credential: Any, cloud: str = DEFAULT_CLOUD) -> Any:
    """``TokenAuthentication`` over an azure-identity credential (``get_token(scope) -> AccessToken``)."""
    from . import _internals

    def get_token_for_audience(resource: str) -> str:
        scope = resource.rstrip("/") + "/.default"
        token = credential.get_token(scope)
        return getattr(token, "token", token)

    return _internals.credential_authentication(get_token_for_audience, cloud)
