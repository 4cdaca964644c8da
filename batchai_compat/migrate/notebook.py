"""Edit the code cells' ``source`` of a notebook in its raw JSON text, leaving every other byte alone.

The notebook is never re-serialized: the span of each cell's ``source`` value is located in the
raw text (a small scanner over the JSON structure, with :mod:`json`'s own decoder for the values),
and only the ``source`` of a changed cell is replaced. Its lines that did not change keep their
original JSON token text, so the only differing bytes are those of the changed source lines.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Dict, Iterator, List, Optional, Tuple

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class NotebookError(ValueError):
    pass


def _skip(text: str, i: int) -> int:
    match = _WS.match(text, i)
    return match.end() if match else i


def _members(text: str, i: int) -> Iterator[Tuple[str, int, int]]:
    """(key, value start, value end) of the JSON object starting at ``text[i] == '{'``."""
    i = _skip(text, i + 1)
    if text[i] == "}":
        return
    while True:
        key, i = scanstring(text, i + 1)
        i = _skip(text, i)
        i = _skip(text, i + 1)  # the ':'
        _, end = _DECODER.raw_decode(text, i)
        yield key, i, end
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
            continue
        return


def _elements(text: str, i: int) -> Iterator[Tuple[int, int]]:
    """(start, end) of each element of the JSON array starting at ``text[i] == '['``."""
    i = _skip(text, i + 1)
    if text[i] == "]":
        return
    while True:
        _, end = _DECODER.raw_decode(text, i)
        yield i, end
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
            continue
        return


class Cell:
    def __init__(self, index: int, cell_type: str, start: int, end: int, source: str) -> None:
        self.index = index
        self.cell_type = cell_type
        self.start = start  # span of the "source" value in the raw text
        self.end = end
        self.source = source


def cells(raw: str) -> List[Cell]:
    """The cells of notebook ``raw`` with the span of their ``source`` values."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise NotebookError(f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotebookError("not a Jupyter notebook (no 'cells' list)")
    start = _skip(raw, 0)
    found: List[Cell] = []
    for key, value_start, _ in _members(raw, start):
        if key != "cells":
            continue
        for index, (cell_start, _end) in enumerate(_elements(raw, value_start)):
            info: Dict[str, Any] = {}
            for ckey, vstart, vend in _members(raw, cell_start):
                if ckey in ("cell_type", "source"):
                    info[ckey] = (json.loads(raw[vstart:vend]), vstart, vend)
            if "source" not in info:
                continue
            source, vstart, vend = info["source"]
            text = "".join(source) if isinstance(source, list) else str(source)
            found.append(Cell(index, str(info.get("cell_type", (None,))[0]), vstart, vend, text))
    return found


def _render(raw: str, cell: Cell, new_source: str) -> str:
    ascii_only = all(ord(c) < 128 for c in raw)
    original = raw[cell.start:cell.end]
    if original.startswith('"'):
        return json.dumps(new_source, ensure_ascii=ascii_only)
    spans = list(_elements(raw, cell.start))
    tokens = {json.loads(raw[s:e]): raw[s:e] for s, e in spans}
    if spans:
        prefix = raw[cell.start + 1:spans[0][0]]
        suffix = raw[spans[-1][1]:cell.end - 1]
        sep = raw[spans[0][1]:spans[1][0]] if len(spans) > 1 else "," + prefix
    else:
        prefix, suffix, sep = "", "", ","
    items = [tokens.get(line) or json.dumps(line, ensure_ascii=ascii_only)
             for line in re.findall(r"[^\n]*\n|[^\n]+$", new_source)]
    return "[" + prefix + sep.join(items) + suffix + "]" if items else "[]"


def replace_sources(raw: str, new_sources: Dict[int, str], found: Optional[List[Cell]] = None) -> str:
    """``raw`` with the ``source`` of the cells ``new_sources`` (cell index -> text) replaced."""
    by_index = {c.index: c for c in (found if found is not None else cells(raw))}
    for index in sorted(new_sources, key=lambda i: by_index[i].start, reverse=True):
        cell = by_index[index]
        raw = raw[:cell.start] + _render(raw, cell, new_sources[index]) + raw[cell.end:]
    return raw
