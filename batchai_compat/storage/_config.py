"""How a legacy ``BlockBlobService``/``FileService`` constructor call becomes an account + a mode.

The mode rule (also in ``docs/storage.md``), first match wins:

1. ``mode="local"|"remote"`` passed to the constructor (a batchai_compat extension);
2. the environment variable ``BATCHAI_COMPAT_STORAGE=local|remote`` (``auto`` or empty: go on);
3. ``remote`` when an explicit endpoint for this service is configured: ``is_emulated=True``,
   ``custom_domain=...`` (blobs), or a connection string carrying ``UseDevelopmentStorage=true``
   or ``BlobEndpoint=``/``FileEndpoint=`` for this service;
4. otherwise ``local``: plain ``(account_name, account_key)``, a SAS token or a connection string with
   only account name/key/suffix all stay on this machine, under ``BATCHAI_COMPAT_HOME``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

ENV_MODE = "BATCHAI_COMPAT_STORAGE"
SERVICE_HOST_BASE = "core.windows.net"
DEFAULT_PROTOCOL = "https"
# The storage emulator's published, well-known development account (not a secret).
DEV_ACCOUNT_NAME = "devstoreaccount1"
DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEV_HOSTS = {"blob": "127.0.0.1:10000", "file": None}

MISSING_INFO = (
    "You need to provide an account name and either an account_key or sas_token when creating a storage "
    "service."
)


def parse_connection_string(connection_string: str) -> Dict[str, str]:
    """``Key=Value;...`` into a dict with lower-cased keys (values may contain ``=``)."""
    settings: Dict[str, str] = {}
    for part in connection_string.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError("Connection string is either blank or malformed.")
        settings[key.strip().lower()] = value.strip()
    return settings


@dataclass(repr=False)
class StorageConfig:
    """Account, credentials and endpoint of one service object. Secrets never appear in ``repr``."""

    service: str  # "blob" or "file"
    mode: str  # "local" or "remote"
    account_name: Optional[str]
    account_key: Optional[str] = None
    sas_token: Optional[str] = None
    token_credential: Any = None
    protocol: str = DEFAULT_PROTOCOL
    endpoint_suffix: str = SERVICE_HOST_BASE
    endpoint: Optional[str] = None  # explicit "scheme://host[/path]"; None means the public one
    home: Optional[os.PathLike] = None
    extras: Dict[str, Any] = field(default_factory=dict)

    @property
    def primary_endpoint(self) -> str:
        """Base URL of the service, without trailing slash."""
        if self.endpoint:
            return self.endpoint.rstrip("/")
        return f"{self.protocol}://{self.account_name}.{self.service}.{self.endpoint_suffix}"

    def url(self, path: str, protocol: Optional[str] = None) -> str:
        base = self.primary_endpoint
        if protocol:
            base = protocol + base[base.index("://"):]
        return f"{base}/{path}"

    def __repr__(self) -> str:
        return (f"StorageConfig(service={self.service!r}, mode={self.mode!r}, account_name={self.account_name!r}, "
                f"endpoint={self.primary_endpoint!r}, credential={self.credential_kind!r})")

    @property
    def credential_kind(self) -> str:
        if self.account_key:
            return "account_key"
        if self.sas_token:
            return "sas_token"
        if self.token_credential is not None:
            return "token_credential"
        return "anonymous"


def _endpoint(value: str, protocol: str) -> str:
    """``https://host/path``, ``host/path`` or ``host`` as a base URL."""
    value = value.strip().rstrip("/")
    if "://" not in value:
        value = f"{protocol}://{value}"
    parts = urlsplit(value)
    if not parts.netloc:
        raise ValueError(f"invalid storage endpoint {value!r}")
    return value


def resolve(
    service: str,
    *,
    account_name: Optional[str],
    account_key: Optional[str],
    sas_token: Optional[str],
    is_emulated: bool = False,
    protocol: str = DEFAULT_PROTOCOL,
    endpoint_suffix: str = SERVICE_HOST_BASE,
    custom_domain: Optional[str] = None,
    connection_string: Optional[str] = None,
    token_credential: Any = None,
    mode: Optional[str] = None,
    home: Optional[os.PathLike] = None,
) -> StorageConfig:
    """Apply the legacy constructor rules, then the mode rule of this module's docstring."""
    explicit_endpoint: Optional[str] = None
    if connection_string:
        # As in 2.x, a connection string replaces the other arguments.
        cs = parse_connection_string(connection_string)
        if cs.get("usedevelopmentstorage", "").lower() == "true":
            is_emulated = True
            proxy = cs.get("developmentstorageproxyuri")
            if proxy and DEV_HOSTS.get(service):
                explicit_endpoint = _endpoint(f"{proxy.rstrip('/')}/{DEV_ACCOUNT_NAME}", "http")
        account_name = cs.get("accountname", account_name)
        account_key = cs.get("accountkey", account_key)
        sas_token = cs.get("sharedaccesssignature", sas_token)
        protocol = cs.get("defaultendpointsprotocol", protocol)
        endpoint_suffix = cs.get("endpointsuffix", endpoint_suffix)
        if cs.get(f"{service}endpoint"):
            explicit_endpoint = _endpoint(cs[f"{service}endpoint"], protocol)
    if is_emulated:
        host = DEV_HOSTS.get(service)
        if host is None:
            raise ValueError(f"there is no storage emulator for the {service} service; pass a connection "
                             f"string with {service.capitalize()}Endpoint= instead")
        account_name = account_name or DEV_ACCOUNT_NAME
        if account_name == DEV_ACCOUNT_NAME and not account_key:
            account_key = DEV_ACCOUNT_KEY
        explicit_endpoint = explicit_endpoint or f"http://{host}/{DEV_ACCOUNT_NAME}"
        protocol = "http"
    if custom_domain and not explicit_endpoint:
        explicit_endpoint = _endpoint(custom_domain, protocol)
    if sas_token:
        sas_token = sas_token.lstrip("?")

    chosen = (mode or os.environ.get(ENV_MODE) or "auto").strip().lower()
    if chosen not in ("local", "remote", "auto"):
        raise ValueError(f"storage mode must be 'local', 'remote' or 'auto' (from mode= or ${ENV_MODE}), "
                         f"got {chosen!r}")
    if chosen == "auto":
        chosen = "remote" if explicit_endpoint else "local"
    if not account_name and not (chosen == "remote" and explicit_endpoint):
        raise ValueError(MISSING_INFO)
    return StorageConfig(
        service=service, mode=chosen, account_name=account_name, account_key=account_key, sas_token=sas_token,
        token_credential=token_credential, protocol=protocol, endpoint_suffix=endpoint_suffix,
        endpoint=explicit_endpoint, home=home,
    )
