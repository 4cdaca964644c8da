"""In-memory paging of lists that azureml-core returns whole (offset continuation tokens)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import List, Optional

from batchai_compat.backends import errors
from batchai_compat.backends.base import Body, Page


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode(token: Optional[str]) -> int:
    if not token:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()).decode())
        return max(0, int(value["o"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise errors.InvalidInput("InvalidContinuationToken", "The continuation token is not valid") from exc


def page(items: List[Body], max_results: int, continuation: Optional[str]) -> Page:
    start = _decode(continuation)
    size = max(1, int(max_results or 1000))
    chunk = items[start:start + size]
    more = start + size < len(items)
    return Page(chunk, _encode(start + size) if more else None)
