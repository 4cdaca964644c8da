"""Resource groups and storage accounts of the local backend, in its ``state.db``.

Two tables beside the Batch AI ones (same database, same :class:`~batchai_compat.backends.local.store.Store`
transactions, created here with ``CREATE TABLE IF NOT EXISTS`` so the Batch AI schema is untouched):

* ``arm_resource_groups``: one row per (subscription, group), keyed by the lower-cased ARM id;
* ``arm_storage_accounts``: one row per account, keyed by the lower-cased account name, because
  storage account names are globally unique (here: unique per ``BATCHAI_COMPAT_HOME``). The account
  keys live in their own column (the database is mode 0600) and never in the returned body.

A storage account's data is the directory ``$BATCHAI_COMPAT_HOME/storage/<name>`` that the local
``BlockBlobService``/``FileService`` and the local backend's mounts already use; deleting the
account deletes it, as deleting the account deleted its data on Azure.

Error codes and messages are those Azure Resource Manager and the storage resource provider
answered (``ResourceGroupNotFound``, ``InvalidResourceGroupLocation``, ``ResourceNotFound``,
``StorageAccountAlreadyTaken``, ``StorageAccountAlreadyExists``, ``AccountNameInvalid``,
``InvalidResourceLocation``). Deviations are listed in ``docs/compatibility.md`` (resource groups and
storage accounts) and in the docstrings below.
"""

from __future__ import annotations

import base64
import copy
import os
import re
import shutil
import sqlite3
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set, Tuple

from batchai_compat import _home
from batchai_compat.backends.base import Body, Operation, OperationState, WorkspaceRef, completed, polled
from batchai_compat.backends.errors import Conflict, InvalidInput, NotFound

_TABLES = (
    """CREATE TABLE IF NOT EXISTS arm_resource_groups (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,            -- lower-cased ARM id of the group
        sub TEXT NOT NULL,                   -- lower-cased subscription id, for list
        body TEXT NOT NULL                   -- REST body
    )""",
    """CREATE TABLE IF NOT EXISTS arm_storage_accounts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,           -- account name (globally unique, lower case)
        sub TEXT NOT NULL, rg TEXT NOT NULL, -- lower-cased, for list filters and group deletion
        keys TEXT NOT NULL,                  -- JSON [key1, key2] (secret; never in body)
        body TEXT NOT NULL                   -- REST body
    )""",
)

_READY: Set[Tuple[int, str]] = set()  # (pid, database) whose tables exist

STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
KEY_NAMES = ("key1", "key2")
# Where a local account's endpoints point: loopback, path-style (http://127.0.0.1:<port>/<account>/),
# blob/queue/table on the ports of the Azure Storage emulator (Azurite), file on 10004 (the emulator
# had no file service). Nothing batchai_compat starts listens there; the point is that no URL handed
# out by the local backend names a host on the Internet, and that a job mount given
# primaryEndpoints.file + share finds the share (backends/local/mounts.py).
ENDPOINT_PORTS = {"blob": 10000, "queue": 10001, "table": 10002, "file": 10004}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _location(value: str) -> str:
    """ARM's normalized location name: ``"West US"`` -> ``"westus"``."""
    return value.replace(" ", "").lower()


def group_id(sub: str, group: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}"


def _group_not_found(group: str) -> NotFound:
    return NotFound("ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


def _account_not_found(group: str, name: str) -> NotFound:
    return NotFound("ResourceNotFound",
                    f"The Resource '{STORAGE_TYPE}/{name}' under resource group '{group}' was not found.")


def invalid_name_message(name: str) -> str:
    return (f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
            "characters in length and use numbers and lower-case letters only.")


def endpoints(name: str) -> Dict[str, str]:
    """The account's ``primaryEndpoints``: loopback, path-style (see :data:`ENDPOINT_PORTS`)."""
    return {service: f"http://127.0.0.1:{port}/{name}/" for service, port in ENDPOINT_PORTS.items()}


def _new_key() -> str:
    """64 random bytes, base64: the shape of an Azure storage account key (88 characters)."""
    return base64.b64encode(os.urandom(64)).decode("ascii")


class ArmState:
    """The resource groups and storage accounts of one home (``BATCHAI_COMPAT_HOME``)."""

    def __init__(self, home: Optional[Any] = None) -> None:
        from batchai_compat.backends.local.store import Store

        self.home = _home.compat_home(home).resolve()
        # One Store per process and database, as the local backend's (see store.py: locks survive).
        self.store = Store.shared(self.home / "state.db")
        key = (os.getpid(), str(self.store.path))
        if key not in _READY:
            with self.store.write() as conn:
                for statement in _TABLES:
                    conn.execute(statement)
            _READY.add(key)

    def close(self) -> None:
        self.store.close()

    # -- resource groups -----------------------------------------------------------------------
    def _group_row(self, conn: sqlite3.Connection, sub: str, group: str) -> Optional[sqlite3.Row]:
        return conn.execute("SELECT * FROM arm_resource_groups WHERE key=?",
                            (group_id(sub, group).lower(),)).fetchone()

    def _group(self, conn: sqlite3.Connection, sub: str, group: str) -> Body:
        from batchai_compat.backends.local.store import loads

        row = self._group_row(conn, sub, group)
        if row is None:
            raise _group_not_found(group)
        body: Body = loads(row["body"])
        return body

    def create_or_update_group(self, sub: str, group: str, params: Body) -> Tuple[Body, bool]:
        """Create the group, or update its tags and ``managedBy``; ``(body, created)``.

        The location cannot change (409 ``InvalidResourceGroupLocation``, as ARM answered).
        Deviation: any location name is accepted (ARM refused names that are not Azure regions).
        """
        from batchai_compat.backends.local.store import dumps, loads

        location = _location(str(params["location"]))
        with self.store.write() as conn:
            row = self._group_row(conn, sub, group)
            if row is not None:
                body: Body = loads(row["body"])
                if body["location"] != location:
                    raise Conflict("InvalidResourceGroupLocation",
                                   f"Invalid resource group location '{params['location']}'. The Resource group "
                                   f"already exists in location '{body['location']}'.")
                for key in ("tags", "managedBy"):
                    if key in params:
                        body[key] = copy.deepcopy(params[key])
                conn.execute("UPDATE arm_resource_groups SET body=? WHERE key=?", (dumps(body), row["key"]))
                return body, False
            body = {"id": group_id(sub, group), "name": group, "location": location,
                    "properties": {"provisioningState": "Succeeded"}}
            for key in ("tags", "managedBy"):
                if params.get(key) is not None:
                    body[key] = copy.deepcopy(params[key])
            conn.execute("INSERT INTO arm_resource_groups(key, sub, body) VALUES (?,?,?)",
                         (group_id(sub, group).lower(), sub.lower(), dumps(body)))
            return body, True

    def update_group(self, sub: str, group: str, params: Body) -> Body:
        from batchai_compat.backends.local.store import dumps

        with self.store.write() as conn:
            body = self._group(conn, sub, group)
            for key in ("tags", "managedBy"):
                if params.get(key) is not None:
                    body[key] = copy.deepcopy(params[key])
            conn.execute("UPDATE arm_resource_groups SET body=? WHERE key=?", (dumps(body), body["id"].lower()))
        return body

    def get_group(self, sub: str, group: str) -> Body:
        with self.store.read() as conn:
            return self._group(conn, sub, group)

    def group_exists(self, sub: str, group: str) -> bool:
        with self.store.read() as conn:
            return self._group_row(conn, sub, group) is not None

    def list_groups(self, sub: str) -> List[Body]:
        from batchai_compat.backends.local.store import loads

        with self.store.read() as conn:
            rows = conn.execute("SELECT body FROM arm_resource_groups WHERE sub=? ORDER BY seq",
                                (sub.lower(),)).fetchall()
        return [loads(r["body"]) for r in rows]

    def delete_group(self, sub: str, group: str) -> Operation:
        """Delete the group and everything in it: its Batch AI workspaces (with their clusters, file
        servers, experiments and jobs, whose processes are stopped) and its storage accounts (with
        their data).

        Deviations: the group and its resources are gone as soon as ``delete`` returns (ARM showed
        ``provisioningState: Deleting`` for minutes); the poller then waits only for the stopped job
        processes, so ``polling=False`` or a poller never waited on loses nothing. Only the resources
        batchai_compat keeps are deleted; a Batch AI workspace is found by its resource group name
        even when the group was never created here (the local backend accepts any group name in
        Batch AI calls).
        """
        from batchai_compat.backends.local import LocalBackend

        with self.store.read() as conn:
            self._group(conn, sub, group)
        backend = LocalBackend(home=self.home)
        operations: List[Operation] = []
        continuation: Optional[str] = None
        while True:  # each workspace deletion is its own transaction, as workspaces.delete is
            page = backend.list_workspaces(sub, group, 1000, continuation)
            for ws in page.value:
                operations.append(backend.delete_workspace(WorkspaceRef(sub, group, ws["name"])))
            continuation = page.next_link
            if not continuation:
                break
        with self.store.write() as conn:
            accounts = [r["name"] for r in conn.execute(
                "SELECT name FROM arm_storage_accounts WHERE sub=? AND rg=?", (sub.lower(), group.lower()))]
            conn.execute("DELETE FROM arm_storage_accounts WHERE sub=? AND rg=?", (sub.lower(), group.lower()))
            conn.execute("DELETE FROM arm_resource_groups WHERE key=?", (group_id(sub, group).lower(),))
        for name in accounts:
            self._remove_account_data(name)
        pending = list(operations)

        def poll() -> OperationState:
            nonlocal pending
            still = []
            for operation in pending:
                state = operation.poll()
                if state.status == "Failed":
                    return state
                if not state.done:
                    still.append(operation)
            pending = still
            return OperationState("InProgress" if pending else "Succeeded")

        first = poll()
        if first.status == "Succeeded":
            return completed(None, accepted=True)
        return polled(lambda: first) if first.status == "Failed" else polled(poll, delay=0.05)

    # -- storage accounts ----------------------------------------------------------------------
    def _remove_account_data(self, name: str) -> None:
        try:
            root = _home.storage_root(self.home) / name.lower()
        except ValueError:
            return
        shutil.rmtree(root, ignore_errors=True)

    def _check_name(self, name: str) -> None:
        if not ACCOUNT_NAME.match(name):
            raise InvalidInput("AccountNameInvalid", invalid_name_message(name))

    def create_account(self, sub: str, group: str, name: str, params: Body) -> Body:
        """Create the account or, when it already exists in this group, update it (tags, SKU,
        access tier, HTTPS-only, network rules, encryption, custom domain), as a repeated PUT did.

        Errors as the service answered them: ``AccountNameInvalid`` (400), ``ResourceGroupNotFound``
        (404), ``StorageAccountAlreadyExists`` (409, another group of this subscription),
        ``StorageAccountAlreadyTaken`` (409, another subscription), ``InvalidResourceLocation`` (409).
        Deviations: ``provisioningState`` is ``Succeeded`` at once; no secondary location or
        endpoints for geo-redundant SKUs; endpoints are loopback URLs (:func:`endpoints`).
        """
        from batchai_compat.backends.local.store import dumps, loads

        self._check_name(name)
        location = _location(str(params["location"]))
        with self.store.write() as conn:
            self._group(conn, sub, group)
            row = conn.execute("SELECT * FROM arm_storage_accounts WHERE name=?", (name,)).fetchone()
            if row is not None:
                if row["sub"] != sub.lower():
                    raise Conflict("StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
                if row["rg"] != group.lower():
                    raise Conflict("StorageAccountAlreadyExists",
                                   f"The storage account named {name} already exists under the subscription.")
                body: Body = loads(row["body"])
                if body["location"] != location:
                    raise Conflict("InvalidResourceLocation",
                                   f"The resource '{name}' already exists in location '{body['location']}' in "
                                   f"resource group '{body['id'].split('/')[4]}'. A resource with the same name "
                                   f"cannot be created in location '{location}'. Please select a new resource name.")
                _apply_account_changes(body, params)
                conn.execute("UPDATE arm_storage_accounts SET body=? WHERE name=?", (dumps(body), name))
                return body
            created = _now()
            props = params.get("properties") or {}
            kind = params.get("kind") or "Storage"
            body = {
                "id": f"{group_id(sub, group)}/providers/{STORAGE_TYPE}/{name}",
                "name": name,
                "type": STORAGE_TYPE,
                "location": location,
                "tags": copy.deepcopy(params.get("tags") or {}),
                "sku": {"name": params["sku"]["name"], "tier": _tier(params["sku"]["name"])},
                "kind": kind,
                "properties": {
                    "provisioningState": "Succeeded",
                    "primaryEndpoints": endpoints(name),
                    "primaryLocation": location,
                    "statusOfPrimary": "available",
                    "creationTime": created,
                    "encryption": props.get("encryption") or {
                        "services": {"blob": {"enabled": True, "lastEnabledTime": created},
                                     "file": {"enabled": True, "lastEnabledTime": created}},
                        "keySource": "Microsoft.Storage"},
                    "supportsHttpsTrafficOnly": bool(props.get("supportsHttpsTrafficOnly", False)),
                    "networkAcls": props.get("networkAcls") or {"bypass": "AzureServices", "virtualNetworkRules": [],
                                                                "ipRules": [], "defaultAction": "Allow"},
                },
            }
            if params.get("identity"):
                body["identity"] = {"type": "SystemAssigned", "principalId": _uuid(), "tenantId": _uuid()}
            if kind in ("BlobStorage", "StorageV2"):
                body["properties"]["accessTier"] = props.get("accessTier") or "Hot"
            if props.get("customDomain"):
                body["properties"]["customDomain"] = copy.deepcopy(props["customDomain"])
            if props.get("isHnsEnabled"):
                body["properties"]["isHnsEnabled"] = True
            keys = [_new_key(), _new_key()]
            conn.execute("INSERT INTO arm_storage_accounts(name, sub, rg, keys, body) VALUES (?,?,?,?,?)",
                         (name, sub.lower(), group.lower(), dumps(keys), dumps(body)))
        (_home.storage_root(self.home) / name).mkdir(mode=0o700, parents=True, exist_ok=True)
        return body

    def _account_row(self, conn: sqlite3.Connection, sub: str, group: str, name: str) -> sqlite3.Row:
        self._group(conn, sub, group)
        row = conn.execute("SELECT * FROM arm_storage_accounts WHERE name=? AND sub=? AND rg=?",
                           (name.lower(), sub.lower(), group.lower())).fetchone()
        if row is None:
            raise _account_not_found(group, name)
        return row

    def get_account(self, sub: str, group: str, name: str) -> Body:
        from batchai_compat.backends.local.store import loads

        with self.store.read() as conn:
            body: Body = loads(self._account_row(conn, sub, group, name)["body"])
        return body

    def update_account(self, sub: str, group: str, name: str, params: Body) -> Body:
        from batchai_compat.backends.local.store import dumps, loads

        with self.store.write() as conn:
            row = self._account_row(conn, sub, group, name)
            body: Body = loads(row["body"])
            _apply_account_changes(body, params)
            conn.execute("UPDATE arm_storage_accounts SET body=? WHERE name=?", (dumps(body), row["name"]))
        return body

    def list_accounts(self, sub: str, group: Optional[str] = None) -> List[Body]:
        from batchai_compat.backends.local.store import loads

        with self.store.read() as conn:
            if group is None:
                rows = conn.execute("SELECT body FROM arm_storage_accounts WHERE sub=? ORDER BY seq",
                                    (sub.lower(),)).fetchall()
            else:
                self._group(conn, sub, group)
                rows = conn.execute("SELECT body FROM arm_storage_accounts WHERE sub=? AND rg=? ORDER BY seq",
                                    (sub.lower(), group.lower())).fetchall()
        return [loads(r["body"]) for r in rows]

    def list_keys(self, sub: str, group: str, name: str) -> Body:
        from batchai_compat.backends.local.store import loads

        with self.store.read() as conn:
            keys = loads(self._account_row(conn, sub, group, name)["keys"])
        return _keys_body(keys)

    def regenerate_key(self, sub: str, group: str, name: str, key_name: str) -> Body:
        """A new random value for ``key1`` or ``key2`` (any other name: 400, code ours)."""
        from batchai_compat.backends.local.store import dumps, loads

        if key_name not in KEY_NAMES:
            raise InvalidInput("InvalidValuesForRequestParameters",
                               f"Values for request parameters are invalid: keyName ({key_name!r}; expected key1 or "
                               "key2).")
        with self.store.write() as conn:
            row = self._account_row(conn, sub, group, name)
            keys = loads(row["keys"])
            keys[KEY_NAMES.index(key_name)] = _new_key()
            conn.execute("UPDATE arm_storage_accounts SET keys=? WHERE name=?", (dumps(keys), row["name"]))
        return _keys_body(keys)

    def delete_account(self, sub: str, group: str, name: str) -> None:
        """Delete the account and its data; a missing account is not an error (the service's 204)."""
        with self.store.write() as conn:
            self._group(conn, sub, group)
            row = conn.execute("SELECT name FROM arm_storage_accounts WHERE name=? AND sub=? AND rg=?",
                               (name.lower(), sub.lower(), group.lower())).fetchone()
            if row is None:
                return
            conn.execute("DELETE FROM arm_storage_accounts WHERE name=?", (row["name"],))
        self._remove_account_data(row["name"])

    def check_name(self, name: str) -> Body:
        if not ACCOUNT_NAME.match(name):
            return {"nameAvailable": False, "reason": "AccountNameInvalid", "message": invalid_name_message(name)}
        with self.store.read() as conn:
            taken = conn.execute("SELECT 1 FROM arm_storage_accounts WHERE name=?", (name,)).fetchone()
        if taken:
            return {"nameAvailable": False, "reason": "AlreadyExists",
                    "message": f"The storage account named {name} is already taken."}
        return {"nameAvailable": True}


def _keys_body(keys: List[str]) -> Body:
    return {"keys": [{"keyName": n, "value": v, "permissions": "Full"} for n, v in zip(KEY_NAMES, keys)]}


def _tier(sku: str) -> str:
    return "Premium" if sku.lower().startswith("premium") else "Standard"


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def _apply_account_changes(body: Body, params: Body) -> None:
    props = params.get("properties") or {}
    if params.get("tags") is not None:
        body["tags"] = copy.deepcopy(params["tags"])
    if (params.get("sku") or {}).get("name"):
        body["sku"] = {"name": params["sku"]["name"], "tier": _tier(params["sku"]["name"])}
    if params.get("kind"):
        body["kind"] = params["kind"]
    if params.get("identity"):
        body.setdefault("identity", {"type": "SystemAssigned", "principalId": _uuid(), "tenantId": _uuid()})
    mapping = {"accessTier": "accessTier", "supportsHttpsTrafficOnly": "supportsHttpsTrafficOnly",
               "networkAcls": "networkAcls", "encryption": "encryption", "customDomain": "customDomain"}
    for key, target in mapping.items():
        if props.get(key) is not None:
            body["properties"][target] = copy.deepcopy(props[key])


__all__ = ["ArmState", "endpoints", "group_id"]
