"""Small helpers shared by the emulator modules: errors, timestamps, ids, JSON bodies."""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import re
import uuid
from typing import Any, Dict, Optional

ISO_DURATION_RE = re.compile(r"^P(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


class HttpError(Exception):
    """Raised by a route handler to answer with an Azure-style JSON error."""

    def __init__(self, status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> Dict[str, Any]:
        # Both ARM ("error": {code, message}) and the AML data plane ("error": RootError) accept this shape.
        return {"error": {"code": self.code, "message": self.message, "severity": None,
                          "details": [], "innerError": None}}


def not_found(what: str, name: str) -> HttpError:
    return HttpError(404, "ResourceNotFound" if what != "Compute" else "ComputeTargetNotFound",
                     f"{what} '{name}' was not found.")


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def iso(ts: Optional[_dt.datetime]) -> Optional[str]:
    """ISO-8601 with a trailing Z and microseconds, the format AML returns."""
    if ts is None:
        return None
    return ts.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> Optional[_dt.datetime]:
    value = (value or "").strip().strip("'\"")
    if not value:
        return None
    value = value.replace(" ", "T", 1) if "T" not in value and " " in value else value
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # fromisoformat on 3.9/3.10 rejects fractional seconds other than 3 or 6 digits.
    m = re.match(r"^(.*?\d\d:\d\d:\d\d)(\.\d+)?(.*)$", value)
    if m and m.group(2):
        frac = (m.group(2)[1:] + "000000")[:6]
        value = m.group(1) + "." + frac + m.group(3)
    try:
        ts = _dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=_dt.timezone.utc)
    return ts


def duration_seconds(value: Any, default: float = 0.0) -> float:
    """Seconds from an ISO-8601 duration (``PT120S``, ``PT2M``) or a number."""
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return float(value)
    m = ISO_DURATION_RE.match(str(value).strip())
    if not m:
        try:
            return float(value)
        except (TypeError, ValueError):
            return default
    return int(m.group("h") or 0) * 3600 + int(m.group("m") or 0) * 60 + float(m.group("s") or 0)


def iso_duration(seconds: float) -> str:
    return f"PT{int(seconds)}S"


def new_id() -> str:
    return str(uuid.uuid4())


_counter = itertools.count(1)


def short_id() -> str:
    return f"{uuid.uuid4().int >> 100:x}{next(_counter) % 0xFFFF:04x}"


def load_json(body: bytes) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, "BadRequest", f"Request body is not valid JSON: {exc}") from exc


def ci_get(mapping: Any, *keys: str, default: Any = None) -> Any:
    """Case-insensitive lookup of the first present key (AML mixes PascalCase and camelCase)."""
    if not isinstance(mapping, dict):
        return default
    lowered = {str(k).lower(): v for k, v in mapping.items()}
    for key in keys:
        if key.lower() in lowered:
            return lowered[key.lower()]
    return default
