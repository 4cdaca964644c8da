"""Fixtures for driving the real azureml-core against :class:`batchai_compat.testing.AzureMLEmulator`.

* ``leak_proxy`` (per module, environment restored afterwards): a recording HTTP proxy.
  ``HTTP(S)_PROXY`` point at it and ``NO_PROXY`` lists only 127.0.0.1/localhost, so any request
  azureml-core tries to send anywhere else lands there; every test asserts it saw nothing.
* ``emu``: a started emulator with workspace ``("sub-1", "rg-1", "ws-1")`` and image environments on (runs see
  only their image, never the host's interpreter; needs root and ``make image-rootfs``); at teardown the test
  fails on unrouted requests, emulator errors or leaked requests.
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List

import pytest

SUB, RG, WS = "sub-1", "rg-1", "ws-1"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY",
              "all_proxy")


class LeakProxy:
    def __init__(self) -> None:
        self.seen: List[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: D401 - silence
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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

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


@pytest.fixture(scope="module")
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


def assert_clean(emu, leak_proxy) -> None:
    assert emu.unrouted == [], f"unrouted requests: {emu.unrouted}"
    assert emu.errors == [], f"emulator errors: {emu.errors}"
    assert leak_proxy.seen == [], f"requests left 127.0.0.1: {leak_proxy.seen}"


@pytest.fixture
def emu(leak_proxy, tmp_path):
    from batchai_compat.testing import AzureMLEmulator
    emulator = AzureMLEmulator(workspaces=[(SUB, RG, WS)], root=str(tmp_path / "emu"), scale_down_after=0.5,
                               resize_seconds=0.5, image_environments=True)
    with emulator:
        yield emulator
    assert_clean(emulator, leak_proxy)


@pytest.fixture
def ws(emu):
    from azureml.core import Workspace
    return Workspace(SUB, RG, WS, auth=emu.auth())


@pytest.fixture(scope="session", autouse=True)
def route_report():
    """With ``AMLEMU_ROUTE_REPORT=<file>``, write the routes all emulator tests hit (and those never hit)."""
    path = os.environ.get("AMLEMU_ROUTE_REPORT")
    if not path:
        yield
        return
    from batchai_compat.testing import AzureMLEmulator
    hits: dict = {}
    names: list = []
    original = AzureMLEmulator.stop

    def stop(self):
        for route, count in self.route_counts().items():
            hits[route] = hits.get(route, 0) + count
        if not names:
            names.extend(self.routes())
        original(self)

    AzureMLEmulator.stop = stop
    try:
        yield
    finally:
        AzureMLEmulator.stop = original
        with open(path, "w") as fh:
            for name in names:
                fh.write(f"{hits.get(name, 0):>6}  {name}\n")
            for name in sorted(set(hits) - set(names)):
                fh.write(f"{hits[name]:>6}  {name}\n")
