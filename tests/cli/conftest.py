"""Fixtures every ``batchai`` CLI test shares: an isolated home and the real console entry.

``run_cli`` runs ``python -m batchai_compat.cli`` in a subprocess (the real thing: argument parsing,
exit codes, stdout/stderr as a shell script sees them); ``run_cli_inproc`` calls
``batchai_compat.cli.main`` in this process with captured streams, for fast parser and error tests.
Both see the same isolated ``BATCHAI_COMPAT_HOME``, ``AZURE_CONFIG_DIR`` and ``HOME`` under ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import pytest

Result = Tuple[int, str, str]

_ISOLATED = ("BATCHAI_COMPAT_HOME", "AZURE_CONFIG_DIR", "HOME", "BATCHAI_COMPAT_BACKEND", "BATCHAI_COMPAT_CONFIG",
             "BATCHAI_COMPAT_SUBSCRIPTION", "AZURE_BATCHAI_STORAGE_ACCOUNT", "AZURE_BATCHAI_STORAGE_KEY",
             "AZURE_DEFAULTS_GROUP", "AZURE_DEFAULTS_WORKSPACE", "AZURE_DEFAULTS_LOCATION", "AZURE_CORE_OUTPUT")


@pytest.fixture(autouse=True)
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, str]]:
    """Isolated homes for one test; yields the environment subprocesses get."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    values = {
        "BATCHAI_COMPAT_HOME": str(tmp_path / "batchai_home"),
        "AZURE_CONFIG_DIR": str(tmp_path / "azure_config"),
        "HOME": str(home),
        "BATCHAI_COMPAT_BACKEND": "local",
    }
    for name in _ISOLATED:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    Path(values["AZURE_CONFIG_DIR"]).mkdir()
    yield dict(os.environ)
    _stop_local_processes(values["BATCHAI_COMPAT_HOME"])


def _stop_local_processes(home: str) -> None:
    """Delete what a test left in its home (jobs' supervisors, setup tasks) so nothing outlives it.

    In this process (a subprocess per test cost a second each): deleting a workspace stops its jobs and
    clusters, as on the service.
    """
    from batchai_compat._fileserver import stop_shared_server

    stop_shared_server(home)  # the detached file server a `job file list` started (if any)
    if not os.path.exists(os.path.join(home, "state.db")):
        return
    import batchai_compat.operations  # noqa: F401 - the 2.0.0 layer first (import order of the generations)
    from batchai_compat import BatchAIManagementClient

    client = BatchAIManagementClient(object(), "00000000-0000-0000-0000-000000000000", backend="local", home=home)
    try:
        pollers = []
        for workspace in list(client.workspaces.list()):
            try:
                pollers.append(client.workspaces.delete(workspace.id.split("/")[4], workspace.name))
            except Exception:  # noqa: BLE001 - best effort: already deleting
                pass
        for poller in pollers:
            try:
                poller.result()
            except Exception:  # noqa: BLE001
                pass
    finally:
        client.close()


@pytest.fixture
def run_cli(cli_env: Dict[str, str]) -> Callable[..., Result]:
    """``run_cli(*args, input=None, env=None, cwd=None, timeout=120) -> (exit_code, stdout, stderr)``."""

    def _run(*args: str, input: Optional[str] = None, env: Optional[Dict[str, str]] = None,  # noqa: A002
             cwd: Optional[str] = None, timeout: float = 120) -> Result:
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "batchai_compat.cli", *args], input=input,
                              capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    return _run


@pytest.fixture
def run_cli_inproc(cli_env: Dict[str, str]) -> Callable[..., Result]:
    """The in-process variant of :func:`run_cli` (same signature; ``env`` applied for the call)."""

    def _run(*args: str, input: Optional[str] = None, env: Optional[Dict[str, str]] = None,  # noqa: A002
             cwd: Optional[str] = None, timeout: float = 120) -> Result:
        import logging

        from batchai_compat.cli import main

        out, err = io.StringIO(), io.StringIO()
        # knack configures its stderr handlers only when the root logger has none (pytest's are there):
        # hide them for the call so knack's ERROR/WARNING lines go to the captured stderr
        loggers = [logging.getLogger(), logging.getLogger("cli"), logging.getLogger("batchai")]
        saved_handlers = [list(lg.handlers) for lg in loggers]
        for lg in loggers:
            lg.handlers = []
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_stdin = sys.stdin
        os.environ.update(env or {})
        try:
            if cwd:
                os.chdir(cwd)
            sys.stdin = io.StringIO(input or "")
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(args))
        finally:
            for lg, handlers in zip(loggers, saved_handlers):
                lg.handlers = handlers
            sys.stdin = saved_stdin
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return code, out.getvalue(), err.getvalue()

    return _run


@pytest.fixture
def run_json(run_cli: Callable[..., Result]) -> Callable[..., Any]:
    """``run_json(*args) -> parsed stdout``; fails the test (with stderr) on a non-zero exit."""

    def _run(*args: str, **kwargs: Any) -> Any:
        code, out, err = run_cli(*args, **kwargs)
        assert code == 0, f"batchai {' '.join(args)} exited {code}:\n{err}"
        return json.loads(out) if out.strip() else None

    return _run


@pytest.fixture
def az_defaults(cli_env: Dict[str, str]) -> Callable[..., Path]:
    """``az_defaults(group="rg", workspace="ws")`` writes ``[defaults]`` as ``az configure --defaults`` does."""

    def _write(**values: str) -> Path:
        path = Path(cli_env["AZURE_CONFIG_DIR"]) / "config"
        lines = ["[defaults]"] + [f"{k} = {v}" for k, v in values.items()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return _write
