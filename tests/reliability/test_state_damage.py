"""A damaged or lost ``state.db`` is reported, never papered over (issue 11 item 7).

What users rely on: when the local backend's state database is unreadable, truncated, emptied or
deleted, building a client (or the next call) raises ``BatchAICompatStateError`` naming the file,
what happened and what to do - and nothing is recreated over it, so every workspace, cluster and
job is not silently gone. ``python -m batchai_compat.backends.local reset --home DIR`` moves the
damaged state aside (never deletes it) and refuses while processes still use the home. Fresh homes,
and homes made before the marker existed, start normally.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Tuple

import pytest
from msrestazure.azure_exceptions import CloudError

from batchai_compat import _home
from batchai_compat.exceptions import BatchAICompatStateError
from tests.contract.helpers import EXP, LOCATION, RG, WS, job_parameters
from tests.reliability.test_concurrency import new_client, prepare_home, users, wait_no_leftover_processes

REPO = Path(__file__).resolve().parents[2]


def made_home(tmp_path: Path) -> Path:
    """A home with a workspace in it, written by a process that has exited (a previous session)."""
    home = tmp_path / "home"
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
            "from tests.reliability.test_concurrency import new_client, RG, LOCATION\n"
            f"c = new_client({str(home)!r}); c.workspaces.create(RG, 'kept', LOCATION).result(); c.close()\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(REPO), timeout=120)
    return home


def open_in_fresh_process(home: Path) -> Tuple[int, str]:
    """Build a client on ``home`` in a new process and list workspaces; ``(exit status, output)``."""
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
            "from tests.reliability.test_concurrency import new_client, RG\n"
            "from batchai_compat.exceptions import BatchAICompatStateError\n"
            "try:\n"
            f"    c = new_client({str(home)!r})\n"
            "    print('WORKSPACES', sorted(w.name for w in c.workspaces.list_by_resource_group(RG)))\n"
            "except BatchAICompatStateError as exc:\n"
            "    print('STATE-ERROR', exc.path, exc)\n"
            "    sys.exit(3)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO), timeout=120)
    return out.returncode, out.stdout + out.stderr


def local_command(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "batchai_compat.backends.local", *args], capture_output=True,
                          text=True, cwd=str(REPO), timeout=120)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_reported(status: int, output: str, home: Path, what: str) -> None:
    db = home / "state.db"
    assert status == 3, output[-3000:]
    assert f"STATE-ERROR {db} " in output
    assert what in output
    assert f"python -m batchai_compat.backends.local reset --home {home}" in output
    assert "restore state.db from a backup" in output


def damage(path: Path, offset: int, data: bytes) -> None:
    # Only ever done to a database no process of this test holds open.
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def test_garbage_in_the_header_is_reported_and_left_untouched(tmp_path):
    home = made_home(tmp_path)
    damage(home / "state.db", 0, b"\x00garbage!" * 10)
    before = digest(home / "state.db")
    status, output = open_in_fresh_process(home)
    assert_reported(status, output, home, "cannot be read (file is not a database)")
    assert digest(home / "state.db") == before


def test_a_damaged_page_is_reported(tmp_path):
    home = made_home(tmp_path)
    size = (home / "state.db").stat().st_size
    assert size >= 3 * 4096
    for page in range(1, size // 4096):  # every b-tree page but the first (the file header is intact)
        damage(home / "state.db", page * 4096, b"\xff" * 8)
    status, output = open_in_fresh_process(home)
    assert_reported(status, output, home, "")
    assert "cannot be read" in output or "fails SQLite's integrity check" in output


@pytest.mark.parametrize("length", ["zero", "half"])
def test_a_truncated_database_is_reported_not_recreated(tmp_path, length):
    home = made_home(tmp_path)
    db = home / "state.db"
    os.truncate(db, 0 if length == "zero" else db.stat().st_size // 2)
    before = digest(db)
    status, output = open_in_fresh_process(home)
    assert_reported(status, output, home, "is empty (0 bytes)" if length == "zero" else "")
    assert digest(db) == before  # SQLite was not allowed to write a fresh header into it


def test_a_deleted_database_is_reported_not_recreated(tmp_path):
    home = made_home(tmp_path)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{home / 'state.db'}{suffix}"):
            os.unlink(f"{home / 'state.db'}{suffix}")
    status, output = open_in_fresh_process(home)
    assert_reported(status, output, home, f"is missing, but {home / 'state.created'} records that a database")
    assert not (home / "state.db").exists()


def test_a_deleted_database_and_marker_in_a_home_with_nodes_is_reported(tmp_path):
    home = tmp_path / "home"
    prepare_home(home, nodes=1)  # the cluster's node directory lives under nodes/
    for name in ("state.db", "state.db-wal", "state.db-shm", "state.created"):
        if (home / name).exists():
            (home / name).unlink()
    status, output = open_in_fresh_process(home)
    assert_reported(status, output, home, f"is missing, but {home / 'nodes'} holds the state of earlier clusters")
    assert not (home / "state.db").exists()


def test_a_database_deleted_while_a_client_uses_it(tmp_path):
    home = tmp_path / "home"
    client = new_client(home)
    client.workspaces.create(RG, "kept", LOCATION).result()
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        os.unlink(home / name)  # e.g. `rm ~/.batchai_compat/state.db*` while the notebook runs
    with pytest.raises(BatchAICompatStateError, match="was deleted or replaced while this process was using it"):
        client.workspaces.create(RG, "lost", LOCATION)
    with pytest.raises(BatchAICompatStateError) as err:
        new_client(home)  # re-running the cell does not start over either
    assert err.value.path == str(home / "state.db")
    assert not isinstance(err.value, CloudError)  # `except CloudError: create it` must not swallow it
    assert not (home / "state.db").exists()
    client.close()


def test_fresh_and_old_homes_start_normally_and_get_the_marker(tmp_path):
    fresh = tmp_path / "fresh"
    _home.share_path("acct", "share", fresh).mkdir(parents=True)  # storage emulation used first: no state yet
    assert open_in_fresh_process(fresh)[0] == 0
    assert (fresh / "state.created").exists()
    old = made_home(tmp_path)
    (old / "state.created").unlink()  # a home made before the marker existed
    status, output = open_in_fresh_process(old)
    assert status == 0 and "WORKSPACES ['kept']" in output, output
    assert (old / "state.created").exists()


def test_check_command(tmp_path):
    home = made_home(tmp_path)
    ok = local_command("check", "--home", str(home))
    assert ok.returncode == 0 and ok.stdout.strip() == f"{home / 'state.db'}: ok", ok.stderr
    damage(home / "state.db", 0, b"garbage" * 10)
    bad = local_command("check", "--home", str(home))
    assert bad.returncode == 1 and "file is not a database" in bad.stderr and "reset --home" in bad.stderr


def test_reset_moves_the_damaged_state_aside_and_starts_empty(tmp_path):
    home = made_home(tmp_path)
    (home / "nodes" / "some-cluster").mkdir(parents=True)
    (home / "fileservers" / "sub").mkdir(parents=True)
    _home.share_path("acct", "share", home).mkdir(parents=True)
    damage(home / "state.db", 0, b"garbage" * 10)
    damaged = digest(home / "state.db")
    result = local_command("reset", "--home", str(home))
    assert result.returncode == 0, result.stderr
    backups = sorted(home.glob("state-backup-*"))
    assert len(backups) == 1 and str(backups[0]) in result.stdout
    backup = backups[0]
    assert digest(backup / "state.db") == damaged  # moved, not deleted
    assert (backup / "state.created").exists() and (backup / "nodes" / "some-cluster").is_dir()
    assert (backup / "fileservers" / "sub").is_dir()
    assert _home.share_path("acct", "share", home).is_dir()  # storage accounts are not control-plane state
    status, output = open_in_fresh_process(home)
    assert status == 0 and "WORKSPACES []" in output, output
    again = local_command("reset", "--home", str(home))  # a sound database is not reset by accident
    assert again.returncode == 1 and "is sound" in again.stderr
    assert local_command("reset", "--home", str(home), "--force").returncode == 0
    assert len(list(home.glob("state-backup-*"))) == 2


def test_reset_refuses_while_processes_use_the_home(tmp_path):
    home = tmp_path / "home"
    cluster_id = prepare_home(home, nodes=1)
    client = new_client(home)
    client.jobs.create(RG, WS, EXP, "long", job_parameters(cluster_id, "sleep 60")).result()
    try:
        deadline = time.monotonic() + 60
        while client.jobs.get(RG, WS, EXP, "long").execution_state != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        found: Any = users(home)
        assert any("batchai_compat.backends.local.supervisor" in why for _pid, why in found), found
        before = sorted(p.name for p in home.iterdir())
        refused = local_command("reset", "--home", str(home), "--force")
        assert refused.returncode == 1 and "still use it" in refused.stderr
        assert f"pid {os.getpid()}: holds {home / 'state.db'} open" in refused.stderr  # this test's client
        assert "batchai_compat.backends.local.supervisor" in refused.stderr
        assert sorted(p.name for p in home.iterdir()) == before  # nothing moved
    finally:
        client.jobs.terminate(RG, WS, EXP, "long").result()
        client.close()
    assert wait_no_leftover_processes(home) == []
