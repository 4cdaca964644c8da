"""The signed loopback file server, over real HTTP."""

from __future__ import annotations

import http.client
import logging
import os
import socket
import stat
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from batchai_compat import _fileserver
from batchai_compat._fileserver import signed_url, stop_server

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    yield root
    stop_server()


@pytest.fixture
def data_file(home: Path) -> Path:
    path = home / "storage" / "acct" / "shares" / "afs" / "out dir" / "result #1.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(PAYLOAD)
    return path


def _key(home: Path) -> bytes:
    return bytes.fromhex((home / "run" / "fileserver.key").read_text().strip())


def _forged(home: Path, url_of_any_file: str, raw_path: str, rel_signed: str) -> str:
    """A request target for ``raw_path`` carrying a *valid* signature for ``rel_signed``: the
    server must refuse escapes on its own, not only because the signature does not match."""
    expiry = parse_qs(urlsplit(url_of_any_file).query)["se"][0]
    sig = _fileserver._signature(_key(home), rel_signed, expiry)
    return f"{raw_path}?se={quote(expiry)}&sig={sig}"


def _raw_get(url: str, target: str) -> http.client.HTTPResponse:
    """GET with the request target sent verbatim (requests/urllib3 would normalise ``..``)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", target)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_full_get(home: Path, data_file: Path) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    assert url.startswith("http://127.0.0.1:")
    assert "/storage/acct/shares/afs/out%20dir/result%20%231.bin?se=" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == PAYLOAD
    assert response.headers["Content-Length"] == str(len(PAYLOAD))
    assert response.headers["Content-Type"] == "application/octet-stream"
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert abs(modified.timestamp() - data_file.stat().st_mtime) < 1.5


def test_head(home: Path, data_file: Path) -> None:
    response = requests.head(signed_url(data_file, expiry_minutes=5, home=home), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(PAYLOAD))
    assert response.content == b""


@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=10-19", 10, 19), ("bytes=10000-", 10000, 10239), ("bytes=-7", 10233, 10239),
     ("bytes=10230-99999", 10230, 10239), ("bytes=-999999", 0, 10239)],
)
def test_ranges(home: Path, data_file: Path, header: str, start: int, end: int) -> None:
    response = requests.get(signed_url(data_file, expiry_minutes=5, home=home), headers={"Range": header},
                            timeout=10)
    assert response.status_code == 206
    assert response.content == PAYLOAD[start:end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert response.headers["Content-Length"] == str(end - start + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-20010", "bytes=-0"])
def test_unsatisfiable_range(home: Path, data_file: Path, header: str) -> None:
    response = requests.get(signed_url(data_file, expiry_minutes=5, home=home), headers={"Range": header},
                            timeout=10)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(PAYLOAD)}"


def test_malformed_range_is_ignored(home: Path, data_file: Path) -> None:
    response = requests.get(signed_url(data_file, expiry_minutes=5, home=home),
                            headers={"Range": "bytes=9-3"}, timeout=10)
    assert response.status_code == 200
    assert response.content == PAYLOAD


def test_expired_url_is_forbidden(home: Path, data_file: Path) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rel = urlsplit(url).path
    sig = _fileserver._signature(_key(home), rel[1:].replace("%20", " ").replace("%23", "#"), past)
    response = requests.get(f"{url.split('?')[0]}?se={quote(past)}&sig={sig}", timeout=10)
    assert response.status_code == 403


def test_extending_expiry_breaks_the_signature(home: Path, data_file: Path) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    later = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    response = requests.get(f"{url.split('?')[0]}?se={quote(later)}&sig={sig}", timeout=10)
    assert response.status_code == 403


@pytest.mark.parametrize("mutate", ["sig", "path", "drop"])
def test_tampered_url_is_forbidden(home: Path, data_file: Path, mutate: str) -> None:
    other = data_file.with_name("other.bin")
    other.write_bytes(b"other")
    url = signed_url(data_file, expiry_minutes=5, home=home)
    if mutate == "sig":
        sig = parse_qs(urlsplit(url).query)["sig"][0]
        url = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    elif mutate == "path":
        url = url.replace("result%20%231.bin", "other.bin")
    else:
        url = url.split("&sig=")[0]
    response = requests.get(url, timeout=10)
    assert response.status_code == 403
    assert response.content != PAYLOAD


def test_missing_file_is_404(home: Path, data_file: Path) -> None:
    url = signed_url(data_file.with_name("not-yet-written.txt"), expiry_minutes=5, home=home)
    assert requests.get(url, timeout=10).status_code == 404


def test_directory_is_refused(home: Path, data_file: Path) -> None:
    url = signed_url(data_file.parent, expiry_minutes=5, home=home)
    assert requests.get(url, timeout=10).status_code == 403


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not yours")
    return secret


@pytest.mark.parametrize(
    "raw, signed",
    [
        ("/../outside/secret.txt", "../outside/secret.txt"),
        ("/storage/../../outside/secret.txt", "storage/../../outside/secret.txt"),
        ("/%2e%2e/outside/secret.txt", "../outside/secret.txt"),
        ("/storage/%2E%2E%2f%2e%2e%2Foutside/secret.txt", "storage/../../outside/secret.txt"),
        ("/" + "%2e%2e/" * 30 + "etc/passwd", "../" * 30 + "etc/passwd"),
    ],
)
def test_path_escape_is_refused_even_with_valid_signature(
    home: Path, data_file: Path, outside: Path, raw: str, signed: str
) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    response = _raw_get(url, _forged(home, url, raw, signed))
    assert response.status in (403, 404)


def test_symlink_pointing_outside_home_is_refused(home: Path, data_file: Path, outside: Path) -> None:
    link = data_file.parent / "link.txt"
    link.symlink_to(outside)
    dir_link = data_file.parent / "linkdir"
    dir_link.symlink_to(outside.parent, target_is_directory=True)
    for path in (link, dir_link / "secret.txt"):
        response = requests.get(signed_url(path, expiry_minutes=5, home=home), timeout=10)
        assert response.status_code == 403
        assert b"not yours" not in response.content


def test_symlink_inside_home_is_served(home: Path, data_file: Path) -> None:
    link = home / "nodes" / "c" / "n" / "mounts" / "afs"
    link.parent.mkdir(parents=True)
    link.symlink_to(data_file.parent, target_is_directory=True)
    response = requests.get(signed_url(link / data_file.name, expiry_minutes=5, home=home), timeout=10)
    assert response.status_code == 200
    assert response.content == PAYLOAD


def test_signed_url_refuses_paths_outside_home(home: Path, outside: Path) -> None:
    with pytest.raises(ValueError):
        signed_url(outside, expiry_minutes=5, home=home)
    with pytest.raises(ValueError):
        signed_url(home / ".." / "outside" / "secret.txt", expiry_minutes=5, home=home)
    with pytest.raises(ValueError):
        signed_url(Path("relative.txt"), expiry_minutes=5, home=home)
    with pytest.raises(ValueError):
        signed_url(home / "x", expiry_minutes=0, home=home)


def test_key_file_is_private_and_stable(home: Path, data_file: Path) -> None:
    signed_url(data_file, expiry_minutes=5, home=home)
    key_path = home / "run" / "fileserver.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = _key(home)
    assert len(key) == 32
    stop_server()  # a new server (or process) on the same home reuses the key
    signed_url(data_file, expiry_minutes=5, home=home)
    assert _key(home) == key
    assert [p.name for p in key_path.parent.iterdir() if p.name.startswith(".fileserver")] == []


def test_key_creation_race_yields_one_key(home: Path) -> None:
    import threading

    keys = []
    threads = [threading.Thread(target=lambda: keys.append(_fileserver._load_or_create_key(home)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1


def test_server_is_bound_to_loopback_only(home: Path, data_file: Path) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    served = _fileserver._servers[home.resolve()]
    host, port = served.server.socket.getsockname()[:2]
    assert host == "127.0.0.1"
    assert port == urlsplit(url).port
    assert served.thread.daemon


def test_one_server_per_home(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    try:
        for root in (a, b):
            (root / "f").parent.mkdir(parents=True, exist_ok=True)
            (root / "f").write_text(root.name)
        url_a = signed_url(a / "f", expiry_minutes=5, home=a)
        url_b = signed_url(b / "f", expiry_minutes=5, home=b)
        assert urlsplit(url_a).port != urlsplit(url_b).port
        assert requests.get(url_a, timeout=10).text == "a"
        assert requests.get(url_b, timeout=10).text == "b"
    finally:
        stop_server()


def test_env_home_is_used_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHAI_COMPAT_HOME", str(tmp_path / "envhome"))
    target = tmp_path / "envhome" / "x.txt"
    target.parent.mkdir(parents=True)
    target.write_text("env")
    try:
        assert requests.get(signed_url(target, expiry_minutes=1), timeout=10).text == "env"
    finally:
        stop_server()


def test_logs_never_contain_signatures(home: Path, data_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="batchai_compat._fileserver")
    url = signed_url(data_file, expiry_minutes=5, home=home)
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    requests.get(url, timeout=10)
    requests.get(url.replace(sig, "f" * 64), timeout=10)
    # A malformed request line, which http.server logs itself (with the raw line).
    with socket.create_connection(("127.0.0.1", urlsplit(url).port), timeout=10) as sock:
        sock.sendall(f"GET /x y?sig={sig} HTTP/1.1\r\n\r\n".encode())
        sock.recv(4096)
    ours = [r.getMessage() for r in caplog.records if r.name == "batchai_compat._fileserver"]
    assert any(m.startswith("GET /storage/") for m in ours)
    assert any("Bad request syntax" in m for m in ours)
    assert all(sig not in m and "sig=" not in m and "se=" not in m for m in ours)


def test_stop_server_closes_the_port(home: Path, data_file: Path) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    stop_server()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)
    assert os.path.exists(home / "run" / "fileserver.key")


def test_batch_signer_matches_signed_url_and_refuses_outside_paths(home: Path, data_file: Path) -> None:
    sign = _fileserver.signer(expiry_minutes=5, home=home)
    url = sign(os.path.realpath(data_file))
    assert requests.get(url, timeout=10).content == data_file.read_bytes()
    single = signed_url(data_file, expiry_minutes=5, home=home)
    assert urlsplit(url).path == urlsplit(single).path
    with pytest.raises(ValueError):
        sign("/etc/passwd")


# -- issue 11 item 2: a signed URL serves the signed file and nothing else ----------------------------
def _home_secrets(home: Path) -> dict:
    """Files under the home a URL must never hand out, with their contents."""
    (home / "state.db").write_bytes(b"SQLite format 3\x00 control plane")
    (home / "state.db-wal").write_bytes(b"wal with another job's secret value")
    found = {"run/fileserver.key": (home / "run" / "fileserver.key").read_bytes()}
    for rel in ("state.db", "state.db-wal"):
        found[rel] = (home / rel).read_bytes()
    return found


@pytest.mark.parametrize("target", ["state.db", "state.db-wal", "run/fileserver.key"])
def test_signed_file_replaced_by_symlink_after_signing_is_refused(home: Path, data_file: Path, target: str) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    assert requests.get(url, timeout=10).content == PAYLOAD
    secrets = _home_secrets(home)
    data_file.unlink()
    data_file.symlink_to(home / target)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403
    assert secrets[target] not in response.content


def test_signed_directory_replaced_by_symlink_after_signing_is_refused(home: Path, data_file: Path) -> None:
    """The directory on the path is swapped for a link to ``run/``: the key has the signed name."""
    victim = data_file.parent / "fileserver.key"
    victim.write_bytes(b"harmless output")
    url = signed_url(victim, expiry_minutes=5, home=home)
    key = (home / "run" / "fileserver.key").read_bytes()
    moved = data_file.parent.with_name("moved")
    data_file.parent.rename(moved)
    data_file.parent.symlink_to(home / "run", target_is_directory=True)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403
    assert key not in response.content


def test_symlink_made_before_signing_is_signed_as_its_target(home: Path, data_file: Path) -> None:
    """A job's link to a sibling in its output directory is served (the URL names the target); a
    link to the key made before signing yields a URL that serves nothing."""
    sibling = data_file.parent / "latest.bin"
    sibling.symlink_to(data_file.name)
    url = signed_url(sibling, expiry_minutes=5, home=home)
    assert "/result%20%231.bin?" in url
    assert requests.get(url, timeout=10).content == PAYLOAD
    to_key = data_file.parent / "key.txt"
    to_key.symlink_to(home / "run" / "fileserver.key")
    response = requests.get(signed_url(to_key, expiry_minutes=5, home=home), timeout=10)
    assert response.status_code == 403
    assert (home / "run" / "fileserver.key").read_bytes() not in response.content


def test_key_and_database_are_never_served_even_when_signed(home: Path, data_file: Path) -> None:
    signed_url(data_file, expiry_minutes=5, home=home)
    secrets = _home_secrets(home)
    for rel, content in secrets.items():
        response = requests.get(signed_url(home / rel, expiry_minutes=5, home=home), timeout=10)
        assert response.status_code == 403, rel
        assert content not in response.content
    hard = data_file.parent / "copy-of-key"
    os.link(home / "run" / "fileserver.key", hard)  # a job could hard-link it into its outputs
    response = requests.get(signed_url(hard, expiry_minutes=5, home=home), timeout=10)
    assert response.status_code == 403
    assert secrets["run/fileserver.key"] not in response.content


def test_symlink_swap_race_never_serves_another_file(home: Path, data_file: Path) -> None:
    """A thread swaps the signed file for a link to the key and back as fast as it can, while
    downloads run: every answer is the signed file or a refusal (no check-then-open window)."""
    import threading
    import time

    url = signed_url(data_file, expiry_minutes=5, home=home)
    key = (home / "run" / "fileserver.key").read_bytes()
    real = data_file.with_name("real.bin")
    link = data_file.with_name("link.bin")
    os.link(data_file, real)
    link.symlink_to(home / "run" / "fileserver.key")
    stop = threading.Event()
    swaps = [0]

    def swapper() -> None:
        while not stop.is_set():
            os.replace(link, data_file)  # the signed name is now a symlink to the key
            link.symlink_to(home / "run" / "fileserver.key")
            os.link(real, real.with_name("real2.bin"))
            os.replace(real.with_name("real2.bin"), data_file)  # and the real file again
            swaps[0] += 1
            time.sleep(0.001)  # let the server's threads have the GIL too

    thread = threading.Thread(target=swapper)
    thread.start()
    statuses: dict = {}
    try:
        with requests.Session() as session:
            ends = time.monotonic() + 3.0
            while time.monotonic() < ends or sum(statuses.values()) < 20:
                response = session.get(url, timeout=10)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert key not in response.content
                assert response.status_code in (200, 403, 404)
                if response.status_code == 200:
                    assert response.content == PAYLOAD
    finally:
        stop.set()
        thread.join()
    print(f"swap race: {swaps[0]} swaps, answers {statuses}")
    assert swaps[0] > 10


# -- issue 11 item 6: bounded connections and time --------------------------------------------------
def _threads() -> int:
    import threading

    return threading.active_count()


def _half_sent(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /storage/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_slowloris_neither_blocks_downloads_nor_holds_a_thread_each(home: Path, data_file: Path) -> None:
    url = signed_url(data_file, expiry_minutes=5, home=home)
    server = _fileserver._servers[home.resolve()].server
    server.header_timeout = 3.0
    port = urlsplit(url).port
    baseline = _threads()
    slow = [_half_sent(port) for _ in range(160)]
    try:
        for _ in range(5):  # downloads go through while 160 connections hang
            assert requests.get(url, timeout=10).content == PAYLOAD
        peak = _threads()
        print(f"slowloris: 160 half-sent connections, {peak - baseline} extra threads "
              f"(bound {server.max_connections}), {server.evictions} evicted")
        assert peak - baseline <= server.max_connections + 2
        # Every half-sent connection is closed by the server by the header deadline at the latest.
        assert all(_closed_by_server(sock, within=server.header_timeout + 2) for sock in slow)
    finally:
        for sock in slow:
            sock.close()
    assert requests.get(url, timeout=10).content == PAYLOAD  # recovered
    deadline = datetime.now() + timedelta(seconds=5)
    while _threads() > baseline + 1 and datetime.now() < deadline:
        import time

        time.sleep(0.05)
    assert _threads() <= baseline + 1


def test_trickled_headers_are_cut_at_the_header_deadline(home: Path, data_file: Path) -> None:
    """One byte every 0.2 s never trips an idle timeout; the header deadline still ends it."""
    import time

    url = signed_url(data_file, expiry_minutes=5, home=home)
    server = _fileserver._servers[home.resolve()].server
    server.header_timeout = 1.5
    sock = socket.create_connection(("127.0.0.1", urlsplit(url).port), timeout=10)
    started = time.monotonic()
    closed = False
    try:
        for byte in b"GET /storage/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            sock.setblocking(False)
            try:
                if sock.recv(4096) == b"":
                    closed = True
                    break
            except BlockingIOError:
                pass
            except OSError:
                closed = True
                break
            finally:
                sock.setblocking(True)
    finally:
        sock.close()
    elapsed = time.monotonic() - started
    assert closed, "the server kept a trickling connection open for good"
    assert elapsed < server.header_timeout + 2.0


def test_keep_alive_between_requests_is_bounded(home: Path, data_file: Path) -> None:
    """A kept-alive connection serves several requests, then is closed when idle too long."""
    url = signed_url(data_file, expiry_minutes=5, home=home)
    server = _fileserver._servers[home.resolve()].server
    server.header_timeout = 1.0
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    for _ in range(3):
        conn.request("GET", f"{parts.path}?{parts.query}")
        assert conn.getresponse().read() == PAYLOAD
    assert _closed_by_server(conn.sock, within=3.0)
    conn.close()


def test_every_slot_sending_answers_503_then_recovers(home: Path, data_file: Path) -> None:
    big = data_file.with_name("big.bin")
    with open(big, "wb") as fh:
        fh.truncate(256 * 1024 * 1024)  # sparse: reading it costs no disk
    url = signed_url(big, expiry_minutes=5, home=home)
    server = _fileserver._servers[home.resolve()].server
    server.max_connections = 2
    parts = urlsplit(url)
    readers = []
    for _ in range(2):  # two downloads that stop reading: their handlers block sending
        sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        readers.append(sock)
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with server.connections_lock:
            if sum(c.busy for c in server.connections.values()) == 2:
                break
        time.sleep(0.02)
    try:
        response = requests.get(signed_url(data_file, expiry_minutes=5, home=home), timeout=10)
        assert response.status_code == 503
    finally:
        for sock in readers:
            sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = requests.get(signed_url(data_file, expiry_minutes=5, home=home), timeout=10)
        if response.status_code == 200:
            break
        time.sleep(0.1)
    assert response.status_code == 200 and response.content == PAYLOAD


def test_kept_alive_requests_do_not_wait_for_delayed_acks(home: Path, data_file: Path) -> None:
    """Headers and body are separate writes; with Nagle's algorithm each response on a kept-alive
    connection waited ~40 ms for the client's delayed ACK (notebooks downloading many small files)."""
    import time

    url = signed_url(data_file, expiry_minutes=5, home=home)
    with requests.Session() as session:
        session.get(url, timeout=10)
        started = time.perf_counter()
        for _ in range(30):
            assert session.get(url, timeout=10).content == PAYLOAD
        elapsed = time.perf_counter() - started
    print(f"30 kept-alive downloads of 10 KiB: {elapsed * 1000:.0f} ms")
    assert elapsed < 0.6  # 30 x 40 ms = 1.2 s with the delay; ~30 ms without
