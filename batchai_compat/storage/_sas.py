"""Shared access signatures in local mode, and reading the expiry out of any SAS token.

In local mode a SAS token has the familiar shape (``sv=...&se=...&sp=...&sr=...&sig=...``) so code
that logs, stores or appends it keeps working, but nothing checks its signature: local data is
protected by file permissions. What matters is its expiry, which ``make_blob_url``/``make_file_url``
carry over into the signed loopback URL of :mod:`batchai_compat._fileserver`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from datetime import date, datetime, timezone
from hashlib import sha256
from typing import Any, Dict, Optional
from urllib.parse import parse_qs, quote

SAS_VERSION = "2018-03-28"  # the REST version azure-storage 1.x/2.x signed with
_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%MZ", "%Y-%m-%d")


def format_time(value: Any) -> Optional[str]:
    """A SAS time parameter as 2.x formatted it: datetimes in UTC (naive ones taken as UTC), strings as-is."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def parse_time(text: str) -> Optional[datetime]:
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def token_expiry(sas_token: str) -> Optional[datetime]:
    """The ``se`` of a SAS token (any issuer), or None when it has none or it is unreadable."""
    values = parse_qs(sas_token.lstrip("?")).get("se")
    return parse_time(values[0]) if values else None


def _key_bytes(account_key: Optional[str]) -> bytes:
    if not account_key:
        return b"batchai-compat-local"
    try:
        return base64.b64decode(account_key, validate=True)
    except (binascii.Error, ValueError):
        return account_key.encode()


def local_token(
    *, account_name: str, account_key: Optional[str], resource: str, canonical: str, permission: Any = None,
    expiry: Any = None, start: Any = None, id: Optional[str] = None, ip: Optional[str] = None,  # noqa: A002
    protocol: Optional[str] = None, services: Optional[str] = None, resource_types: Any = None,
    headers: Optional[Dict[str, Optional[str]]] = None,
) -> str:
    """A SAS-shaped token for local mode (see module docstring): same parameter names and order as 2.x."""
    fields: Dict[str, Optional[str]] = {
        "st": format_time(start), "se": format_time(expiry), "sp": str(permission) if permission else None,
        "sip": ip, "spr": protocol, "sv": SAS_VERSION, "ss": services,
        "srt": str(resource_types) if resource_types else None, "sr": resource, "si": id,
    }
    fields.update(headers or {})
    present = {k: v for k, v in fields.items() if v}
    string_to_sign = "\n".join([account_name, canonical] + [f"{k}={v}" for k, v in present.items()])
    sig = base64.b64encode(hmac.new(_key_bytes(account_key), string_to_sign.encode(), sha256).digest()).decode()
    present["sig"] = sig
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in present.items())
