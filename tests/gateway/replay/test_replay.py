"""Replay of the Batch AI SDK's recorded live sessions against our REST gateway.

``recordings/`` holds VCR recordings the Azure SDK for Python team made against the live service
(api-version 2018-05-01; see ``SOURCE.md``). For each recording a fresh gateway (local backend, fast
options) gets every recorded request -- method, path, query and body -- in order, and each answer is
compared with the recorded one:

- the status code;
- the headers clients read: ``Azure-AsyncOperation`` and ``Location`` (present or not, and their URL
  layout), ``Retry-After`` (well-formed), ``Content-Type``;
- the body's shape (keys and JSON types, recursively) and the values clients branch on;
- state sequences: consecutive recorded GETs of one URL are a poll loop of the recorded test (an
  operation until ``Succeeded``, a job until ``failed``, a cluster until ``steady``...). We poll the same
  URL until our answer reaches the state the recorded loop ended in (generous timeout, never a timed
  assert), and the states we saw on the way must be a legal sequence of that state machine.

What is legitimately ours (ids, times, hosts, names drawn by the preparers...) is normalised in ONE
place, ``normalise.py`` (rules R1-R10). What the recorded session had outside Batch AI -- the workspace
and cluster the test preparers made, the storage share -- is created first, outside the count.
Recorded interactions that a local gateway cannot answer identically are in ``EXCLUSIONS`` with the
reason; every other difference fails the test. The counts (recordings, interactions replayed, matched,
excluded) are printed at the end of the run (``conftest.py``).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
import requests
import yaml

from tests.gateway.conftest import RunningGateway, start_gateway
from tests.gateway.replay import normalise
from tests.gateway.replay.conftest import TOTALS

RECORDINGS_DIR = Path(__file__).parent / "recordings"
RECORDINGS = sorted(RECORDINGS_DIR.glob("*.yaml"))
ARM_HOST = "management.azure.com"
API_VERSION = "2018-05-01"
POLL_TIMEOUT = 120.0  # a job or a node on a loaded 2-core machine; a wait, never an assert on time
POLL_INTERVAL = 0.1
ACCOUNT = "replaystorage"
ACCOUNT_KEY = "cmVwbGF5LWFjY291bnQta2V5"
ADMIN_PASSWORD = "Replay-Pa$$w0rd-never-echoed"

#: The local backend's fast options, as tests/contract configures them (node leave, auto-scale idle,
#: the "deleting" window), so that a replay takes seconds, not the live session's minutes.
FAST_OPTIONS = ("leave_seconds=0.3", "autoscale_idle_seconds=0.5", "delete_seconds=0.1")


@dataclass(frozen=True)
class Exclusion:
    """A recorded interaction the local gateway cannot answer identically, and why."""

    recording: str
    index: int
    reason: str


#: The ONE exclusion list. Interactions with a host other than ARM's (Azure Storage data-plane calls
#: the test made around Batch AI) are excluded by ``_excluded`` with their own reason.
EXCLUSIONS: Tuple[Exclusion, ...] = (
    Exclusion("test_mgmt_batchai_experiments.test_workspaces_isolation", 0,
              "recorded against a subscription ARM's front door did not know (404 SubscriptionNotFound, "
              "x-ms-failure-cause: gateway): the request never reached Batch AI. The gateway has no "
              "subscription registry: every subscription id is served."),
    Exclusion("test_mgmt_batchai_jobs.test_job_preparation_container", 1,
              "the live session re-ran against a job an earlier run of the test had left (creationTime 3 h before "
              "the session): the PUT of that existing, identical job answered 200 with it, still queued. A fresh "
              "gateway has no such job and creates it (202 + operation); the session's later answers match."),
    Exclusion("test_mgmt_batchai_jobs.test_job_level_mounting", 16,
              "blobfuse on the live nodes wrote a zero-length folder-marker blob 'bfs' (x-ms-meta-hdi_isfolder) "
              "beside the directory, so the service listed 'bfs' twice (a file and a directory); the local backend's "
              "container is a directory tree and lists the directory once. The marker's download (#17) has no twin."),
)
#: Azure Files REST calls of the test other than whole-file reads of what Batch AI wrote (share creation,
#: a ranged read of an empty file answered 416 InvalidRange) are not Batch AI's and have no local HTTP twin.
NON_ARM_REASON = ("an Azure Storage REST call the test made itself through azure-storage (not Batch AI, and no SAS "
                  "download URL a Batch AI answer handed out): batchai_compat.storage serves that API in-process, "
                  "not over HTTP; the storage the session needed is created beforehand with it")


@dataclass(frozen=True)
class Precondition:
    """What a recording's test preparers made outside the recording, beyond the defaults."""

    cluster_nodes: int = 1
    reason: str = ""


PRECONDITIONS: Dict[str, Precondition] = {
    "test_mgmt_batchai_jobs.test_queued_job_termination": Precondition(
        0, "the recorded job stays queued until it is terminated: the preparer's cluster had no nodes"),
}

# -- legal state sequences -----------------------------------------------------------------------
#: rank of each state: a legal sequence never goes back to a lower rank (docs/service-behaviour.md)
_RANKS: Dict[str, Dict[str, int]] = {
    "executionState": {"queued": 0, "running": 1, "terminating": 2, "succeeded": 3, "failed": 3},
    "status": {"InProgress": 0, "Succeeded": 1, "Failed": 1, "Canceled": 1},
    "provisioningState": {"creating": 0, "updating": 0, "succeeded": 1, "failed": 1, "deleting": 2},
    "allocationState": {"resizing": 0, "steady": 0},  # either way round: a resize goes steady -> resizing -> steady
}

State = Tuple[int, str, Optional[str]]
_WORKSPACE_RE = re.compile(r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.BatchAI/workspaces/[^/]+)",
                           re.IGNORECASE)
_EXPERIMENT_RE = re.compile(_WORKSPACE_RE.pattern[:-1] + r"/experiments/[^/]+)", re.IGNORECASE)


def _state(status: int, body: Any, operation: bool) -> State:
    """``(status code, state key, value)`` of an answer: what a recorded poll loop waited for."""
    if not isinstance(body, dict):
        return (status, "", None)
    if operation and "status" in body:
        return (status, "status", body.get("status"))
    props = body.get("properties")
    if isinstance(props, dict):
        for key in ("executionState", "allocationState", "provisioningState"):
            if key in props:
                return (status, key, props[key])
    error = body.get("error")
    if isinstance(error, dict):
        return (status, "error", error.get("code"))
    return (status, "", None)


def _illegal(sequence: List[State]) -> Optional[str]:
    """Why ``sequence`` (our answers to one poll loop) is not a legal state sequence, else None."""
    last_rank: Dict[str, int] = {}
    for index, (status, key, value) in enumerate(sequence):
        if status == 404 and index == len(sequence) - 1:
            continue  # gone at the end of a deletion
        ranks = _RANKS.get(key)
        if ranks is None:
            continue
        if value not in ranks:
            return f"unknown {key} {value!r}"
        rank = ranks[value]
        if rank < last_rank.get(key, -1):
            return f"{key} went back to {value!r}"
        last_rank[key] = rank
    return None


# -- the replay ----------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: Dict[str, str]
    raw: bytes
    body: Any


@dataclass
class Replay:
    name: str
    gateway: RunningGateway
    interactions: List[Dict[str, Any]]
    session: requests.Session = field(default_factory=requests.Session)
    operations: Dict[str, Dict[str, str]] = field(default_factory=dict)  # recorded op id -> our URLs
    downloads: Dict[str, str] = field(default_factory=dict)  # recorded downloadUrl -> ours (same file)
    renames: Dict[str, str] = field(default_factory=dict)  # R4 names the service drew (node ids, path suffixes) -> ours
    problems: List[str] = field(default_factory=list)
    replayed: int = 0
    matched: int = 0
    excluded: int = 0

    # -- HTTP --------------------------------------------------------------------------------
    def send(self, method: str, recorded_uri: str, body: Optional[bytes], content_type: bool) -> Answer:
        url = self.gateway.url + self._our_path(recorded_uri)
        headers = self.gateway.headers(Accept="application/json")
        if body is not None or content_type:
            headers["Content-Type"] = "application/json; charset=utf-8"
        response = self.session.request(method, url, data=body if body is not None else b"", headers=headers,
                                        timeout=60)
        raw = response.content
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            parsed = raw
        return Answer(response.status_code, dict(response.headers), raw, parsed)

    def _our_path(self, recorded_uri: str) -> str:
        """R1 (host) and R2 (operation ids): the recorded operation id becomes ours."""
        op = normalise.operation_id(recorded_uri)
        if op is None:
            return normalise.path_and_query(recorded_uri)
        ours = self.operations.get(op)
        if ours is None:
            raise AssertionError(f"{self.name}: poll of operation {op} that no replayed request started")
        kind = "location" if "/operationstatuses/" in recorded_uri.lower() else "azure-asyncoperation"
        return normalise.path_and_query(ours[kind])

    # -- preparers ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create what the recorded session found already there: storage, workspaces, clusters."""
        from batchai_compat.storage import BlockBlobService, FileService

        previous = os.environ.get("BATCHAI_COMPAT_HOME")
        os.environ["BATCHAI_COMPAT_HOME"] = str(self.gateway.home)
        try:
            FileService(ACCOUNT, ACCOUNT_KEY).create_share("share", fail_on_exist=False)
            for kind, account, key, name in self._recorded_storage():
                if kind == "share":
                    FileService(account, key).create_share(name, fail_on_exist=False)
                else:
                    BlockBlobService(account, key).create_container(name, fail_on_exist=False)
        finally:
            if previous is None:
                os.environ.pop("BATCHAI_COMPAT_HOME", None)
            else:
                os.environ["BATCHAI_COMPAT_HOME"] = previous
        created: Set[str] = set()
        for item in self.interactions:
            request = item["request"]
            if request["method"] == "PUT":
                created.add(normalise.path_and_query(request["uri"]).split("?")[0].lower())
        workspaces: Set[str] = set()
        experiments: Set[str] = set()
        clusters: Set[str] = set()
        for item in self.interactions:
            request = item["request"]
            path = normalise.path_and_query(request["uri"]).split("?")[0]
            match = _WORKSPACE_RE.match(path)
            if match:
                workspaces.add(match.group(1))
            match = _EXPERIMENT_RE.match(path)
            if match:
                experiments.add(match.group(1))
            body = normalise.request_body(request.get("body"))
            if body:
                try:
                    cluster = json.loads(body.decode("utf-8")).get("properties", {}).get("cluster", {}).get("id")
                except (ValueError, AttributeError):
                    cluster = None
                if cluster:
                    clusters.add(cluster)
                    workspaces.add(cluster.split("/clusters/")[0])
        for ws in sorted(workspaces):
            if ws.lower() not in created:
                self._setup_put(ws, {"location": "northeurope"})
        for exp in sorted(experiments):
            if exp.lower() not in created:
                self._setup_put(exp, None)
        nodes = PRECONDITIONS.get(self.name, Precondition()).cluster_nodes
        for cluster in sorted(clusters):
            if cluster.lower() not in created:
                self._setup_cluster(cluster, nodes)

    def _recorded_storage(self) -> List[Tuple[str, str, str, str]]:
        """``(kind, account, key, name)`` of every Azure File share and blob container a recorded request
        mounts: the test made them with azure-storage before the Batch AI calls (not Batch AI's calls)."""
        found: List[Tuple[str, str, str, str]] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                url, account = node.get("azureFileUrl"), node.get("accountName")
                key = (node.get("credentials") or {}).get("accountKey")
                container = node.get("containerName")
                if isinstance(account, str) and isinstance(key, str):
                    if isinstance(url, str):
                        found.append(("share", account, key, url.rstrip("/").rsplit("/", 1)[-1]))
                    elif isinstance(container, str):
                        found.append(("container", account, key, container))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        for item in self.interactions:
            body = normalise.request_body(item["request"].get("body"))
            if body:
                try:
                    walk(json.loads(body.decode("utf-8")))
                except ValueError:
                    continue
        return found

    def _setup_put(self, path: str, body: Optional[Dict[str, Any]]) -> Answer:
        answer = self._raw("PUT", path, body)
        assert answer.status in (200, 201, 202), (path, answer.status, answer.raw[:500])
        if answer.status == 202:
            self._wait_operation(answer)
        return answer

    def _raw(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Answer:
        url = f"{self.gateway.url}{path}?api-version={API_VERSION}"
        response = self.session.request(method, url, json=body, headers=self.gateway.headers(), timeout=60)
        raw = response.content
        return Answer(response.status_code, dict(response.headers), raw, json.loads(raw) if raw else None)

    def _wait_operation(self, answer: Answer) -> None:
        url = normalise.header(answer.headers, "Azure-AsyncOperation")
        assert url, answer.headers
        deadline = time.monotonic() + POLL_TIMEOUT
        while time.monotonic() < deadline:
            status = self.session.get(self.gateway.url + normalise.path_and_query(url),
                                      headers=self.gateway.headers(), timeout=60).json()
            if status.get("status") != "InProgress":
                assert status.get("status") == "Succeeded", status
                return
            time.sleep(POLL_INTERVAL)
        raise AssertionError(f"setup operation {url} did not finish")

    def _setup_cluster(self, cluster_id: str, nodes: int) -> None:
        body = {"properties": {
            "vmSize": "STANDARD_D1", "vmPriority": "lowpriority",
            "scaleSettings": {"manual": {"targetNodeCount": nodes}},
            "userAccountSettings": {"adminUserName": "demoUser", "adminUserPassword": ADMIN_PASSWORD},
            "nodeSetup": {"mountVolumes": {"azureFileShares": [{
                "accountName": ACCOUNT, "azureFileUrl": f"https://{ACCOUNT}.file.core.windows.net/share",
                "credentials": {"accountKey": ACCOUNT_KEY}, "relativeMountPath": "azfiles"}]}},
        }}
        self._setup_put(cluster_id, body)
        deadline = time.monotonic() + POLL_TIMEOUT
        while time.monotonic() < deadline:
            props = (self._raw("GET", cluster_id).body or {}).get("properties", {})
            idle = props.get("nodeStateCounts", {}).get("idleNodeCount")
            if props.get("allocationState") == "steady" and idle == nodes:
                return
            time.sleep(POLL_INTERVAL)
        raise AssertionError(f"setup cluster {cluster_id} never had {nodes} idle nodes")

    # -- the replay proper -------------------------------------------------------------------
    def run(self) -> None:
        index = 0
        while index < len(self.interactions):
            request = self.interactions[index]["request"]
            reason = self._excluded(index)
            if reason:
                if normalise.urlsplit_host(request["uri"]) == ARM_HOST:
                    self._send_only(index)  # the session goes on from it: sent, learnt from, not compared
                self.excluded += 1
                index += 1
                continue
            if normalise.urlsplit_host(request["uri"]) != ARM_HOST:
                if request["uri"] in self.downloads:
                    self._download(index)
                else:
                    self._storage_file(index)
                index += 1
                continue
            if request["method"] == "GET":
                end = index + 1
                while (end < len(self.interactions) and self.interactions[end]["request"]["method"] == "GET"
                       and self.interactions[end]["request"]["uri"] == request["uri"]
                       and not self._excluded(end)):
                    end += 1
                self._poll_group(index, end)
                index = end
            else:
                self._single(index)
                index += 1

    def _excluded(self, index: int) -> Optional[str]:
        uri = self.interactions[index]["request"]["uri"]
        if normalise.urlsplit_host(uri) != ARM_HOST and uri not in self.downloads and self._local_file(index) is None:
            return NON_ARM_REASON
        for exclusion in EXCLUSIONS:
            if exclusion.recording == self.name and exclusion.index == index:
                return exclusion.reason
        return None

    def _single(self, index: int) -> None:
        item = self.interactions[index]
        request = item["request"]
        body = normalise.request_body(request.get("body"))
        content_type = normalise.header(request.get("headers"), "Content-Type") is not None
        answer = self.send(request["method"], request["uri"], body, content_type)
        self.replayed += 1
        recorded_op = normalise.operation_id(normalise.header(item["response"].get("headers"),
                                                              "azure-asyncoperation") or "")
        if recorded_op:
            ours_async = normalise.header(answer.headers, "Azure-AsyncOperation")
            ours_location = normalise.header(answer.headers, "Location")
            if ours_async:
                self.operations[recorded_op] = {"azure-asyncoperation": ours_async,
                                                "location": ours_location or ours_async}
        problems = self._compare(item, answer)
        self._learn_downloads(item, answer)
        self._record(index, 1, problems)

    def _send_only(self, index: int) -> None:
        item = self.interactions[index]
        request = item["request"]
        content_type = normalise.header(request.get("headers"), "Content-Type") is not None
        answer = self.send(request["method"], request["uri"], normalise.request_body(request.get("body")), content_type)
        self._learn_downloads(item, answer)

    def _learn_downloads(self, item: Dict[str, Any], answer: Answer) -> None:
        """R1/R4 for files: a recorded ``downloadUrl`` (Azure Files + SAS) stands for ours of the same file."""
        recorded = _recorded_body(item)
        if not (isinstance(recorded, dict) and isinstance(answer.body, dict)):
            return
        ours = {f.get("name"): f.get("downloadUrl") for f in answer.body.get("value") or [] if isinstance(f, dict)}
        for entry in recorded.get("value") or []:
            if isinstance(entry, dict) and entry.get("downloadUrl") and ours.get(entry.get("name")):
                self.downloads[entry["downloadUrl"]] = ours[entry["name"]]

    def _download(self, index: int) -> None:
        """A recorded GET of a download URL: ours of the same file must serve the same bytes."""
        item = self.interactions[index]
        url = self.downloads[item["request"]["uri"]]
        assert normalise.urlsplit_host(url) in ("127.0.0.1", "localhost"), url  # never leave loopback
        response = self.session.get(url, timeout=60)  # no Authorization: the URL itself is the grant
        self.replayed += 1
        recorded = item["response"]
        problems: List[str] = []
        if response.status_code != recorded["status"]["code"]:
            problems.append(f"status: recorded {recorded['status']['code']}, ours {response.status_code}")
        expected = ((recorded.get("body") or {}).get("string") or "").encode("utf-8")
        if response.content != expected:
            problems.append(f"content: recorded {expected[:80]!r}, ours {response.content[:80]!r}")
        self._record(index, 1, problems)

    def _local_file(self, index: int) -> Optional[Path]:
        """The file of the local storage that a recorded Azure Files read of the test stands for, or None.

        Tests read what a setup task wrote with azure-storage's ``get_file_to_text``: a GET of
        ``https://{account}.file.core.windows.net/{share}/{path}``. The path holds names the service drew
        (the setup task's ``stdOutErrPathSuffix``, node ids); R4 maps them to ours, learnt from our answers.
        Only whole-file reads that succeeded are compared (200/206 with the file's bytes)."""
        from batchai_compat import _home

        item = self.interactions[index]
        request, status = item["request"], item["response"]["status"]["code"]
        host = normalise.urlsplit_host(request["uri"])
        if request["method"] != "GET" or status not in (200, 206) or not host.endswith(".file.core.windows.net"):
            return None
        segments = [seg for seg in normalise.path_and_query(request["uri"]).split("?")[0].split("/") if seg]
        if len(segments) < 2:
            return None
        rest = "/".join(segments[1:])
        for recorded, ours in sorted(self.renames.items(), key=lambda kv: -len(kv[0])):
            rest = rest.replace(recorded, ours)
        if any(recorded in rest for recorded in self.renames):
            return None
        path = _home.share_path(host.split(".", 1)[0], segments[0], self.gateway.home) / rest
        return path if path.is_file() else None

    def _storage_file(self, index: int) -> None:
        """A recorded Azure Files read: our local file must hold the recorded bytes."""
        item = self.interactions[index]
        path = self._local_file(index)
        self.replayed += 1
        expected = ((item["response"].get("body") or {}).get("string") or "").encode("utf-8")
        actual = path.read_bytes() if path is not None else None
        problems = [] if actual == expected else [f"file content: recorded {expected[:80]!r}, ours {actual!r}"]
        self._record(index, 1, problems)

    def _learn_renames(self, recorded: Any, ours: Any) -> None:
        """R4: pair the names the service drew with ours, where both answers carry them at the same place."""
        if isinstance(recorded, dict) and isinstance(ours, dict):
            for key in ("stdOutErrPathSuffix", "jobOutputDirectoryPathSegment", "nodeId"):
                if isinstance(recorded.get(key), str) and isinstance(ours.get(key), str):
                    self.renames[recorded[key]] = ours[key]
            for key in set(recorded) & set(ours):
                self._learn_renames(recorded[key], ours[key])
        elif isinstance(recorded, list) and isinstance(ours, list):
            for r_item, o_item in zip(recorded, ours):
                self._learn_renames(r_item, o_item)

    def _poll_group(self, start: int, end: int) -> None:
        """Recorded GETs ``start..end-1`` of one URL: poll until our state is the recorded final one."""
        items = self.interactions[start:end]
        request = items[0]["request"]
        operation = normalise.is_operation_status(request["uri"])
        if operation and normalise.operation_id(request["uri"]) not in self.operations:
            self.replayed += len(items)
            self._record(start, len(items), ["nothing to poll: the request that started this operation was not "
                                             "answered with an Azure-AsyncOperation header"])
            return
        recorded_states = [_state(i["response"]["status"]["code"], _recorded_body(i), operation) for i in items]
        target = recorded_states[-1]
        content_type = normalise.header(request.get("headers"), "Content-Type") is not None
        seen: List[State] = []
        by_state: Dict[State, Answer] = {}
        deadline = time.monotonic() + POLL_TIMEOUT
        while True:
            answer = self.send("GET", request["uri"], None, content_type)
            state = _state(answer.status, answer.body, operation)
            if not seen or seen[-1] != state:
                seen.append(state)
            by_state[state] = answer
            if state == target or normalise.passed(target, state) or time.monotonic() > deadline:
                break
            time.sleep(POLL_INTERVAL)
        self.replayed += len(items)
        problems: List[str] = []
        if seen[-1] != target and not normalise.passed(target, seen[-1]):
            problems.append(f"never reached the recorded final state {target} within {POLL_TIMEOUT:.0f} s; "
                            f"ours went {seen}")
        illegal = _illegal(seen)
        if illegal:
            problems.append(f"illegal state sequence {seen}: {illegal}")
        # every recorded answer is compared with ours in the same state, if ours passed through it
        for item, state in zip(items, recorded_states):
            if state in by_state:
                problems.extend(self._compare(item, by_state[state]))
            elif _RANKS.get(state[1], {}).get(state[2] or "", None) is None and state != target:
                problems.append(f"recorded state {state} is not one of a known state machine and ours skipped it")
        self._record(start, len(items), sorted(set(problems)))

    def _record(self, index: int, count: int, problems: List[str]) -> None:
        if problems:
            request = self.interactions[index]["request"]
            where = f"{self.name} #{index}{'-' + str(index + count - 1) if count > 1 else ''} " \
                    f"{request['method']} {normalise.url_key(request['uri'])}"
            self.problems.extend(f"{where}: {p}" for p in problems)
        else:
            self.matched += count

    def _compare(self, item: Dict[str, Any], answer: Answer) -> List[str]:
        recorded = item["response"]
        problems: List[str] = []
        code = recorded["status"]["code"]
        if answer.status != code:
            problems.append(f"status: recorded {code}, ours {answer.status} {answer.raw[:300]!r}")
            return problems
        rec_headers = recorded.get("headers") or {}
        for name in ("Azure-AsyncOperation", "Location"):
            rec_value = normalise.header(rec_headers, name)
            our_value = normalise.header(answer.headers, name)
            if (rec_value is None) != (our_value is None):
                problems.append(f"header {name}: recorded {rec_value!r}, ours {our_value!r}")
            elif (rec_value is not None and our_value is not None
                  and normalise.url_key(rec_value) != normalise.url_key(our_value)):
                problems.append(f"header {name}: recorded {normalise.url_key(rec_value)}, "
                                f"ours {normalise.url_key(our_value)}")
        retry_after = normalise.header(answer.headers, "Retry-After")
        if not normalise.retry_after_ok(retry_after):
            problems.append(f"header Retry-After {retry_after!r} is not a non-negative integer (R3)")
        if normalise.content_type_compared(rec_headers):
            rec_ct = normalise.split_media_type(normalise.header(rec_headers, "Content-Type"))
            our_ct = normalise.split_media_type(normalise.header(answer.headers, "Content-Type"))
            if rec_ct != our_ct:
                problems.append(f"Content-Type: recorded {rec_ct}, ours {our_ct}")
        rec_body = _recorded_body(item)
        if rec_body is None:
            if answer.raw:
                problems.append(f"body: the service sent none, ours {answer.raw[:200]!r}")
            return problems
        if answer.body is None or isinstance(answer.body, bytes):
            problems.append(f"body: recorded JSON, ours {answer.raw[:200]!r}")
            return problems
        uri = item["request"]["uri"]
        self._learn_renames(rec_body, answer.body)
        if isinstance(rec_body, dict) and isinstance(rec_body.get("value"), list):
            rec_body = dict(rec_body, value=normalise.drop_foreign(rec_body["value"], self.resource_groups()))
        problems.extend(normalise.compare_shapes(rec_body, answer.body,
                                                 operation_status=normalise.is_operation_status(uri),
                                                 usages=normalise.is_usages(uri)))
        return problems

    def resource_groups(self) -> Set[str]:
        groups = set()
        for item in self.interactions:
            match = re.search(r"/resourceGroups/([^/?]+)", item["request"]["uri"], re.IGNORECASE)
            if match:
                groups.add(match.group(1))
        return groups


def _recorded_body(item: Dict[str, Any]) -> Any:
    text = (item["response"].get("body") or {}).get("string")
    if text is None or text == "":
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _load(path: Path) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return list(data["interactions"])


@pytest.mark.slow
@pytest.mark.parametrize("recording", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_replay(recording: Path, tmp_path: Path) -> None:
    name = recording.stem
    interactions = _load(recording)
    try:
        gateway = start_gateway(tmp_path / "home", *[arg for opt in FAST_OPTIONS for arg in ("--option", opt)])
    except RuntimeError as exc:  # say why: the gateway's stderr
        stderr = tmp_path / "home-gateway.stderr"
        tail = stderr.read_text(encoding="utf-8", errors="replace")[-3000:] if stderr.exists() else ""
        pytest.fail(f"{exc}\n{tail}", pytrace=False)
    try:
        replay = Replay(name, gateway, interactions)
        replay.prepare()
        replay.run()
    finally:
        code = gateway.stop()
    TOTALS[name] = {"interactions": len(interactions), "replayed": replay.replayed, "matched": replay.matched,
                    "excluded": replay.excluded}
    assert code == 0, f"the gateway exited with {code}:\n{gateway.stderr_text()[-3000:]}"
    assert replay.replayed + replay.excluded == len(interactions)
    if replay.problems:
        pytest.fail(f"{len(replay.problems)} mismatches:\n" + "\n".join(replay.problems), pytrace=False)


def test_exclusions_name_real_interactions() -> None:
    """Every exclusion points at an interaction of a vendored recording, and says why."""
    names = {p.stem: len(_load(p)) for p in RECORDINGS}
    for exclusion in EXCLUSIONS:
        assert exclusion.recording in names, exclusion
        assert 0 <= exclusion.index < names[exclusion.recording], exclusion
        assert len(exclusion.reason) > 40, exclusion
    for name, pre in PRECONDITIONS.items():
        assert name in names and pre.reason, name


def test_every_recording_is_listed_in_source() -> None:
    """SOURCE.md names each vendored recording with its commit (the data's provenance)."""
    source = (Path(__file__).parent / "SOURCE.md").read_text(encoding="utf-8")
    for path in RECORDINGS:
        assert f"`{path.name}`" in source, path.name


def test_recordings_are_self_consistent() -> None:
    """The vendored copies are whole: every body has the length its recorded Content-Length says and parses
    as JSON where its Content-Type says JSON (a check on the copying, since the files are data)."""
    import ast

    for path in RECORDINGS:
        for index, item in enumerate(_load(path)):
            response = item["response"]
            text = (response.get("body") or {}).get("string") or ""
            length = normalise.header(response.get("headers"), "content-length")
            if length is not None and item["request"]["method"] != "HEAD":  # a HEAD answer has the length, no body
                assert int(length) == len(text.encode("utf-8")), (path.name, index)
            content_type = normalise.header(response.get("headers"), "content-type") or ""
            if text and content_type.startswith("application/json"):
                json.loads(text)
            request = item["request"]
            body, sent = request.get("body"), normalise.header(request.get("headers"), "Content-Length")
            if body and sent is not None:
                raw = ast.literal_eval(body) if body.startswith("b'") else body.encode("utf-8")
                assert int(sent) == len(raw), (path.name, index)
