"""The OData ``$filter`` subset azureml-core sends for runs and experiments.

Grammar (case-insensitive keywords)::

    expr    := term ("or" term)*
    term    := factor ("and" factor)*
    factor  := "not" factor | "(" expr ")" | compare
    compare := FIELD ("eq"|"ne"|"gt"|"ge"|"lt"|"le") VALUE
    VALUE   := "quoted" | 'quoted' | null | true | false | bare-token

Fields are paths such as ``Tags/batchai.job_name``, ``Properties/x``, ``Status``, ``ParentRunId``, ``RunId``,
``RunType``, ``Target``, ``CreatedUtc``, ``name``.  The getter returns :data:`MISSING` for an absent tag or property,
which no comparison matches, not even ``eq null`` (so azureml-core's ``(Tags/x ne null or Tags/x eq null)`` selects
the runs that have tag x, as documented: see ``_comparison``), and ``None`` for a null column such as
``ParentRunId``.  :func:`compile_filter` returns a predicate over a ``getter(field_path) -> value-or-MISSING``.
"""

from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Tuple

MISSING = object()
# azureml quotes values with "..." and escapes nothing; OData's '...' doubles embedded quotes.
_TOKEN_RE = re.compile(r'\s*(?:(\()|(\))|("[^"]*")|(\'(?:[^\']|\'\')*\')|([^\s()]+))')
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class ODataError(ValueError):
    pass


def _tokenize(text: str) -> List[Tuple[str, str]]:
    tokens: List[Tuple[str, str]] = []
    pos = 0
    text = text or ""
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ODataError(f"cannot parse filter near {text[pos:]!r}")
        pos = m.end()
        if m.group(1):
            tokens.append(("(", "("))
        elif m.group(2):
            tokens.append((")", ")"))
        elif m.group(3):
            tokens.append(("str", m.group(3)[1:-1]))
        elif m.group(4):
            tokens.append(("str", m.group(4)[1:-1].replace("''", "'")))
        elif m.group(5):
            tokens.append(("word", m.group(5)))
    return tokens


Getter = Callable[[str], Any]
Predicate = Callable[[Getter], bool]


class _Parser:
    def __init__(self, tokens: List[Tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Optional[Tuple[str, str]]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ODataError("unexpected end of filter")
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1].lower() == word

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.is_word("or"):
            self.take()
            parts.append(self.term())
        if len(parts) == 1:
            return parts[0]

        def any_of(g: Getter, ps: Tuple[Predicate, ...] = tuple(parts)) -> bool:
            return any(p(g) for p in ps)
        return any_of

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.is_word("and"):
            self.take()
            parts.append(self.factor())
        if len(parts) == 1:
            return parts[0]

        def all_of(g: Getter, ps: Tuple[Predicate, ...] = tuple(parts)) -> bool:
            return all(p(g) for p in ps)
        return all_of

    def factor(self) -> Predicate:
        if self.is_word("not"):
            self.take()
            inner = self.factor()
            return lambda g: not inner(g)
        tok = self.peek()
        if tok is not None and tok[0] == "(":
            self.take()
            inner = self.expr()
            if self.take()[0] != ")":
                raise ODataError("missing ')'")
            return inner
        return self.compare()

    def compare(self) -> Predicate:
        kind, field = self.take()
        if kind != "word":
            raise ODataError(f"expected a field name, got {field!r}")
        kind, op = self.take()
        op = op.lower()
        if kind != "word" or op not in _OPS:
            raise ODataError(f"expected a comparison operator after {field!r}")
        value: Any
        kind, raw = self.take()
        if kind == "str":
            value = raw
        elif kind == "word":
            low = raw.lower()
            if low == "null":
                value = None
            elif low in ("true", "false"):
                value = low == "true"
            else:
                # A bare datetime may contain a space ("2024-01-01 10:00:00"): glue words up to ")".
                parts = [raw]
                nxt = self.peek()
                while nxt is not None and nxt[0] == "word" and nxt[1].lower() not in ("and", "or") \
                        and re.match(r"^[\d:.+Z-]+$", nxt[1]):
                    parts.append(self.take()[1])
                    nxt = self.peek()
                value = " ".join(parts)
        else:
            raise ODataError(f"expected a value after {field} {op}")
        return _comparison(field, op, value)


def _coerce(actual: Any, value: Any) -> Tuple[Any, Any]:
    import datetime as _dt

    from .util import parse_iso
    if isinstance(actual, _dt.datetime):
        other = parse_iso(value) if isinstance(value, str) else value
        return actual, other
    if isinstance(actual, bool) or isinstance(value, bool):
        return str(actual).lower(), str(value).lower()
    if isinstance(actual, (int, float)) and isinstance(value, str):
        try:
            return actual, float(value)
        except ValueError:
            return str(actual), value
    return actual, value


def _comparison(field: str, op: str, value: Any) -> Predicate:
    def pred(getter: Getter) -> bool:
        actual = getter(field)
        if actual is MISSING:
            # An absent tag/property matches nothing, not even "eq null". azureml-core 1.61 builds the filter of
            # Run.list(exp, tags="k") / properties="k" / Experiment.get_runs(tags="k") as "(Tags/k ne null or
            # Tags/k eq null)" (azureml/_restclient/_odata/constants.py TAG_EXISTS_FORMAT_STR /
            # PROP_EXISTS_FORMAT_STR, used by _odata/runs.py get_filter_run_has_tag / _has_property), and documents
            # that call as returning the runs that have the tag: Run.list's docstring ("returns runs matching
            # specified 'tag'") and Microsoft's how-to "Start, monitor, and cancel training runs in Python"
            # (MicrosoftDocs/azure-docs, machine-learning; section "Query properties and tags": a run tagged with
            # run.tag("worth another look") is found with exp.get_runs(tags="worth another look")). Read as
            # plain OData 4.01 (an absent dynamic property is null) the filter would be true of every run; the
            # documented behaviour is the presence test, so that is what the emulator answers. Not observed on
            # the service itself here; the backend depends on neither reading: it filters on property values
            # and checks every run a query returns (see the ignore_run_filters test mode in history.py).
            return False
        if value is None:
            return (actual is None) if op == "eq" else (actual is not None) if op == "ne" else False
        if actual is None:
            return op == "ne"
        a, v = _coerce(actual, value)
        if op in ("eq", "ne") and isinstance(a, str) and isinstance(v, str) and field.lower() in (
                "status", "name", "runtype", "target"):
            a, v = a.lower(), v.lower()
        try:
            if op == "eq":
                return a == v
            if op == "ne":
                return a != v
            if v is None:
                return False
            return {"gt": a > v, "ge": a >= v, "lt": a < v, "le": a <= v}[op]
        except TypeError:
            return False
    return pred


def compile_filter(text: Optional[str]) -> Predicate:
    if not text or not text.strip():
        return lambda getter: True
    parser = _Parser(_tokenize(text))
    pred = parser.expr()
    rest = parser.peek()
    if rest is not None:
        raise ODataError(f"unexpected {rest[1]!r} in filter")
    return pred
