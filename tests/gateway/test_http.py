"""The gateway over raw HTTP (``requests``, keep-alive session): ARM envelopes, api-version, auth, paging,
long-running operations, bodies, names, download URLs. One gateway subprocess for the module; each
test uses its own resource group."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from batchai_compat.gateway import _lro, _routes
from tests.gateway.conftest import (
    ACCOUNT_KEY,
    ADMIN_PASSWORD,
    SECRET_ENV_VALUE,
    SUB,
    arm_path,
    cluster_body,
    create_share,
    job_body,
    wait_job,
    wait_operation,
)

V = {"api-version": "2018-05-01"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def gw(shared_gateway):
    create_share(shared_gateway.home)
    return shared_gateway


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def _error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# ------------------------------------------------------------------------------------------ auth
def test_missing_wrong_and_right_token(gw, http):
    url = gw.url + "/providers/Microsoft.BatchAI/operations"
    missing = http.get(url, params=V, timeout=60)
    error = _error(missing, 401, "AuthenticationFailed")
    assert "'Authorization' header is missing" in error["message"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in missing.headers["WWW-Authenticate"]
    _error(http.get(url, params=V, headers={"Authorization": "Bearer wrong-" + gw.token}, timeout=60),
           401, "AuthenticationFailed")
    _error(http.get(url, params=V, headers={"Authorization": "Basic " + gw.token}, timeout=60),
           401, "AuthenticationFailed")
    _error(http.get(url, params=V, headers={"Authorization": "Bearer " + gw.token[:-1]}, timeout=60),
           401, "AuthenticationFailed")
    ok = http.get(url, params=V, headers=gw.headers(), timeout=60)
    assert ok.status_code == 200 and ok.json()["value"]


def test_auth_comes_before_everything_else(gw, http):
    # No api-version, unknown path, bad body: an unauthenticated caller learns nothing but 401.
    _error(http.put(gw.url + "/whatever", data=b"{not json", timeout=60), 401, "AuthenticationFailed")


# ------------------------------------------------------------------------------------ api-version
def test_api_version_required_and_checked(gw, http):
    h = gw.headers()
    ops = gw.url + "/providers/Microsoft.BatchAI/operations"
    error = _error(http.get(ops, headers=h, timeout=60), 400, "MissingApiVersionParameter")
    assert error["message"] == "The api-version query parameter (?api-version=) is required for all requests."
    error = _error(http.get(ops, params={"api-version": "2019-01-01"}, headers=h, timeout=60),
                   400, "InvalidApiVersionParameter")
    assert "'2019-01-01'" in error["message"] and "2018-05-01, 2018-03-01, 2017-09-01-preview" in error["message"]
    for version in ("2018-05-01", "2018-03-01", "2017-09-01-preview"):
        assert http.get(ops, params={"api-version": version}, headers=h, timeout=60).status_code == 200
    workspaces = gw.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/workspaces"
    error = _error(http.get(workspaces, params={"api-version": "2018-03-01"}, headers=h, timeout=60),
                   400, "NoRegisteredProviderFound")
    assert "for type 'workspaces'" in error["message"] and "'2018-05-01'" in error["message"]
    error = _error(http.get(workspaces, params={"api-version": "2020-01-01"}, headers=h, timeout=60),
                   400, "NoRegisteredProviderFound")
    # The query parameter's name is matched case-insensitively, as ARM did.
    assert http.get(workspaces, params={"API-Version": "2018-05-01"}, headers=h, timeout=60).status_code == 200


def test_unknown_types_methods_and_paths(gw, http):
    h = gw.headers()
    _error(http.get(gw.url + arm_path("rg-types", "gadgets"), params=V, headers=h, timeout=60),
           404, "InvalidResourceType")
    answer = http.post(gw.url + arm_path("rg-types", "workspaces", "ws"), params=V, headers=h, timeout=60)
    _error(answer, 405, "HttpMethodNotAllowed")
    assert "PUT" in answer.headers["Allow"]
    _error(http.get(gw.url + "/nothing/here", params=V, headers=h, timeout=60), 404, "NotFound")


def test_case_insensitive_literal_segments(gw, http):
    path = f"/SUBSCRIPTIONS/{SUB}/resourcegroups/rg-case/PROVIDERS/microsoft.batchai/WORKSPACES"
    answer = http.get(gw.url + path, params=V, headers=gw.headers(), timeout=60)
    assert answer.status_code == 200 and answer.json() == {"value": []}


# ---------------------------------------------------------------------------------------- headers
def test_request_and_correlation_ids(gw, http):
    url = gw.url + "/providers/Microsoft.BatchAI/operations"
    plain = http.get(url, params=V, headers=gw.headers(), timeout=60)
    assert UUID.match(plain.headers["x-ms-request-id"])
    assert plain.headers["x-ms-correlation-request-id"] == plain.headers["x-ms-request-id"]
    client_id, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    echoed = http.get(url, params=V, timeout=60, headers=gw.headers(**{
        "x-ms-client-request-id": client_id, "x-ms-correlation-request-id": correlation}))
    assert echoed.headers["x-ms-client-request-id"] == client_id
    assert echoed.headers["x-ms-correlation-request-id"] == correlation
    assert echoed.headers["x-ms-request-id"] != plain.headers["x-ms-request-id"]
    # Errors carry them too.
    assert UUID.match(http.get(url, timeout=60).headers["x-ms-request-id"])


# ----------------------------------------------------------------------------------------- paging
def test_next_link_paging_with_maxresults(gw, http):
    h, rg = gw.headers(), "rg-paging"
    assert http.put(gw.url + arm_path(rg, "workspaces", "ws"), params=V, headers=h, json={"location": "eastus"},
                    timeout=60).status_code == 200
    names = [f"exp{i}" for i in range(5)]
    for name in names:
        created = http.put(gw.url + arm_path(rg, "workspaces", "ws", "experiments", name), params=V, headers=h,
                           timeout=60)
        assert created.status_code == 200, created.text
        assert created.json()["properties"]["provisioningState"] == "succeeded"
    url = gw.url + arm_path(rg, "workspaces", "ws", "experiments") + "?api-version=2018-05-01&maxresults=2"
    seen, pages = [], 0
    while url:
        page = http.get(url, headers=h, timeout=60)
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        assert len(body["value"]) <= 2
        seen += [e["name"] for e in body["value"]]
        url = body.get("nextLink")
        if url:
            query = parse_qs(urlsplit(url).query)
            assert url.startswith(gw.url + "/subscriptions/")
            assert query["api-version"] == ["2018-05-01"] and query["maxresults"] == ["2"] and query["$skiptoken"]
        else:
            assert "nextLink" not in body  # the service left the key out on the last page
    assert sorted(seen) == names and pages == 3
    error = _error(http.get(gw.url + arm_path(rg, "workspaces", "ws", "experiments"),
                            params={"api-version": "2018-05-01", "maxresults": "0"}, headers=h, timeout=60),
                   400, "InvalidQueryParameterValue")
    assert "max_results" in error["message"]
    _error(http.get(gw.url + arm_path(rg, "workspaces", "ws", "experiments"),
                    params={"api-version": "2018-05-01", "maxresults": "many"}, headers=h, timeout=60),
           400, "InvalidQueryParameterValue")


# ---------------------------------------------------------------------------- the whole lifecycle
def test_job_lifecycle_lro_headers_output_files_and_range(gw, http):
    h, rg = gw.headers(), "rg-life"
    ws = http.put(gw.url + arm_path(rg, "workspaces", "ws"), params=V, headers=h,
                  json={"location": "westeurope", "tags": {"team": "a"}}, timeout=60)
    assert ws.status_code == 200 and ws.json()["location"] == "westeurope"
    assert http.put(gw.url + arm_path(rg, "workspaces", "ws", "experiments", "exp"), params=V, headers=h,
                    timeout=60).status_code == 200

    cluster = http.put(gw.url + arm_path(rg, "workspaces", "ws", "clusters", "cl"), params=V, headers=h,
                       json=cluster_body(), timeout=60)
    assert cluster.status_code == 202 and cluster.content == b"", cluster.text
    async_url, location = cluster.headers["Azure-AsyncOperation"], cluster.headers["Location"]
    prefix = gw.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/locations/westeurope/"
    assert async_url.startswith(prefix + "operationresults/") and location.startswith(prefix + "operationstatuses/")
    assert async_url.endswith("?api-version=2018-05-01") and int(cluster.headers["Retry-After"]) >= 0
    status = wait_operation(http, gw, cluster)
    assert status["status"] == "Succeeded", status
    assert status["id"] == async_url.split("?")[0] and status["name"] == async_url.split("/")[-1].split("?")[0]
    assert status["properties"]["resourceId"] == f"{SUB}${rg}$ws$cl" and status["startTime"] and status["endTime"]
    after = http.get(location, headers=h, timeout=60)
    assert after.status_code == 200 and after.json()["status"] == "Succeeded"
    got = http.get(gw.url + arm_path(rg, "workspaces", "ws", "clusters", "cl"), params=V, headers=h, timeout=60).json()
    assert got["properties"]["provisioningState"] == "succeeded"
    share = got["properties"]["nodeSetup"]["mountVolumes"]["azureFileShares"][0]
    assert share["credentials"] == {} and "adminUserPassword" not in got["properties"]["userAccountSettings"]

    job_path = arm_path(rg, "workspaces", "ws", "experiments", "exp", "jobs", "job")
    command = ("printf 0123456789abcdef > $AZ_BATCHAI_OUTPUT_OUTPUTS/result.txt; "
               "echo two > $AZ_BATCHAI_OUTPUT_OUTPUTS/b.txt")
    created = http.put(gw.url + job_path, params=V, headers=h, json=job_body(got["id"], command), timeout=60)
    assert created.status_code == 202, created.text
    assert wait_operation(http, gw, created)["status"] == "Succeeded"
    job = wait_job(http, gw, job_path)
    assert job["properties"]["executionState"] == "succeeded", job
    assert all("value" not in s for s in job["properties"].get("secrets", []))

    list_url = gw.url + job_path + "/listOutputFiles"
    params = {"api-version": "2018-05-01", "outputdirectoryid": "OUTPUTS", "directory": ".",
              "linkexpiryinminutes": "5", "maxresults": "1"}
    files, url, first = [], list_url, True
    while url:
        page = http.post(url, params=params if first else None, headers=h, timeout=60)
        first = False
        assert page.status_code == 200, page.text
        files += page.json()["value"]
        url = page.json().get("nextLink")
    assert sorted(f["name"] for f in files) == ["b.txt", "result.txt"]
    result = next(f for f in files if f["name"] == "result.txt")
    download = urlsplit(result["downloadUrl"])
    assert download.hostname == "127.0.0.1" and "sig=" in download.query and "se=" in download.query
    ranged = requests.get(result["downloadUrl"], headers={"Range": "bytes=4-7"}, timeout=60)
    assert ranged.status_code == 206 and ranged.content == b"4567"
    assert ranged.headers["Content-Range"] == "bytes 4-7/16"
    # A download URL whose path is changed is refused (the signature covers the path), also with traversal.
    for tampered in (result["downloadUrl"].replace("result.txt", "b.txt"),
                     result["downloadUrl"].replace("result.txt", "../../../../../../state.db"),
                     result["downloadUrl"].replace("result.txt", "%2e%2e/%2e%2e/state.db")):
        refused = requests.get(tampered, timeout=60)
        assert refused.status_code in (400, 403, 404), (tampered, refused.status_code)
        assert b"SQLite" not in refused.content

    # Terminating a finished job: a plain 200 (recorded); a running one: 202 and an operation.
    terminated = http.post(gw.url + job_path + "/terminate", params=V, headers=h, timeout=60)
    assert terminated.status_code == 200 and terminated.content == b""
    assert "Azure-AsyncOperation" not in terminated.headers
    long_path = job_path + "-long"
    started = http.put(gw.url + long_path, params=V, headers=h, json=job_body(got["id"], "sleep 600"), timeout=60)
    assert started.status_code == 202 and wait_operation(http, gw, started)["status"] == "Succeeded"
    terminated = http.post(gw.url + long_path + "/terminate", params=V, headers=h, timeout=60)
    assert terminated.status_code == 202 and terminated.content == b"", terminated.text
    assert wait_operation(http, gw, terminated)["status"] == "Succeeded"
    assert wait_job(http, gw, long_path)["properties"]["executionState"] == "failed"
    deleted = http.delete(gw.url + job_path, params=V, headers=h, timeout=60)
    assert deleted.status_code == 202 and "Azure-AsyncOperation" in deleted.headers
    assert wait_operation(http, gw, deleted)["status"] == "Succeeded"
    _error(http.get(gw.url + job_path, params=V, headers=h, timeout=60), 404, "JobNotFound")
    gone = http.delete(gw.url + arm_path(rg, "workspaces", "ws"), params=V, headers=h, timeout=60)
    assert gone.status_code == 202
    assert wait_operation(http, gw, gone)["status"] == "Succeeded"
    _error(http.get(gw.url + arm_path(rg, "workspaces", "ws"), params=V, headers=h, timeout=60),
           404, "WorkspaceNotFound")

    # Nothing secret reached the access log, stdout or stderr.
    log = gw.log_path.read_text(encoding="utf-8")
    assert "listOutputFiles" in log and "sig=" not in log
    for secret in (gw.token, ACCOUNT_KEY, ADMIN_PASSWORD, SECRET_ENV_VALUE, download.query):
        assert secret not in log and secret not in gw.stderr_text()
    assert oct(gw.log_path.stat().st_mode & 0o777) == "0o600"


def test_operation_ids_after_a_restart_are_derived_from_the_resource(gw, http):
    h, rg = gw.headers(), "rg-derive"
    assert http.put(gw.url + arm_path(rg, "workspaces", "ws"), params=V, headers=h, json={"location": "eastus"},
                    timeout=60).status_code == 200
    base = gw.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/locations/eastus/operationresults/"
    created = _lro.encode_id("create", "2018-05-01", arm_path(rg, "workspaces", "ws"))
    body = http.get(base + created, params=V, headers=h, timeout=60).json()
    assert body["status"] == "Succeeded" and body["properties"]["resourceId"] == f"{SUB}${rg}$ws"
    deleted = _lro.encode_id("delete", "2018-05-01", arm_path(rg, "workspaces", "ws", "clusters", "never"))
    assert http.get(base + deleted, params=V, headers=h, timeout=60).json()["status"] == "Succeeded"
    failed = _lro.encode_id("create", "2018-05-01", arm_path(rg, "workspaces", "ws", "clusters", "never"))
    body = http.get(base + failed, params=V, headers=h, timeout=60).json()
    assert body["status"] == "Failed" and body["error"]["code"] == "ClusterNotFound"
    _error(http.get(base + "not-an-operation", params=V, headers=h, timeout=60), 404, "OperationNotFound")


# ----------------------------------------------------------------------------------------- bodies
def test_malformed_and_invalid_bodies(gw, http):
    h, rg = gw.headers(**{"Content-Type": "application/json"}), "rg-bodies"
    url = gw.url + arm_path(rg, "workspaces", "ws")
    error = _error(http.put(url, params=V, headers=h, data=b'{"location": ', timeout=60), 400, "InvalidRequestContent")
    assert error["message"].startswith("The request content was invalid and could not be deserialized")
    _error(http.put(url, params=V, headers=h, data=b"[1, 2]", timeout=60), 400, "InvalidRequestContent")
    _error(http.put(url, params=V, headers=h, data=b"\xff\xfe{}", timeout=60), 400, "InvalidRequestContent")
    error = _error(http.put(url, params=V, headers=h, data=b"{}", timeout=60), 400, "InvalidRequestContent")
    assert "location" in error["message"]
    assert http.put(url, params=V, headers=h, json={"location": "eastus"}, timeout=60).status_code == 200
    job = gw.url + arm_path(rg, "workspaces", "ws", "experiments", "e", "jobs", "j")
    error = _error(http.put(job, params=V, headers=h, json={"properties": {"nodeCount": 1}}, timeout=60),
                   400, "InvalidRequestContent")
    assert "cluster" in error["message"]
    wrong_type = {"properties": {"vmSize": "STANDARD_D1", "scaleSettings": "lots",
                                 "userAccountSettings": {"adminUserName": "u"}}}
    _error(http.put(gw.url + arm_path(rg, "workspaces", "ws", "clusters", "c"), params=V, headers=h, json=wrong_type,
                    timeout=60), 400, "InvalidRequestContent")


def test_oversized_body_is_413(gw, http):
    url = gw.url + arm_path("rg-big", "workspaces", "ws")
    big = b'{"location": "eastus", "tags": {"x": "' + b"a" * (4 * 1024 * 1024) + b'"}}'
    answer = http.put(url, params=V, headers=gw.headers(**{"Content-Type": "application/json"}), data=big, timeout=60)
    _error(answer, 413, "RequestEntityTooLarge")
    # The gateway still serves (the connection may have been closed after the refusal).
    assert http.get(gw.url + "/providers/Microsoft.BatchAI/operations", params=V, headers=gw.headers(),
                    timeout=60).status_code == 200


def test_oversized_chunked_body_is_413(gw, http):
    def chunks():
        yield b'{"location": "eastus", "tags": {"x": "'
        for _ in range(5):
            yield b"a" * (1024 * 1024)
        yield b'"}}'

    answer = http.put(gw.url + arm_path("rg-big", "workspaces", "chunked"), params=V, data=chunks(), timeout=60,
                      headers=gw.headers(**{"Content-Type": "application/json"}))
    _error(answer, 413, "RequestEntityTooLarge")
    small = http.put(gw.url + arm_path("rg-big", "workspaces", "chunked"), params=V, timeout=60,
                     data=iter([b'{"location": ', b'"eastus"}']), headers=gw.headers())
    assert small.status_code == 200 and small.json()["location"] == "eastus"


# ------------------------------------------------------------------------------------------ names
@pytest.mark.parametrize("name", ["..", "%2e%2e", "%2E%2E", "a%2fb", "..%2f..", "a%5cb", "x%00y", "a.b", "%20"])
def test_path_traversal_and_bad_names_are_refused(gw, http, name):
    url = gw.url + f"/subscriptions/{SUB}/resourceGroups/rg-names/providers/Microsoft.BatchAI/workspaces/{name}"
    answer = http.put(url, params=V, headers=gw.headers(), json={"location": "eastus"}, timeout=60)
    assert answer.status_code in (400, 404), answer.text
    assert answer.json()["error"]["code"] in ("InvalidResourceName", "NotFound", "InvalidResourceType")
    escaped = [p for p in gw.home.parent.iterdir() if p.name not in (gw.home.name, gw.home.name + "-gateway.stderr")]
    assert escaped == []


@pytest.mark.parametrize("group", ["..", "%2e%2e", "a%2fb", "."])
def test_traversal_in_resource_group(gw, http, group):
    url = gw.url + f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.BatchAI/workspaces/ws"
    answer = http.put(url, params=V, headers=gw.headers(), json={"location": "eastus"}, timeout=60)
    assert answer.status_code in (400, 404), answer.text
    assert answer.json()["error"]["code"] in ("ResourceGroupNotFound", "NotFound", "InvalidResourceType",
                                              "InvalidResourceName")


# ----------------------------------------------------------------------------------- older versions
def test_2018_03_01_and_2017_09_01_preview_share_the_default_workspace(gw, http):
    h, rg = gw.headers(), "rg-old"
    old = {"api-version": "2018-03-01"}
    body = cluster_body()
    body["location"] = "northeurope"
    created = http.put(gw.url + arm_path(rg, "clusters", "oldcl"), params=old, headers=h, json=body, timeout=60)
    assert created.status_code == 202, created.text
    assert "api-version=2018-03-01" in created.headers["Azure-AsyncOperation"]
    assert wait_operation(http, gw, created)["status"] == "Succeeded"
    got = http.get(gw.url + arm_path(rg, "clusters", "oldcl"), params=old, headers=h, timeout=60).json()
    assert got["location"] == "northeurope" and got["id"].endswith(f"/resourceGroups/{rg}/providers/Microsoft.BatchAI"
                                                                   "/clusters/oldcl")
    new = http.get(gw.url + arm_path(rg, "workspaces", "default", "clusters", "oldcl"), params=V, headers=h,
                   timeout=60)
    assert new.status_code == 200 and new.json()["name"] == "oldcl"
    for version in ("2018-03-01", "2017-09-01-preview"):
        listed = http.get(gw.url + arm_path(rg, "clusters"), params={"api-version": version}, headers=h, timeout=60)
        assert [c["name"] for c in listed.json()["value"]] == ["oldcl"]
        subscription_wide = http.get(gw.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/jobs",
                                     params={"api-version": version}, headers=h, timeout=60)
        assert subscription_wide.status_code == 200 and isinstance(subscription_wide.json()["value"], list)
    usages = http.get(gw.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/locations/northeurope/usages",
                      params=old, headers=h, timeout=60)
    assert usages.status_code == 200 and usages.json()["value"]
    _error(http.get(gw.url + f"/subscriptions/{SUB}/providers/Microsoft.BatchAI/locations/northeurope/usages",
                    params={"api-version": "2017-09-01-preview"}, headers=h, timeout=60),
           400, "NoRegisteredProviderFound")
    deleted = http.delete(gw.url + arm_path(rg, "clusters", "oldcl"), params={"api-version": "2017-09-01-preview"},
                          headers=h, timeout=60)
    assert deleted.status_code == 202
    assert wait_operation(http, gw, deleted)["status"] == "Succeeded"
    _error(http.get(gw.url + arm_path(rg, "clusters", "oldcl"), params=old, headers=h, timeout=60),
           404, "ClusterNotFound")


# --------------------------------------------------------------------------------- every route once
def _fill(route: _routes.Route, rg: str) -> str:
    values = {"sub": SUB, "rg": rg, "ws": "ws", "exp": "exp", "job": "nojob", "cluster": "nocluster", "fs": "nofs",
              "loc": "eastus", "opid": _lro.encode_id("delete", route.versions[0], arm_path(rg, "workspaces", "x"))}
    return "/" + "/".join(values[s[1:-1]] if s.startswith("{") else s for s in route.segments)


def test_every_route_answers(gw, http):
    """Each operation of the three specs reaches its operation group (an ARM answer, never a routing error)."""
    h, rg = gw.headers(), "rg-routes"
    assert http.put(gw.url + arm_path(rg, "workspaces", "ws"), params=V, headers=h, json={"location": "eastus"},
                    timeout=60).status_code == 200
    routing_errors = {"InvalidResourceType", "HttpMethodNotAllowed", "NoRegisteredProviderFound", "NotFound",
                      "InternalServerError", "MissingApiVersionParameter"}
    checked = 0
    for route in _routes.build_routes():
        for version in route.versions:
            if route.method in ("PUT", "DELETE", "POST") and route.call.kind != "page" and version != "2018-05-01":
                target_rg = rg + "-old"
            else:
                target_rg = rg
            path = _fill(route, target_rg)
            params = {"api-version": version, "outputdirectoryid": "OUTPUTS"}
            data = json.dumps({"properties": {}}).encode() if route.body else None
            answer = http.request(route.method, gw.url + path, params=params, headers=h, data=data, timeout=60)
            body = answer.json() if answer.content else {}
            if answer.status_code >= 400:
                assert body["error"]["code"] not in routing_errors, (route.operation_id, version, body)
            checked += 1
    assert checked >= 29 + 2 * 22


@pytest.mark.parametrize("version,resource", [("2018-05-01", "workspaces"), ("2018-03-01", "clusters")])
@pytest.mark.parametrize("token", ["abc", "Z2FyYmFnZQ", "eno"])
def test_bad_skiptoken_is_400(gw, http, version, resource, token):
    answer = http.get(gw.url + arm_path("rg-tokens", resource), params={"api-version": version, "$skiptoken": token},
                      headers=gw.headers(), timeout=60)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] in ("InvalidQueryParameterValue", "InvalidContinuationToken")


def test_next_links_carry_no_padding(gw, http):
    """ms-rest-js drops a query parameter whose value holds '=' when it parses a next link."""
    h, rg = gw.headers(), "rg-padding"
    for name in ("a", "b", "c"):
        assert http.put(gw.url + arm_path(rg, "workspaces", name), params=V, headers=h, json={"location": "eastus"},
                        timeout=60).status_code == 200
    link = http.get(gw.url + arm_path(rg, "workspaces"), params={"api-version": "2018-05-01", "maxresults": "1"},
                    headers=h, timeout=60).json()["nextLink"]
    token = parse_qs(urlsplit(link).query)["$skiptoken"][0]
    assert "=" not in token and "=" not in link.split("$skiptoken=")[1]
    names = []
    while link:
        page = http.get(link, headers=h, timeout=60).json()
        names += [w["name"] for w in page["value"]]
        link = page.get("nextLink")
    assert len(names) == 2


def test_access_log_masks_query_values(gw, http):
    marker = "sig-" + uuid.uuid4().hex
    http.get(gw.url + "/providers/Microsoft.BatchAI/operations",
             params={"api-version": "2018-05-01", "sig": marker, "$skiptoken": marker + "x"}, headers=gw.headers(),
             timeout=60)
    http.get(gw.url + "/providers/Microsoft.BatchAI/operations?api-version=2018-05-01&x=%0Afake%20line",
             headers={"Authorization": "Bearer " + marker}, timeout=60)
    log = gw.log_path.read_text(encoding="utf-8")
    assert marker not in log and "sig=*" in log and "$skiptoken=*" in log
    assert "\nfake" not in log and all(line.count(" ") >= 6 for line in log.splitlines())
