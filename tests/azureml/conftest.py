"""Fixtures for the azureml backend: the real azureml-core against ``batchai_compat.testing.AzureMLEmulator``.

* ``leak_proxy`` (session): ``HTTP(S)_PROXY`` point at a recording proxy and ``NO_PROXY`` lists only
  loopback, so any request that tries to leave 127.0.0.1 is recorded (and fails the test).
* ``emu``: an emulator with workspace ``(SUB, RG, WS)`` and image environments on (every process of a run
  sees only its image: no host interpreter; needs root and ``make image-rootfs``, both given in ``make test``
  and CI); teardown asserts no unrouted requests, no emulator errors and no leaked requests.
* ``client``: ``BatchAIManagementClient(..., backend="azureml", auth=emu.auth())``.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List

import pytest

SUB, RG, WS = "00000000-0000-0000-0000-000000000000", "batchai_rg", "workspace"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
              "all_proxy")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/azureml" not in str(item.fspath).replace(os.sep, "/"):
            continue
        item.add_marker(pytest.mark.azureml)
        deviations = getattr(item.module, "DEVIATIONS", None)
        if deviations and item.name in deviations:
            item.add_marker(pytest.mark.xfail(reason=deviations[item.name], strict=True))
            bounded = getattr(item.module, "WAIT_BOUNDED", {}).get(item.name)
            if bounded:  # pytest-timeout's signal method fails the test (an xfail) and runs its teardown
                item.add_marker(pytest.mark.timeout(bounded, method="signal"))


class LeakProxy:
    def __init__(self) -> None:
        self.seen: List[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self):
                proxy.seen.append(f"{self.command} {self.path}")
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_CONNECT = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session", autouse=True)
def image_environments_everywhere() -> Iterator[None]:
    """Every emulator these tests start, also those constructed directly and those in child processes, runs
    its processes in image environments (``AMLEMU_IMAGE_ENVIRONMENTS=1``, the default of
    ``AzureMLEmulator(image_environments=None)``): no run may use the host's interpreter. A test that needs
    host mode passes ``image_environments=False`` and says why."""
    saved = os.environ.get("AMLEMU_IMAGE_ENVIRONMENTS")
    os.environ["AMLEMU_IMAGE_ENVIRONMENTS"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("AMLEMU_IMAGE_ENVIRONMENTS", None)
        else:
            os.environ["AMLEMU_IMAGE_ENVIRONMENTS"] = saved


@pytest.fixture(scope="session")
def leak_proxy() -> Iterator[LeakProxy]:
    import azureml.core  # noqa: F401  -- a test dependency (requirements-test.txt): fail loudly if missing
    proxy = LeakProxy()
    saved = {k: os.environ.get(k) for k in PROXY_VARS}
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ[key] = proxy.url
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    try:
        yield proxy
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        proxy.close()


@pytest.fixture
def emu(leak_proxy, tmp_path):
    from batchai_compat.testing import AzureMLEmulator

    emulator = AzureMLEmulator(workspaces=[(SUB, RG, WS, "northeurope")], root=str(tmp_path / "emu"),
                               scale_down_after=0.5, image_environments=True)
    with emulator:
        yield emulator
    assert emulator.unrouted == [], f"unrouted requests: {emulator.unrouted}"
    assert emulator.errors == [], f"emulator errors: {emulator.errors}"
    assert leak_proxy.seen == [], f"requests left 127.0.0.1: {leak_proxy.seen}"


class _Credentials:
    """Stands for the legacy credentials object; the ``auth=`` option takes precedence."""


@pytest.fixture
def client(emu):
    from batchai_compat import BatchAIManagementClient

    c = BatchAIManagementClient(_Credentials(), SUB, backend="azureml", auth=emu.auth())
    yield c
    c.close()
