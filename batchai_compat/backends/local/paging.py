"""Keyset paging over the store (``max_results`` per page, opaque continuation tokens)."""

from __future__ import annotations

import sqlite3
from typing import Any, Callable, List, Optional, Sequence

from batchai_compat.backends.base import Body, Page

from . import _util


def page_rows(conn: sqlite3.Connection, table: str, where: str, params: Sequence[Any], max_results: int,
              continuation: Optional[str], view: Callable[[sqlite3.Row], Body]) -> Page:
    """Rows of ``table`` matching ``where`` in creation order, ``max_results`` at a time."""
    after = int(_util.decode_token(continuation).get("after", 0))
    limit = max(1, min(int(max_results or 1000), 1000))
    rows = conn.execute(f"SELECT * FROM {table} WHERE ({where}) AND seq > ? ORDER BY seq LIMIT ?",
                        (*params, after, limit + 1)).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    token = _util.encode_token({"after": rows[-1]["seq"]}) if more else None
    return Page([view(row) for row in rows], token)


def page_list(items: List[Body], max_results: int, continuation: Optional[str]) -> Page:
    """Paging over an already computed, ordered list (offset-based)."""
    offset = int(_util.decode_token(continuation).get("offset", 0))
    limit = max(1, min(int(max_results or 1000), 1000))
    chunk = items[offset:offset + limit]
    more = offset + limit < len(items)
    return Page(chunk, _util.encode_token({"offset": offset + limit}) if more else None)
