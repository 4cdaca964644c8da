"""Batch AI's own per-node log: ``execution.log`` (1 node) or ``execution-<nodeId>.log``.

Timestamped steps and exit codes. Secret values are masked on every line written.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from typing import Iterable


def utc_now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class ExecutionLog:
    def __init__(self, path: str, secrets: Iterable[str] = ()) -> None:
        self.path = path
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        # Whole-token matches only, so a secret "SECRET" does not mangle the name "SECRET_VAR".
        self._pattern = (
            re.compile("|".join(rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])" for v in values))
            if values else None
        )
        # Opened once and kept: the file must stay writable after job mounts are removed.
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def mask(self, text: str) -> str:
        return self._pattern.sub("******", text) if self._pattern else text

    def write(self, message: str, level: str = "INFO") -> None:
        if self._fh.closed:
            return
        for line in self.mask(message).splitlines() or [""]:
            self._fh.write(f"{utc_now_iso()} [{level}] {line}\n")
        self._fh.flush()

    def info(self, message: str) -> None:
        self.write(message, "INFO")

    def warning(self, message: str) -> None:
        self.write(message, "WARN")

    def error(self, message: str) -> None:
        self.write(message, "ERROR")

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
