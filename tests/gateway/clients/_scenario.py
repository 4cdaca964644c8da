"""What every Python scenario script of tests/gateway/clients shares: its configuration, a step log, waits
and the ranged download.

The scripts run in the oracle virtualenvs (azure-mgmt-batchai 0.2.0, 1.0.1, 7.0.0 under .tools/oracles, 2.0.0
in the main virtualenv) where batchai_compat is not installed, so this module uses the standard library only.
It is imported by the scripts from their own directory (``python tests/gateway/clients/scenario_v2.py`` puts
that directory first on ``sys.path``).

Configuration comes as one JSON object in the environment variable ``GATEWAY_SCENARIO`` (the token stays out of
the command line, where ``ps`` would show it): ``url``, ``token``, ``subscription``, ``resource_group``,
``location``, ``account``, ``account_key``, ``share``, ``container``, ``cafile`` (https only), ``timeout``.

Output, one line per step: ``step <name> ok <seconds>`` and at the end ``PASSED <client> <n> steps``; a
failed step prints ``step <name> FAILED: ...`` and the script exits 1 (the test shows the whole output).
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import time
import traceback
import urllib.error
import urllib.request
from typing import Any, Callable, List, Optional, Tuple

# The job scenario (the same for every client): the job preparation writes a file the job reads back into
# its output directory; the job writes a file of known content for the ranged download.
PREP_TEXT = "prepared-by-job-preparation"
RESULT_TEXT = "0123456789abcdef"
STDOUT_TEXT = "hello from the gateway scenario"
PREP_COMMAND = f"echo {PREP_TEXT} > $AZ_BATCHAI_JOB_TEMP/prep.txt"
JOB_COMMAND = (f"cp $AZ_BATCHAI_JOB_TEMP/prep.txt $AZ_BATCHAI_OUTPUT_OUTPUTS/prep.txt && "
               f"printf {RESULT_TEXT} > $AZ_BATCHAI_OUTPUT_OUTPUTS/result.txt && "
               f"printf model > $AZ_BATCHAI_OUTPUT_MODELS/model.bin && echo '{STDOUT_TEXT}'")
LONG_COMMAND = "sleep 600"
FAIL_EXIT_CODE = 3
FAIL_COMMAND = f"echo failing on purpose >&2; exit {FAIL_EXIT_CODE}"
SHARE_MOUNT = "azfiles"
BLOB_MOUNT = "bfs"
ADMIN_USER = "demoUser"
ADMIN_PASSWORD = "Pa$$w0rd-of-the-gateway-scenario"


def config() -> dict:
    """The scenario's configuration (see the module docstring)."""
    return json.loads(os.environ["GATEWAY_SCENARIO"])


class Steps:
    """The step log: each step runs, is timed and printed; the first failure ends the script."""

    def __init__(self, client_name: str, package_file: str) -> None:
        self.client_name = client_name
        self.names: List[str] = []
        self.started = time.monotonic()
        print(f"client {client_name} from {os.path.dirname(package_file)}", flush=True)

    def run(self, name: str, action: Callable[[], Any]) -> Any:
        began = time.monotonic()
        try:
            value = action()
        except BaseException as exc:  # report which step, then stop
            print(f"step {name} FAILED: {type(exc).__name__}: {exc}", flush=True)
            traceback.print_exc()
            sys.exit(1)
        self.names.append(name)
        print(f"step {name} ok {time.monotonic() - began:.2f}", flush=True)
        return value

    def passed(self) -> None:
        # The original client ran on its own: nothing of this project was imported into the process.
        check(not any(name.split(".")[0] == "batchai_compat" for name in sys.modules),
              "batchai_compat was imported into the scenario's process")
        print(f"PASSED {self.client_name} {len(self.names)} steps in {time.monotonic() - self.started:.1f} s",
              flush=True)


def check(condition: Any, message: str) -> None:
    """An assertion that survives ``python -O``."""
    if not condition:
        raise AssertionError(message)


def value(enum_or_str: Any) -> Any:
    """An enum field's wire value: 0.2.0's enums are plain ``Enum`` (``ProvisioningState.succeeded`` is not
    ``"succeeded"``), later generations' are ``str`` enums or strings."""
    return getattr(enum_or_str, "value", enum_or_str)


def wait_for(probe: Callable[[], Any], what: str, timeout: float, interval: float = 0.2) -> Any:
    """Call ``probe`` until it returns something truthy (a generous ``timeout``: a loaded machine is slow)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def http_get(url: str, cafile: Optional[str] = None, byte_range: Optional[Tuple[int, int]] = None
             ) -> Tuple[int, dict, bytes]:
    """GET ``url`` (a download URL the service handed out: signed, no Authorization header, as users fetched
    them), optionally with ``Range: bytes=a-b``; returns status, lower-cased headers and body."""
    request = urllib.request.Request(url)
    if byte_range is not None:
        request.add_header("Range", f"bytes={byte_range[0]}-{byte_range[1]}")
    context = ssl.create_default_context(cafile=cafile) if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def check_download(url: str, cafile: Optional[str] = None) -> None:
    """The whole file, then its first five bytes with ``Range`` (206, ``Content-Range``, exactly those bytes)."""
    status, _, body = http_get(url, cafile)
    check(status == 200, f"download: HTTP {status}")
    check(body == RESULT_TEXT.encode(), f"download: body {body!r}")
    status, headers, body = http_get(url, cafile, (0, 4))
    check(status == 206, f"ranged download: HTTP {status}, expected 206")
    check(body == RESULT_TEXT[:5].encode(), f"ranged download: body {body!r}, expected {RESULT_TEXT[:5]!r}")
    expected_range = f"bytes 0-4/{len(RESULT_TEXT)}"
    check(headers.get("content-range") == expected_range,
          f"ranged download: Content-Range {headers.get('content-range')!r}, expected {expected_range!r}")


def status_code(error: BaseException) -> Optional[int]:
    """The HTTP status of a client's error (msrestazure's CloudError, azure-core's HttpResponseError)."""
    for attribute in ("status_code",):
        value = getattr(error, attribute, None)
        if isinstance(value, int):
            return value
    response = getattr(error, "response", None)
    for attribute in ("status_code", "status"):
        value = getattr(response, attribute, None)
        if isinstance(value, int):
            return value
    return None


def error_code(error: BaseException) -> Optional[str]:
    """The ARM error code a client's error carries: msrestazure's ``CloudError.error.error``, azure-core's
    ``HttpResponseError.error.code``."""
    data = getattr(error, "error", None)
    for attribute in ("code", "error"):
        value = getattr(data, attribute, None)
        if isinstance(value, str):
            return value
    # azure-core's ClientAuthenticationError (401) keeps only the response: read the ARM envelope from it.
    response = getattr(error, "response", None)
    text = getattr(response, "text", None)
    try:
        body = json.loads(text() if callable(text) else text or "")
        return body["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def expect_401(call: Callable[[], Any]) -> None:
    """``call`` made with a wrong token fails with the client's own error: HTTP 401, ``AuthenticationFailed``."""
    try:
        call()
    except Exception as error:  # the client's error type differs per generation
        status = status_code(error)
        check(status == 401, f"wrong token: expected 401, got {type(error).__name__} with status {status}: {error}")
        check(error_code(error) == "AuthenticationFailed", f"wrong token: error code {error_code(error)!r}")
        return
    raise AssertionError("a wrong token was accepted")


def expect_404(get: Callable[[], Any], what: str, code: str) -> None:
    """``get`` fails with the client's own error carrying HTTP 404 and the service's error code, e.g.
    ``JobNotFound`` (what users test after a delete)."""
    try:
        get()
    except Exception as error:  # the client's error type differs per generation
        status = status_code(error)
        check(status == 404, f"{what}: expected 404, got {type(error).__name__} with status {status}: {error}")
        check(error_code(error) == code, f"{what}: error code {error_code(error)!r}, expected {code!r}")
        return
    raise AssertionError(f"{what}: still there after its delete")
