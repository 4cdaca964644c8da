"""Fuzz suite: every operation's parameters, differentially against azure-mgmt-batchai 2.0.0 itself.

What users rely on (issue 11 item 9): bad input gets the error the original SDK raised - msrest's
``ValidationError``, ``SerializationError``, ``TypeError`` and so on, *before* any request - or, when
the original would have sent the request, the service's ``CloudError``; never an internal error
(``AttributeError``, ``OSError: File name too long``, a ``TypeError`` from path arithmetic), and a
failed call leaves nothing behind (the state database and the home are compared before and after).

The oracle is the installed 2.0.0 client pointed at a closed port on 127.0.0.1 (no retries): an
exception other than ``ClientRequestError`` is what it raised before sending anything. Every example
calls both with the same names, the same body (a dict: both accept dicts) and options built from the
same keyword arguments with each library's own model class.

No example starts a process: job creation names a cluster that does not exist, cluster bodies keep a
target of 0 nodes and no setup task. ``max_examples`` comes from ``scale()`` (several thousand in all
in ``make test``; ``BATCHAI_COMPAT_LONG=1`` for 10k+); ``derandomize=True`` keeps CI reproducible.
"""

from __future__ import annotations

import copy
import os
import socket
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msrest.exceptions import ClientRequestError
from msrestazure.azure_exceptions import CloudError

import batchai_compat.models as our_models
from batchai_compat import BatchAIManagementClient
from tests.contract.helpers import EXP, LOCATION, RG, SUB, WS
from tests.reliability.conftest import scale

# -- the two clients -------------------------------------------------------------------------------


class _Credentials:
    def signed_session(self, session: Any = None) -> Any:  # pragma: no cover - never called locally
        return session


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _oracle_client(subscription: Any = SUB) -> Any:
    from azure.mgmt.batchai import BatchAIManagementClient as Original
    from msrest.authentication import BasicTokenAuthentication

    client = Original(BasicTokenAuthentication({"access_token": "x"}), subscription,
                      base_url=f"http://127.0.0.1:{_closed_port()}")
    client.config.retry_policy.retries = 0
    return client


class World:
    """Our client on a home holding one of everything (a 0-node cluster), and the oracle."""

    def __init__(self, home: Path) -> None:
        import azure.mgmt.batchai.models as oracle_models

        self.home = home
        self.ours = BatchAIManagementClient(_Credentials(), SUB, home=str(home))
        self.oracle = _oracle_client()
        self.models = {"ours": our_models, "oracle": oracle_models}
        self.ours.workspaces.create(RG, WS, LOCATION).result()
        self.ours.experiments.create(RG, WS, EXP).result()
        self.ours.file_servers.create(RG, WS, "fs", FILE_SERVER).result()
        cluster = self.ours.clusters.create(RG, WS, "cl", CLUSTER).result()
        # Queued for good on the 0-node cluster: output listings reach the job, nothing starts.
        self.ours.jobs.create(RG, WS, EXP, "job", dict(JOB, cluster={"id": cluster.id})).result()
        self.outcomes: Counter = Counter()

    def close(self) -> None:
        self.ours.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = tmp_path_factory.mktemp("fuzz") / "home"
    home.mkdir(mode=0o700)
    old = os.environ.get("BATCHAI_COMPAT_HOME")
    os.environ["BATCHAI_COMPAT_HOME"] = str(home)
    w = World(home)
    yield w
    print(f"\nfuzz outcomes: {dict(sorted(w.outcomes.items()))}")
    w.close()
    if old is None:
        os.environ.pop("BATCHAI_COMPAT_HOME", None)
    else:
        os.environ["BATCHAI_COMPAT_HOME"] = old


# -- state snapshots -------------------------------------------------------------------------------
def snapshot(world: World) -> Tuple[Any, Any]:
    """Every row of every table, and every path under the home but the database and ``run/``."""
    # Through the client's own connection: opening and closing another descriptor of state.db in
    # this process would drop the client's SQLite locks (POSIX record locks are per process).
    with world.ours.backend.store.read() as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        rows = {t: sorted(map(repr, map(tuple, db.execute(f"SELECT * FROM {t}").fetchall()))) for t in tables}
    paths = []
    for dirpath, dirnames, filenames in os.walk(world.home):
        rel = os.path.relpath(dirpath, world.home)
        if rel == "run" or rel.startswith("run" + os.sep):
            continue
        paths.extend(os.path.join(rel, n) for n in dirnames + filenames if not n.startswith("state.db"))
    return rows, sorted(paths)


# -- strategies ------------------------------------------------------------------------------------
FILE_SERVER: Dict[str, Any] = {
    "vm_size": "STANDARD_D1",
    "ssh_configuration": {"user_account_settings": {"admin_user_name": "demoUser", "admin_user_password": "Pa$$"}},
    "data_disks": {"disk_size_in_gb": 10, "disk_count": 1, "storage_account_type": "Standard_LRS"},
}
CLUSTER: Dict[str, Any] = {
    "vm_size": "STANDARD_D1",
    "vm_priority": "lowpriority",
    "scale_settings": {"manual": {"target_node_count": 0}},
    "user_account_settings": {"admin_user_name": "demoUser", "admin_user_password": "Pa$$"},
    "node_setup": {"mount_volumes": {"azure_file_shares": [{
        "account_name": "teststorage", "azure_file_url": "https://teststorage.file.core.windows.net/share",
        "credentials": {"account_key": "a2V5"}, "relative_mount_path": "azfiles"}]}},
}
MISSING_CLUSTER = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.BatchAI/workspaces/{WS}/clusters/none"
JOB: Dict[str, Any] = {
    "cluster": {"id": MISSING_CLUSTER},
    "node_count": 1,
    "std_out_err_path_prefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles",
    "output_directories": [{"id": "OUTPUTS", "path_prefix": "$AZ_BATCHAI_MOUNT_ROOT/azfiles", "path_suffix": "f"}],
    "custom_toolkit_settings": {"command_line": "true"},
    "environment_variables": [{"name": "A", "value": "1"}],
    "constraints": {"max_wall_clock_time": "PT1H"},
}
WORKSPACE_UPDATE: Dict[str, Any] = {"tags": {"k": "v"}}

BAD_STRINGS = ["..", ".", "../..", "../../outside/x", "/", "a/b", "\\", "\x00", "a\x00b", "a\n", "a.", "x" * 65,
               "x" * 91, "x" * 300, "ünïcødé", "名前", "", " ", "%2e%2e", "$", "(x)", "-", "_"]
VALID = [RG, WS, EXP, "fs", "cl", "job", "OUTPUTS", "stdouterr"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), st.sampled_from(BAD_STRINGS),
    st.binary(max_size=8),
)
json_like = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                         max_leaves=6)
_bad_names = st.one_of(st.sampled_from(VALID), st.sampled_from(BAD_STRINGS), st.text(max_size=70), st.integers(),
                       st.none(), st.floats(allow_nan=False), st.binary(max_size=6),
                       st.lists(st.text(max_size=3), max_size=2), st.booleans())


def name(valid: str) -> st.SearchStrategy:
    """The world's own name three times in four, so bodies and options get past the names to the
    service's checks; anything at all otherwise."""
    return st.tuples(st.sampled_from(range(4)), _bad_names).map(lambda pick: valid if pick[0] else pick[1])


names = name(RG)
_DELETE = object()


def _leaf_paths(value: Any, prefix: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _leaf_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _leaf_paths(item, prefix + (index,))
    return paths


def _replace(body: Any, path: Tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    body = copy.deepcopy(body)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return body


def mutated(valid: Dict[str, Any], keep: Tuple[str, ...] = ()) -> st.SearchStrategy:
    """``valid`` with up to three parts replaced by arbitrary values or removed (never under ``keep``),
    or an arbitrary value instead of the body."""
    paths = [p for p in _leaf_paths(valid) if p and p[0] not in keep]

    def apply(edits: List[Tuple[Tuple[Any, ...], Any]]) -> Any:
        body = valid
        for path, value in edits:
            try:
                body = _replace(body, path, value)
            except (KeyError, IndexError, TypeError):
                pass
        return body

    edits = st.lists(st.tuples(st.sampled_from(paths), st.one_of(json_like, st.just(_DELETE))), max_size=3)
    return st.one_of(edits.map(apply), json_like, st.just(valid))


_option_values = st.one_of(scalars, st.sampled_from(["stdouterr", "OUTPUTS", ".", "..", "/etc", "a/../.."]),
                           st.integers(0, 2000))
options_kwargs = st.fixed_dictionaries(
    {"outputdirectoryid": st.tuples(st.sampled_from(range(3)), _option_values).map(
        lambda pick: ("stdouterr", "OUTPUTS")[pick[0]] if pick[0] < 2 else pick[1])},
    optional={"directory": _option_values, "linkexpiryinminutes": _option_values, "max_results": _option_values},
)
list_kwargs = st.dictionaries(st.just("max_results"), st.one_of(scalars, st.integers(-5, 2000)), max_size=1)


# -- operations --------------------------------------------------------------------------------------
Call = Callable[[Any, Any, Dict[str, Any]], Any]


def _opts(models: Any, cls: str, kwargs: Optional[Dict[str, Any]]) -> Any:
    return None if kwargs is None else getattr(models, cls)(**kwargs)


OPERATIONS: Dict[str, Tuple[Call, Dict[str, st.SearchStrategy]]] = {
    "workspaces.create": (lambda c, m, a: c.workspaces.create(a["rg"], a["ws"], a["body"]),
                          {"rg": name(RG), "ws": name(WS), "body": st.one_of(st.sampled_from([LOCATION, "eastus"]),
                                                                       json_like)}),
    "workspaces.update": (lambda c, m, a: c.workspaces.update(a["rg"], a["ws"], tags=a["body"]),
                          {"rg": name(RG), "ws": name(WS), "body": json_like}),
    "workspaces.get": (lambda c, m, a: c.workspaces.get(a["rg"], a["ws"]), {"rg": name(RG), "ws": name(WS)}),
    "workspaces.delete": (lambda c, m, a: c.workspaces.delete(a["rg"], _other(a["ws"], WS)),
                          {"rg": name(RG), "ws": name(WS)}),
    "workspaces.list_by_resource_group": (
        lambda c, m, a: c.workspaces.list_by_resource_group(
            a["rg"], _opts(m, "WorkspacesListByResourceGroupOptions", a["opts"])),
        {"rg": name(RG), "opts": st.one_of(st.none(), list_kwargs)}),
    "experiments.create": (lambda c, m, a: c.experiments.create(a["rg"], a["ws"], a["exp"]),
                           {"rg": name(RG), "ws": name(WS), "exp": name(EXP)}),
    "experiments.get": (lambda c, m, a: c.experiments.get(a["rg"], a["ws"], a["exp"]),
                        {"rg": name(RG), "ws": name(WS), "exp": name(EXP)}),
    "experiments.list_by_workspace": (
        lambda c, m, a: c.experiments.list_by_workspace(
            a["rg"], a["ws"], _opts(m, "ExperimentsListByWorkspaceOptions", a["opts"])),
        {"rg": name(RG), "ws": name(WS), "opts": st.one_of(st.none(), list_kwargs)}),
    "file_servers.create": (lambda c, m, a: c.file_servers.create(a["rg"], a["ws"], a["fs"], a["body"]),
                            {"rg": name(RG), "ws": name(WS), "fs": name("fs"), "body": mutated(FILE_SERVER)}),
    "file_servers.get": (lambda c, m, a: c.file_servers.get(a["rg"], a["ws"], a["fs"]),
                         {"rg": name(RG), "ws": name(WS), "fs": name("fs")}),
    "clusters.create": (lambda c, m, a: c.clusters.create(a["rg"], a["ws"], a["cl"], a["body"]),
                        {"rg": name(RG), "ws": name(WS), "cl": name("cl"),
                         "body": mutated(CLUSTER, keep=("scale_settings", "node_setup"))}),
    "clusters.update": (lambda c, m, a: c.clusters.update(a["rg"], a["ws"], _other(a["cl"], "cl"),
                                                          scale_settings=a["body"]),
                        {"rg": name(RG), "ws": name(WS), "cl": name("cl"), "body": json_like}),
    "clusters.get": (lambda c, m, a: c.clusters.get(a["rg"], a["ws"], a["cl"]),
                     {"rg": name(RG), "ws": name(WS), "cl": name("cl")}),
    "clusters.list_by_workspace": (
        lambda c, m, a: c.clusters.list_by_workspace(a["rg"], a["ws"], _opts(m, "ClustersListByWorkspaceOptions",
                                                                             a["opts"])),
        {"rg": name(RG), "ws": name(WS), "opts": st.one_of(st.none(), list_kwargs)}),
    "jobs.create": (lambda c, m, a: c.jobs.create(a["rg"], a["ws"], a["exp"], a["job"], a["body"]),
                    {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "job": name("job"),
                     "body": mutated(JOB, keep=("cluster",))}),
    "jobs.get": (lambda c, m, a: c.jobs.get(a["rg"], a["ws"], a["exp"], a["job"]),
                 {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "job": name("job")}),
    "jobs.list_output_files": (
        lambda c, m, a: c.jobs.list_output_files(a["rg"], a["ws"], a["exp"], a["job"],
                                                 _opts(m, "JobsListOutputFilesOptions", a["opts"])),
        {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "job": name("job"), "opts": options_kwargs}),
    "jobs.list_by_experiment": (
        lambda c, m, a: c.jobs.list_by_experiment(a["rg"], a["ws"], a["exp"], _opts(m, "JobsListByExperimentOptions",
                                                                                     a["opts"])),
        {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "opts": st.one_of(st.none(), list_kwargs)}),
    "usages.list": (lambda c, m, a: c.usages.list(a["location"]), {"location": name(LOCATION)}),
    "workspaces.list": (lambda c, m, a: c.workspaces.list(_opts(m, "WorkspacesListOptions", a["opts"])),
                        {"opts": st.one_of(st.none(), list_kwargs)}),
    # Deletes never name the world's own resources (they would be gone for the next example).
    "file_servers.delete": (lambda c, m, a: c.file_servers.delete(a["rg"], a["ws"], _other(a["fs"], "fs")),
                            {"rg": name(RG), "ws": name(WS), "fs": name("fs")}),
    "file_servers.list_by_workspace": (
        lambda c, m, a: c.file_servers.list_by_workspace(a["rg"], a["ws"], _opts(
            m, "FileServersListByWorkspaceOptions", a["opts"])),
        {"rg": name(RG), "ws": name(WS), "opts": st.one_of(st.none(), list_kwargs)}),
    "clusters.delete": (lambda c, m, a: c.clusters.delete(a["rg"], a["ws"], _other(a["cl"], "cl")),
                        {"rg": name(RG), "ws": name(WS), "cl": name("cl")}),
    "clusters.list_remote_login_information": (
        lambda c, m, a: c.clusters.list_remote_login_information(a["rg"], a["ws"], a["cl"]),
        {"rg": name(RG), "ws": name(WS), "cl": name("cl")}),
    "experiments.delete": (lambda c, m, a: c.experiments.delete(a["rg"], a["ws"], _other(a["exp"], EXP)),
                           {"rg": name(RG), "ws": name(WS), "exp": name(EXP)}),
    "jobs.delete": (lambda c, m, a: c.jobs.delete(a["rg"], a["ws"], a["exp"], _other(a["job"], "job")),
                    {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "job": name("job")}),
    "jobs.terminate": (lambda c, m, a: c.jobs.terminate(a["rg"], a["ws"], a["exp"], _other(a["job"], "job")),
                       {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "job": name("job")}),
    "jobs.list_remote_login_information": (
        lambda c, m, a: c.jobs.list_remote_login_information(a["rg"], a["ws"], a["exp"], a["job"]),
        {"rg": name(RG), "ws": name(WS), "exp": name(EXP), "job": name("job")}),
}


def _other(name: Any, kept: str) -> Any:
    return name + "-other" if isinstance(name, str) and name.lower() == kept.lower() else name


def _drive(result: Any) -> Any:
    """Run an operation to its end: poll a poller, iterate a page iterator."""
    if hasattr(result, "result") and hasattr(result, "done"):
        return result.result(timeout=30)
    if hasattr(result, "advance_page") or (hasattr(result, "__iter__") and hasattr(result, "next")):
        return list(result)
    return result


def _outcome(call: Callable[[], Any]) -> Optional[BaseException]:
    try:
        _drive(call())
    except Exception as exc:  # noqa: BLE001 - compared by the caller
        return exc
    return None


def check(world: World, operation: str, args: Dict[str, Any]) -> str:
    """One example: the oracle's outcome, ours, and the state around a failure."""
    call, _ = OPERATIONS[operation]
    expected = _outcome(lambda: call(world.oracle, world.models["oracle"], args))
    before = snapshot(world)
    got = _outcome(lambda: call(world.ours, world.models["ours"], args))
    if expected is None or isinstance(expected, ClientRequestError):
        # The original sent the request: the service answered, with a result or a CloudError.
        assert got is None or isinstance(got, CloudError), f"{operation}{args!r}: {got!r} (original sent it)"
        label = "sent/ok" if got is None else f"sent/CloudError {got.error.error}"
    else:
        assert type(got) is type(expected), (
            f"{operation}{args!r}: original raised {expected!r} before sending, ours {got!r}")
        label = f"refused/{type(got).__name__}"
    if got is not None:
        assert snapshot(world) == before, f"{operation}{args!r} failed with {got!r} but left state behind"
    world.outcomes[label] += 1
    return label


EXAMPLES = scale(150, 800)  # per operation: 30 operations -> 4,500 examples in make test, 24,000 long


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_operation_parameters(world: World, operation: str) -> None:
    _, strategies = OPERATIONS[operation]
    seen: Counter = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.fixed_dictionaries(strategies))
    def run(args: Dict[str, Any]) -> None:
        seen[check(world, operation, args)] += 1

    run()
    print(f"\nfuzz {operation}: {sum(seen.values())} examples, {dict(seen)}")


# -- issue 11 item 9: the reported cases, one by one ----------------------------------------------------
@pytest.mark.parametrize("operation, args", [
    ("workspaces.create", {"rg": 600, "ws": "ws600", "body": LOCATION}),
    ("file_servers.create", {"rg": 0, "ws": WS, "fs": "fs0", "body": FILE_SERVER}),
    ("file_servers.create", {"rg": "r" * 300, "ws": WS, "fs": "fs", "body": FILE_SERVER}),
    ("workspaces.create", {"rg": "r" * 300, "ws": WS, "body": LOCATION}),
    ("jobs.list_output_files", {"rg": RG, "ws": WS, "exp": EXP, "job": "job", "opts": {"outputdirectoryid": 0}}),
    ("workspaces.list_by_resource_group", {"rg": 600, "opts": None}),
])
def test_reported_bad_input(world: World, operation: str, args: Dict[str, Any]) -> None:
    label = check(world, operation, args)
    assert label.startswith("sent/"), label


def test_numbers_as_names_address_the_resource_the_original_addressed(world: World) -> None:
    """``workspaces.create(600, ...)``: 2.0.0 put ``str(600)`` in the URL; the resource group is ``"600"``."""
    world.ours.workspaces.create(600, 601, LOCATION).result()
    workspace = world.ours.workspaces.get("600", "601")
    assert workspace.id.endswith("/resourceGroups/600/providers/Microsoft.BatchAI/workspaces/601")
    world.ours.file_servers.create(600, 601, 0, FILE_SERVER).result()
    assert world.ours.file_servers.get("600", "601", "0").name == "0"
    world.ours.workspaces.delete(600, 601).result()


def test_output_directory_id_zero_on_an_existing_job_is_the_services_404(world: World) -> None:
    """2.0.0 sent ``outputdirectoryid=0`` as the id ``"0"``; on a job that exists (queued on the 0-node
    cluster: nothing starts) the service answered ``OutputDirectoryNotFound``, not an AttributeError."""
    cluster = world.ours.clusters.get(RG, WS, "cl")
    body = dict(JOB, cluster={"id": cluster.id})
    world.ours.jobs.create(RG, WS, EXP, "queued", body).result()
    assert world.ours.jobs.get(RG, WS, EXP, "queued").execution_state == "queued"
    for bad in (0, 1.5, True):
        with pytest.raises(CloudError) as err:
            list(world.ours.jobs.list_output_files(RG, WS, EXP, "queued",
                                                   our_models.JobsListOutputFilesOptions(outputdirectoryid=bad)))
        assert err.value.error.error == "OutputDirectoryNotFound"
    args = {"rg": RG, "ws": WS, "exp": EXP, "job": "queued", "opts": {"outputdirectoryid": 0, "directory": 0}}
    assert check(world, "jobs.list_output_files", args).startswith("sent/CloudError")
    world.ours.jobs.delete(RG, WS, EXP, "queued").result()


def test_a_300_character_resource_group_is_the_services_404_not_an_oserror(world: World) -> None:
    """2.0.0 sent it; ARM knows no such group (1-90 characters). The local backend used to accept the
    workspace and then fail the file server with ``OSError: File name too long``."""
    long_group = "r" * 300
    for call in (lambda: world.ours.workspaces.create(long_group, WS, LOCATION).result(),
                 lambda: world.ours.file_servers.create(long_group, WS, "fs", FILE_SERVER).result(),
                 lambda: list(world.ours.workspaces.list_by_resource_group(long_group))):
        before = snapshot(world)
        with pytest.raises(CloudError) as err:
            call()
        assert err.value.error.error == "ResourceGroupNotFound" and err.value.status_code == 404
        assert snapshot(world) == before
